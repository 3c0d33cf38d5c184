import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { deleteAuditPrefix, readAnchorText, retentionCut, writeAnchorText } from '../store/audit-trail.ts';
import type { SqlExecutor, SqlStore } from '../store/index.ts';
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

export async function readAnchor(db: SqlExecutor): Promise<AuditAnchor | undefined> {
  const text = await readAnchorText(db);
  return text === undefined ? undefined : (JSON.parse(text) as AuditAnchor);
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
export async function pruneAudit(store: SqlStore, signingKey: KeyObject, before: Date, now = new Date()): Promise<PruneResult> {
  if (Number.isNaN(before.getTime())) throw new InvalidRequestError('the retention cut-off is not a valid date');
  return store.transaction(async (db): Promise<PruneResult> => {
    const { cutEvent, last, lastRecord } = await retentionCut(db, before.toISOString());
    if (cutEvent === undefined) throw new InvalidRequestError('the first record to keep has no chain event: run `veil audit verify` first');
    if (last === undefined) return { pruned_records: 0, pruned_events: 0, anchor: (await readAnchor(db)) ?? null };
    const pruned = await deleteAuditPrefix(db, lastRecord, last.seq);
    const previous = await readAnchor(db);
    const body = {
      format: 'veil-audit-anchor/1' as const,
      event_seq: last.seq,
      hash: last.hash,
      last_record_seq: lastRecord,
      pruned_records: (previous?.pruned_records ?? 0) + pruned.records,
      pruned_before: before.toISOString(),
      created_at: now.toISOString(),
    };
    const anchor: AuditAnchor = {
      ...body,
      public_key: createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString(),
      signature: sign(null, signedText(body), signingKey).toString('base64url'),
    };
    await writeAnchorText(db, JSON.stringify(anchor));
    return { pruned_records: pruned.records, pruned_events: pruned.events, anchor };
  });
}
