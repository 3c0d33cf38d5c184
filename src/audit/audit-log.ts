import type { KeyObject } from 'node:crypto';
import Database from 'better-sqlite3';
import { INTERNAL_SCHEMA, type DuckDbEngine } from '../engine/index.ts';
import { canonicalJson, eventHash, GENESIS_HASH, type ChainEventKind } from './audit-chain.ts';
import { pruneAudit, type PruneResult } from './audit-retention.ts';
import type { OpenLineageWriter } from './openlineage.ts';
import { AUDIT_COLUMNS, AUDIT_DATASET_COLUMNS, AUDIT_LIST_FIELDS as LIST_FIELDS, type AuditCompletion, type AuditRecord } from './audit-types.ts';

export const AUDIT_TABLE = `${INTERNAL_SCHEMA}.audit_records`;

/**
 * The audit trail. Records live in their own SQLite file (WAL, synchronous=FULL), so a record is on
 * disk before `begin` returns, and so before any byte of a result is released. Records are bound
 * as parameters and lists stored as JSON: CR/LF or quotes in a statement are data, never structure.
 *
 * Every write is also an event of the hash chain (audit-chain.ts), appended in the same
 * transaction. The transaction is IMMEDIATE, so processes sharing a home (a server and the CLI)
 * append one after the other and the chain never forks.
 *
 * For querying, records are mirrored into an internal DuckDB table that backs the governed
 * veil_system.audit_log dataset; the mirror catches up before every read of that dataset.
 */
export class AuditLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly complete: Database.Statement;
  /** Records to copy into the mirror at the next flush. */
  private readonly dirty = new Set<number>();
  /**
   * The last chain event the mirror has seen. Chain events name every record begun or completed,
   * by this process or another one sharing the home (the CLI), so the mirror follows them all.
   */
  private mirroredChainSeq = 0;
  private mirrorQueue: Promise<void> = Promise.resolve();

  private readonly appendEvent: (kind: ChainEventKind, recordSeq: number, payload: string) => string;
  private readonly beginTransaction: (row: Record<string, unknown>, payload: string) => number;
  private readonly finishTransaction: (seq: number, completion: AuditCompletion) => void;

  constructor(
    file: string,
    private readonly engine: DuckDbEngine,
    /** HMAC key of the chain (keys/audit-chain.key). */
    chainKey: Buffer,
    /** Optional copy of data accesses as OpenLineage run events. */
    private readonly lineage?: OpenLineageWriter,
  ) {
    this.db = openAuditDatabase(file);
    const names = AUDIT_COLUMNS.map((c) => `"${c.name}"`).join(', ');
    this.insert = this.db.prepare(`INSERT INTO audit_log (${names}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c.name}`).join(', ')})`);
    this.complete = this.db.prepare(
      `UPDATE audit_log SET decision = @decision, rows_returned = @rows_returned, bytes_returned = @bytes_returned,
       duration_ms = @duration_ms, error_code = @error_code, record_hash = @record_hash WHERE seq = @seq`,
    );
    const head = this.db.prepare('SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1');
    const insertEvent = this.db.prepare('INSERT INTO audit_chain (kind, record_seq, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
    const setHash = this.db.prepare('UPDATE audit_log SET record_hash = ? WHERE seq = ?');
    this.appendEvent = (kind, recordSeq, payload) => {
      const prev = (head.get() as { hash: string } | undefined)?.hash ?? GENESIS_HASH;
      const hash = eventHash(chainKey, prev, kind, recordSeq, payload);
      insertEvent.run(kind, recordSeq, payload, prev, hash);
      return hash;
    };
    const begin = this.db.transaction((row: Record<string, unknown>, payload: string) => {
      const seq = Number(this.insert.run(row).lastInsertRowid);
      setHash.run(this.appendEvent('begin', seq, payload), seq);
      return seq;
    });
    this.beginTransaction = (row, payload) => begin.immediate(row, payload);
    const finish = this.db.transaction((seq: number, completion: AuditCompletion) => {
      const recordHash = this.appendEvent('finish', seq, canonicalJson(completion));
      this.complete.run({ seq, ...completion, record_hash: recordHash });
    });
    this.finishTransaction = (seq, completion) => finish.immediate(seq, completion);
  }

  /** Durably records an access before it proceeds. Returns the record's sequence number. */
  begin(record: AuditRecord): number {
    const row: Record<string, unknown> = {};
    const payload: Record<string, unknown> = {};
    for (const column of AUDIT_COLUMNS) {
      const value = record[column.name];
      row[column.name] = LIST_FIELDS.has(column.name) ? JSON.stringify(value) : value;
      payload[column.name] = value;
    }
    const seq = this.beginTransaction(row, canonicalJson(payload));
    this.dirty.add(seq);
    this.lineage?.started(seq, record);
    return seq;
  }

  /** Adds the outcome (rows, bytes, duration, error) once the response is finished. */
  finish(seq: number, completion: AuditCompletion): void {
    const { decision, rows_returned, bytes_returned, duration_ms, error_code } = completion;
    this.finishTransaction(seq, { decision, rows_returned, bytes_returned, duration_ms, error_code });
    this.dirty.add(seq);
    this.lineage?.finished(seq, completion);
  }

  /** Writes a finished record in one step (denials, failures before execution, metadata calls). */
  record(record: AuditRecord): number {
    return this.begin(record);
  }

  /** Creates the mirror table and loads every stored record into it. */
  async initializeMirror(): Promise<void> {
    const columns = AUDIT_DATASET_COLUMNS.map((c) => `"${c.name}" ${LIST_FIELDS.has(c.name) ? 'VARCHAR' : c.type}`).join(', ');
    await this.engine.runInternal(`CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (seq BIGINT PRIMARY KEY, ${columns})`);
    this.mirroredChainSeq = (this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM audit_chain').get() as { seq: number }).seq;
    const all = this.db.prepare('SELECT seq FROM audit_log').all() as { seq: number }[];
    for (const { seq } of all) this.dirty.add(seq);
    await this.syncMirror();
  }

  /** Brings the DuckDB mirror up to date; serialized so concurrent readers never interleave. */
  syncMirror(): Promise<void> {
    this.mirrorQueue = this.mirrorQueue.then(() => this.flushDirty());
    return this.mirrorQueue;
  }

  /** SQL of the view behind veil_system.audit_log: lists restored from their JSON text. */
  viewSql(): string {
    const select = AUDIT_DATASET_COLUMNS.map((c) =>
      LIST_FIELDS.has(c.name) ? `CAST(from_json("${c.name}", '["VARCHAR"]') AS VARCHAR[]) AS "${c.name}"` : `"${c.name}"`,
    ).join(', ');
    return `SELECT ${select} FROM ${AUDIT_TABLE}`;
  }

  /** Allowed reads (queries, scans) per dataset over the last `days` days: popularity for search. */
  async datasetPopularity(days: number, now = new Date()): Promise<Map<string, number>> {
    await this.syncMirror();
    const since = new Date(now.getTime() - days * 86_400_000).toISOString();
    const rows = await this.engine.runInternal<[string, number | string]>(
      `SELECT dataset, count(*) FROM (SELECT unnest(CAST(from_json(datasets, '["VARCHAR"]') AS VARCHAR[])) AS dataset FROM ${AUDIT_TABLE}
       WHERE decision = 'allowed' AND statement_type IN ('query', 'scan') AND event_time >= CAST(? AS TIMESTAMP)) GROUP BY dataset`,
      [since],
    );
    return new Map(rows.map(([dataset, count]) => [dataset, Number(count)]));
  }

  /**
   * Retention: prunes records that began before `before` (audit-retention.ts) and drops them from
   * the queryable mirror too.
   */
  async prune(signingKey: KeyObject, before: Date): Promise<PruneResult> {
    const result = pruneAudit(this.db, signingKey, before);
    if (result.pruned_records > 0 && result.anchor !== null) {
      const upTo = result.anchor.last_record_seq;
      this.mirrorQueue = this.mirrorQueue.then(async () => {
        await this.engine.runInternal(`DELETE FROM ${AUDIT_TABLE} WHERE seq <= ?`, [upTo]);
      });
      await this.mirrorQueue;
    }
    return result;
  }

  close(): void {
    this.db.close();
  }

  private async flushDirty(): Promise<void> {
    const changed = this.db.prepare('SELECT seq, record_seq FROM audit_chain WHERE seq > ? ORDER BY seq').all(this.mirroredChainSeq) as { seq: number; record_seq: number }[];
    for (const event of changed) {
      this.dirty.add(event.record_seq);
      this.mirroredChainSeq = event.seq;
    }
    while (this.dirty.size > 0) {
      const batch = [...this.dirty].slice(0, 500);
      for (const seq of batch) this.dirty.delete(seq);
      const rows = this.db.prepare(`SELECT * FROM audit_log WHERE seq IN (${batch.map(() => '?').join(',')})`).all(...batch) as Record<string, unknown>[];
      if (rows.length === 0) continue;
      const placeholders = rows.map(() => `(${['seq', ...AUDIT_DATASET_COLUMNS.map((c) => c.name)].map(() => '?').join(', ')})`).join(', ');
      const params: (string | number | null)[] = [];
      for (const row of rows) {
        params.push(Number(row['seq']));
        for (const c of AUDIT_DATASET_COLUMNS) {
          const value = row[c.name];
          params.push(value === undefined || value === null ? null : typeof value === 'number' ? value : String(value));
        }
      }
      await this.engine.runInternal(
        `INSERT OR REPLACE INTO ${AUDIT_TABLE} (seq, ${AUDIT_DATASET_COLUMNS.map((c) => `"${c.name}"`).join(', ')}) VALUES ${placeholders}`,
        params,
      );
    }
  }
}

/**
 * Opens (and creates or upgrades) an audit store. Homes from before the chain get the chain table
 * and the record_hash column; their earlier records stay, reported by verification as unchained.
 */
export function openAuditDatabase(file: string, options: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, options.readonly === true ? { readonly: true, fileMustExist: true } : {});
  db.pragma('busy_timeout = 5000');
  if (options.readonly === true) return db;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ${AUDIT_COLUMNS.map((c) => `"${c.name}" ${sqliteType(c.type)}`).join(',\n    ')}
  )`);
  const present = new Set((db.prepare('PRAGMA table_info(audit_log)').all() as { name: string }[]).map((c) => c.name));
  if (!present.has('record_hash')) db.exec('ALTER TABLE audit_log ADD COLUMN record_hash TEXT');
  db.exec(`CREATE TABLE IF NOT EXISTS audit_chain (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    record_seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  )`);
  db.exec('CREATE TABLE IF NOT EXISTS audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), anchor TEXT NOT NULL)');
  return db;
}

function sqliteType(duckdbType: string): string {
  if (duckdbType.startsWith('VARCHAR') || duckdbType === 'TIMESTAMP') return 'TEXT';
  return duckdbType === 'DOUBLE' ? 'REAL' : 'INTEGER';
}
