import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { InvalidRequestError } from '../errors/index.ts';
import { canonicalJson } from './audit-chain.ts';

/**
 * Retention: the oldest records can be pruned while the rest of the chain stays verifiable. The
 * last pruned event's hash becomes a signed anchor (the same Ed25519 key as checkpoints), and
 * verification starts from it: the first remaining event must follow the anchor exactly, so
 * pruning cannot be used to hide a deletion just after the cut.
 */
export interface AuditAnchor {
  readonly format: 'veil-audit-anchor/1';
  /** The last pruned event, whose hash the first remaining event names as its predecessor. */
  readonly event_seq: number;
  readonly hash: string;
  /** Records up to this sequence number were pruned (later outcomes of them are ignored). */
  readonly last_record_seq: number;
  readonly pruned_records: number;
  readonly pruned_before: string;
  readonly created_at: string;
  readonly public_key: string;
  readonly signature: string;
}

export interface PruneResult {
  readonly pruned_records: number;
  readonly pruned_events: number;
  readonly anchor: AuditAnchor | null;
}

function signedText(a: Omit<AuditAnchor, 'public_key' | 'signature'>): Buffer {
  const { format, event_seq, hash, last_record_seq, pruned_records, pruned_before, created_at } = a;
  return Buffer.from(canonicalJson({ format, event_seq, hash, last_record_seq, pruned_records, pruned_before, created_at }), 'utf8');
}

export function readAnchor(db: Database.Database): AuditAnchor | undefined {
  const row = db.prepare('SELECT anchor FROM audit_anchor WHERE id = 1').get() as { anchor: string } | undefined;
  return row === undefined ? undefined : (JSON.parse(row.anchor) as AuditAnchor);
}

/** Whether the anchor was signed by the key the verifier trusts and not altered since. */
export function anchorSignatureValid(anchor: AuditAnchor, trusted: KeyObject): boolean {
  const key = trusted.type === 'private' ? createPublicKey(trusted) : trusted;
  if (anchor.public_key.trim() !== key.export({ type: 'spki', format: 'pem' }).toString().trim()) return false;
  try {
    return verify(null, signedText(anchor), key, Buffer.from(anchor.signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * Deletes the records that began before `before`, with their chain events, in one transaction.
 * The cut is at the first record that is kept: every event before it goes (outcomes of pruned
 * records that arrived later stay in the chain, since removing them would break it).
 */
export function pruneAudit(db: Database.Database, signingKey: KeyObject, before: Date, now = new Date()): PruneResult {
  if (Number.isNaN(before.getTime())) throw new InvalidRequestError('the retention cut-off is not a valid date');
  return db.transaction((): PruneResult => {
    const firstKept = db.prepare('SELECT min(seq) AS seq FROM audit_log WHERE event_time >= ?').get(before.toISOString()) as { seq: number | null };
    const cutRecord = firstKept.seq ?? (db.prepare('SELECT coalesce(max(seq), 0) + 1 AS seq FROM audit_log').get() as { seq: number }).seq;
    const cutEvent = firstKept.seq === null
      ? (db.prepare('SELECT coalesce(max(seq), 0) + 1 AS seq FROM audit_chain').get() as { seq: number }).seq
      : (db.prepare("SELECT seq FROM audit_chain WHERE kind = 'begin' AND record_seq = ?").get(cutRecord) as { seq: number } | undefined)?.seq;
    if (cutEvent === undefined) throw new InvalidRequestError('the first record to keep has no chain event: run `veil audit verify` first');
    const last = db.prepare('SELECT seq, hash FROM audit_chain WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(cutEvent) as { seq: number; hash: string } | undefined;
    if (last === undefined) return { pruned_records: 0, pruned_events: 0, anchor: readAnchor(db) ?? null };
    const lastRecord = (db.prepare("SELECT coalesce(max(record_seq), 0) AS seq FROM audit_chain WHERE kind = 'begin' AND seq <= ?").get(last.seq) as { seq: number }).seq;
    const prunedRecords = db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(lastRecord).changes;
    const prunedEvents = db.prepare('DELETE FROM audit_chain WHERE seq <= ?').run(last.seq).changes;
    const previous = readAnchor(db);
    const body = {
      format: 'veil-audit-anchor/1' as const,
      event_seq: last.seq,
      hash: last.hash,
      last_record_seq: lastRecord,
      pruned_records: (previous?.pruned_records ?? 0) + prunedRecords,
      pruned_before: before.toISOString(),
      created_at: now.toISOString(),
    };
    const anchor: AuditAnchor = {
      ...body,
      public_key: createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString(),
      signature: sign(null, signedText(body), signingKey).toString('base64url'),
    };
    db.prepare('INSERT INTO audit_anchor (id, anchor) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET anchor = excluded.anchor').run(JSON.stringify(anchor));
    return { pruned_records: prunedRecords, pruned_events: prunedEvents, anchor };
  }).immediate();
}
