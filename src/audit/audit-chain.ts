import { createHmac } from 'node:crypto';

/**
 * The audit trail as an append-only hash chain. Every change to a record is an event: `begin`
 * (the access, written before any result byte leaves) and `finish` (its outcome). Each event's
 * hash is an HMAC over the previous event's hash and the event itself, so editing, deleting,
 * inserting or reordering any event breaks every hash after it, and, because the HMAC key stays
 * in the home's keys/ directory, a chain cannot be recomputed by someone who can only write the
 * audit file. Signed checkpoints (audit-checkpoint.ts) also catch a truncated tail.
 *
 * The queryable audit_log table is derived from these events; `verifyAuditStore` replays the
 * events and compares, so an edit of that table is caught too.
 */
export type ChainEventKind = 'begin' | 'finish';

export const GENESIS_HASH = '0'.repeat(64);
const HASH_DOMAIN = 'veil-audit-chain/1';

export interface ChainEvent {
  readonly seq: number;
  readonly kind: ChainEventKind;
  readonly record_seq: number;
  /** Canonical JSON of the event's fields (the record for begin, the outcome for finish). */
  readonly payload: string;
  readonly prev_hash: string;
  readonly hash: string;
}

export function eventHash(key: Buffer, prevHash: string, kind: ChainEventKind, recordSeq: number, payload: string): string {
  // Fields are separated by newlines and the payload is last: JSON cannot make one event's
  // fields read as another's.
  return createHmac('sha256', key).update(`${HASH_DOMAIN}\n${prevHash}\n${kind}\n${recordSeq}\n${payload}`, 'utf8').digest('hex');
}

/** JSON with object keys sorted at every level: the same fields always give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
