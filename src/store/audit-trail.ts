import type { SqlExecutor, SqlValue } from './sql-store.ts';

/**
 * The audit trail's SQL (tables audit_log, audit_chain, audit_anchor), the same on SQLite and
 * PostgreSQL. What the rows mean (the chain's hashes, verification, retention) is src/audit's;
 * these functions only read and write them, on whatever executor they are given: a writer's
 * transaction, or a snapshot for verification and export.
 */
export type AuditRow = Record<string, unknown>;

export interface ChainEventRow {
  readonly seq: number;
  readonly kind: 'begin' | 'finish';
  readonly record_seq: number;
  readonly payload: string;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface AuditOutcomeRow {
  readonly decision: string;
  readonly rows_returned: number | null;
  readonly bytes_returned: number | null;
  readonly duration_ms: number;
  readonly error_code: string | null;
}

const insertStatements = new Map<string, string>();

/** Inserts a record (values in `columns` order); returns its sequence number. */
export async function insertAuditRecord(tx: SqlExecutor, columns: readonly string[], values: readonly SqlValue[]): Promise<number> {
  const key = columns.join(',');
  let sql = insertStatements.get(key);
  if (sql === undefined) {
    sql = `INSERT INTO audit_log (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING seq`;
    insertStatements.set(key, sql);
  }
  const inserted = await tx.get<{ seq: number }>(sql, values);
  if (inserted === undefined) throw new Error('the audit store returned no sequence number');
  return Number(inserted.seq);
}

export async function setRecordHash(tx: SqlExecutor, seq: number, hash: string): Promise<void> {
  await tx.run('UPDATE audit_log SET record_hash = ? WHERE seq = ?', [hash, seq]);
}

export async function completeAuditRecord(tx: SqlExecutor, seq: number, outcome: AuditOutcomeRow, recordHash: string): Promise<void> {
  await tx.run('UPDATE audit_log SET decision = ?, rows_returned = ?, bytes_returned = ?, duration_ms = ?, error_code = ?, record_hash = ? WHERE seq = ?', [
    outcome.decision,
    outcome.rows_returned,
    outcome.bytes_returned,
    outcome.duration_ms,
    outcome.error_code,
    recordHash,
    seq,
  ]);
}

/** The newest chain event, if any. */
export function chainHead(db: SqlExecutor): Promise<{ seq: number; hash: string } | undefined> {
  return db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1');
}

export async function insertChainEvent(tx: SqlExecutor, event: Omit<ChainEventRow, 'seq'>): Promise<void> {
  await tx.run('INSERT INTO audit_chain (kind, record_seq, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?)', [event.kind, event.record_seq, event.payload, event.prev_hash, event.hash]);
}

export async function chainHashAt(db: SqlExecutor, seq: number): Promise<string | undefined> {
  return (await db.get<{ hash: string }>('SELECT hash FROM audit_chain WHERE seq = ?', [seq]))?.hash;
}

export async function auditRecordCount(db: SqlExecutor): Promise<number> {
  return (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n ?? 0;
}

export async function oldestAuditRecord(db: SqlExecutor): Promise<number | null> {
  return (await db.get<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit_log'))?.seq ?? null;
}

export async function lastChainSeq(db: SqlExecutor): Promise<number> {
  return (await db.get<{ seq: number }>('SELECT coalesce(max(seq), 0) AS seq FROM audit_chain'))?.seq ?? 0;
}

/** Chain events after `seq`, oldest first (which records changed since). */
export function chainEventsAfter(db: SqlExecutor, seq: number): Promise<{ seq: number; record_seq: number }[]> {
  return db.all<{ seq: number; record_seq: number }>('SELECT seq, record_seq FROM audit_chain WHERE seq > ? ORDER BY seq', [seq]);
}

/** Up to `limit` records after `seq`, within [since, until) of event_time when given. */
export function auditRecordsAfter(db: SqlExecutor, seq: number, limit: number, window: { since?: string; until?: string } = {}): Promise<AuditRow[]> {
  const conditions = ['seq > ?'];
  const params: SqlValue[] = [seq];
  if (window.since !== undefined) {
    conditions.push('event_time >= ?');
    params.push(window.since);
  }
  if (window.until !== undefined) {
    conditions.push('event_time < ?');
    params.push(window.until);
  }
  return db.all<AuditRow>(`SELECT * FROM audit_log WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ${Math.max(1, Math.floor(limit))}`, params);
}

export function auditRecordsBetween(db: SqlExecutor, from: number, to: number): Promise<AuditRow[]> {
  return db.all<AuditRow>('SELECT * FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq', [from, to]);
}

export function auditRecordsIn(db: SqlExecutor, seqs: readonly number[]): Promise<AuditRow[]> {
  return db.all<AuditRow>(`SELECT * FROM audit_log WHERE seq IN (${seqs.map(() => '?').join(',')})`, seqs);
}

/** The whole trail, for verification (read it in a snapshot). */
export async function wholeAuditTrail(db: SqlExecutor): Promise<{ events: ChainEventRow[]; records: AuditRow[] }> {
  const events = await db.all<ChainEventRow>('SELECT seq, kind, record_seq, payload, prev_hash, hash FROM audit_chain ORDER BY seq');
  const records = await db.all<AuditRow>('SELECT * FROM audit_log ORDER BY seq');
  return { events, records };
}

export async function readAnchorText(db: SqlExecutor): Promise<string | undefined> {
  return (await db.get<{ anchor: string }>('SELECT anchor FROM audit_anchor WHERE id = 1'))?.anchor;
}

export async function writeAnchorText(tx: SqlExecutor, text: string): Promise<void> {
  await tx.run('INSERT INTO audit_anchor (id, anchor) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET anchor = excluded.anchor', [text]);
}

/**
 * Where retention cuts the trail: the chain event just before the first record that began at or
 * after `before` (or the whole chain when none did), and the last record begun up to it.
 * `undefined` cutEvent: the first record to keep has no begin event (an unchained trail).
 */
export async function retentionCut(db: SqlExecutor, before: string): Promise<{ cutEvent: number | undefined; last: { seq: number; hash: string } | undefined; lastRecord: number }> {
  const firstKept = (await db.get<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit_log WHERE event_time >= ?', [before]))?.seq ?? null;
  const cutEvent =
    firstKept === null
      ? ((await db.get<{ seq: number }>('SELECT coalesce(max(seq), 0) + 1 AS seq FROM audit_chain'))?.seq ?? 1)
      : (await db.get<{ seq: number }>("SELECT seq FROM audit_chain WHERE kind = 'begin' AND record_seq = ?", [firstKept]))?.seq;
  if (cutEvent === undefined) return { cutEvent, last: undefined, lastRecord: 0 };
  const last = await db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain WHERE seq < ? ORDER BY seq DESC LIMIT 1', [cutEvent]);
  const lastRecord = last === undefined ? 0 : ((await db.get<{ seq: number }>("SELECT coalesce(max(record_seq), 0) AS seq FROM audit_chain WHERE kind = 'begin' AND seq <= ?", [last.seq]))?.seq ?? 0);
  return { cutEvent, last, lastRecord };
}

/** Deletes records up to `lastRecord` and chain events up to `lastEvent`; returns how many of each. */
export async function deleteAuditPrefix(tx: SqlExecutor, lastRecord: number, lastEvent: number): Promise<{ records: number; events: number }> {
  const records = await tx.run('DELETE FROM audit_log WHERE seq <= ?', [lastRecord]);
  const events = await tx.run('DELETE FROM audit_chain WHERE seq <= ?', [lastEvent]);
  return { records, events };
}
