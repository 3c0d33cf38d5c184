import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { auditRecordCount, chainHashAt, chainHead } from '../store/audit-trail.ts';
import type { SqlExecutor } from '../store/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import { canonicalJson } from './audit-chain.ts';

/**
 * A checkpoint is the chain's head (event sequence number and hash) signed with the server's
 * Ed25519 audit key. Kept outside the server (a ticket, a WORM bucket, an e-mail to compliance),
 * it proves later that the chain up to that point is unchanged, which the chain alone cannot:
 * deleting the newest events leaves a shorter chain that still links.
 */
export const CHECKPOINT_FORMAT = 'veil-audit-checkpoint/1';

export interface AuditCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly event_seq: number;
  readonly hash: string;
  readonly records: number;
  readonly created_at: string;
  /** The verifying key (SPKI PEM), so third parties can check the signature. */
  readonly public_key: string;
  readonly signature: string;
}

function signedText(c: Pick<AuditCheckpoint, 'format' | 'event_seq' | 'hash' | 'records' | 'created_at'>): Buffer {
  return Buffer.from(canonicalJson({ format: c.format, event_seq: c.event_seq, hash: c.hash, records: c.records, created_at: c.created_at }), 'utf8');
}

export async function createCheckpoint(db: SqlExecutor, signingKey: KeyObject, now = new Date()): Promise<AuditCheckpoint> {
  const head = await chainHead(db);
  if (head === undefined) throw new InvalidRequestError('the audit chain is empty: nothing to checkpoint yet');
  const records = await auditRecordCount(db);
  const body = { format: CHECKPOINT_FORMAT, event_seq: head.seq, hash: head.hash, records, created_at: now.toISOString() } as const;
  return {
    ...body,
    public_key: createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString(),
    signature: sign(null, signedText(body), signingKey).toString('base64url'),
  };
}

export function parseCheckpoint(text: string, source: string): AuditCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequestError(`${source} is not a checkpoint (not JSON)`);
  }
  const c = value as Partial<AuditCheckpoint>;
  if (c?.format !== CHECKPOINT_FORMAT || typeof c.event_seq !== 'number' || typeof c.hash !== 'string' || typeof c.signature !== 'string' || typeof c.created_at !== 'string' || typeof c.records !== 'number' || typeof c.public_key !== 'string') {
    throw new InvalidRequestError(`${source} is not a ${CHECKPOINT_FORMAT} file`);
  }
  return c as AuditCheckpoint;
}

/** Checks the signature with the key the verifier trusts, then that the chain still has that head. */
export async function verifyCheckpoint(db: SqlExecutor, checkpoint: AuditCheckpoint, trusted: KeyObject): Promise<{ ok: boolean; reason: string }> {
  const trustedKey = trusted.type === 'private' ? createPublicKey(trusted) : trusted;
  const trustedPem = trustedKey.export({ type: 'spki', format: 'pem' }).toString();
  if (checkpoint.public_key.trim() !== trustedPem.trim()) return { ok: false, reason: 'the checkpoint was signed with another key than this home\'s audit key' };
  let valid = false;
  try {
    valid = verify(null, signedText(checkpoint), trustedKey, Buffer.from(checkpoint.signature, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'the checkpoint signature is invalid (the file was altered)' };
  const hash = await chainHashAt(db, checkpoint.event_seq);
  if (hash === undefined) return { ok: false, reason: `event ${checkpoint.event_seq} of the checkpoint is missing: the chain was truncated` };
  if (hash !== checkpoint.hash) return { ok: false, reason: `event ${checkpoint.event_seq} no longer has the checkpoint's hash: the chain was rewritten` };
  return { ok: true, reason: `the chain up to event ${checkpoint.event_seq} (${checkpoint.created_at}) is the one checkpointed` };
}
