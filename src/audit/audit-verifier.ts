import type { KeyObject } from 'node:crypto';
import { wholeAuditTrail } from '../store/audit-trail.ts';
import type { SqlExecutor } from '../store/index.ts';
import { canonicalJson, eventHash, GENESIS_HASH } from './audit-chain.ts';
import { anchorSignatureValid, readAnchor } from './audit-retention.ts';
import { AUDIT_COLUMNS, AUDIT_LIST_FIELDS } from './audit-types.ts';

/** Where verification first found the trail altered. */
export interface AuditBreak {
  /** Sequence number of the chain event, when the break is in the chain. */
  readonly event_seq: number | null;
  /** Sequence number of the audit record concerned. */
  readonly record_seq: number | null;
  /** request_id of that record, as far as it can still be read. */
  readonly request_id: string | null;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly events: number;
  readonly records: number;
  /** Records written before the chain existed (homes upgraded from an earlier version). */
  readonly unchained_records: number;
  readonly head: { readonly event_seq: number; readonly hash: string } | null;
  /** Where the chain starts after retention pruned its beginning. */
  readonly anchor: { readonly event_seq: number; readonly pruned_records: number; readonly pruned_before: string; readonly signature: 'valid' | 'unchecked' } | null;
  readonly first_break: AuditBreak | null;
}

const COMPLETION_FIELDS = ['decision', 'rows_returned', 'bytes_returned', 'duration_ms', 'error_code'] as const;

/**
 * Checks an audit store end to end: (1) the chain, event by event in sequence order: each event
 * names its predecessor's hash and its own hash is the HMAC of its content; (2) the records:
 * replaying the events must give exactly the rows of audit_log, field by field, no row more and
 * none less. Reports the first break in the chain, else the first record that differs.
 */
export async function verifyAuditStore(db: SqlExecutor, chainKey: Buffer, options: { anchorKey?: KeyObject } = {}): Promise<AuditVerification> {
  const anchor = await readAnchor(db);
  const { events, records: rows } = await wholeAuditTrail(db);
  const rowBySeq = new Map(rows.map((row) => [Number(row['seq']), row]));
  const requestIdOf = (recordSeq: number | null): string | null => {
    const value = recordSeq === null ? undefined : rowBySeq.get(recordSeq)?.['request_id'];
    return typeof value === 'string' ? value : null;
  };
  const result = (first: AuditBreak | null, unchained: number): AuditVerification => {
    const last = events.at(-1);
    return {
      ok: first === null,
      events: events.length,
      records: rows.length,
      unchained_records: unchained,
      head: last === undefined ? null : { event_seq: last.seq, hash: last.hash },
      anchor:
        anchor === undefined
          ? null
          : { event_seq: anchor.event_seq, pruned_records: anchor.pruned_records, pruned_before: anchor.pruned_before, signature: options.anchorKey === undefined ? 'unchecked' : 'valid' },
      first_break: first,
    };
  };

  // (1) The chain itself, from the genesis or from the retention anchor.
  const expected = new Map<number, { state: Record<string, unknown>; hash: string }>();
  let prev = GENESIS_HASH;
  if (anchor !== undefined) {
    if (options.anchorKey !== undefined && !anchorSignatureValid(anchor, options.anchorKey)) {
      return result({ event_seq: anchor.event_seq, record_seq: null, request_id: null, reason: 'the retention anchor is not signed by this home\'s audit key (it was altered)' }, 0);
    }
    prev = anchor.hash;
    // Adjacency is proven by the hashes, not by sequence numbers: PostgreSQL's sequences skip the
    // numbers of rolled-back writes (a replica killed mid-transaction), SQLite's do not.
    const first = events[0];
    if (first !== undefined && (first.seq <= anchor.event_seq || first.prev_hash !== anchor.hash)) {
      return result({ event_seq: first.seq, record_seq: first.record_seq, request_id: requestIdOf(first.record_seq), reason: 'events right after the retention anchor are missing' }, 0);
    }
  }
  const prunedUpTo = anchor?.last_record_seq ?? 0;
  for (const event of events) {
    const broken = (reason: string): AuditVerification =>
      result({ event_seq: event.seq, record_seq: event.record_seq, request_id: requestIdOf(event.record_seq), reason }, 0);
    if (event.prev_hash !== prev) return broken('the event does not follow the one before it (an event was deleted, inserted or moved)');
    if (eventHash(chainKey, event.prev_hash, event.kind, event.record_seq, event.payload) !== event.hash) {
      return broken('the event was altered (its hash does not match its content)');
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(event.payload) as Record<string, unknown>;
    } catch {
      return broken('the event content is not JSON');
    }
    const current = expected.get(event.record_seq);
    if (event.kind === 'begin') {
      if (current !== undefined) return broken('a second begin event for the same record');
      expected.set(event.record_seq, { state: payload, hash: event.hash });
    } else if (event.kind === 'finish') {
      if (current === undefined && event.record_seq <= prunedUpTo) {
        prev = event.hash; // the outcome of a record pruned by retention
        continue;
      }
      if (current === undefined) return broken('an outcome for a record that was never begun');
      expected.set(event.record_seq, { state: { ...current.state, ...payload }, hash: event.hash });
    } else {
      return broken(`unknown event kind ${String(event.kind)}`);
    }
    prev = event.hash;
  }

  // (2) The records: what the chain says, exactly.
  const firstChained = events.find((e) => e.kind === 'begin')?.record_seq ?? Number.POSITIVE_INFINITY;
  let unchained = 0;
  for (const row of rows) {
    const seq = Number(row['seq']);
    const entry = expected.get(seq);
    if (entry === undefined) {
      if (seq < firstChained && row['record_hash'] === null) {
        unchained++;
        continue;
      }
      return result({ event_seq: null, record_seq: seq, request_id: requestIdOf(seq), reason: 'a record that is not in the chain (inserted)' }, unchained);
    }
    const difference = differingField(row, entry.state);
    if (difference !== null) return result({ event_seq: null, record_seq: seq, request_id: requestIdOf(seq), reason: `the record was altered (${difference})` }, unchained);
    if (row['record_hash'] !== entry.hash) return result({ event_seq: null, record_seq: seq, request_id: requestIdOf(seq), reason: 'the record_hash does not match the chain' }, unchained);
    expected.delete(seq);
  }
  const missing = [...expected.keys()].sort((a, b) => a - b)[0];
  if (missing !== undefined) {
    const state = expected.get(missing)?.state;
    return result({ event_seq: null, record_seq: missing, request_id: typeof state?.['request_id'] === 'string' ? state['request_id'] : null, reason: 'the record was deleted' }, unchained);
  }
  return result(null, unchained);
}

function differingField(row: Record<string, unknown>, state: Record<string, unknown>): string | null {
  for (const column of AUDIT_COLUMNS) {
    const name = column.name;
    let stored: unknown = row[name];
    if (AUDIT_LIST_FIELDS.has(name) && typeof stored === 'string') {
      try {
        stored = JSON.parse(stored);
      } catch {
        return name;
      }
    }
    const chained = (COMPLETION_FIELDS as readonly string[]).includes(name) || name in state ? state[name] : undefined;
    if (canonicalJson(stored ?? null) !== canonicalJson(chained ?? null)) return name;
  }
  return null;
}
