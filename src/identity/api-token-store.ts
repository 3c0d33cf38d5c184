import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidRequestError, InvalidTokenError, NotFoundError } from '../errors/index.ts';
import type { SqliteDatabase } from '../store/index.ts';

/**
 * API tokens for service accounts (scheduled jobs, BI tools): long random secrets that Veil
 * issues, lists and revokes. Only a SHA-256 of the secret part is stored (the secret is 256 random
 * bits, so a fast hash is enough: there is nothing to brute-force). Revocation and user removal
 * take effect on the next request, because every request looks the token up.
 *
 * Format: `veil_pat_<id>_<secret>`; the prefix lets secret scanners find leaked tokens and lets
 * Veil tell them from JWTs without trying to parse them.
 */
export const API_TOKEN_PREFIX = 'veil_pat_';
const TOKEN_PATTERN = /^veil_pat_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const LABEL_PATTERN = /^[\p{L}\p{N} _.:@/-]{1,100}$/u;
/** Tokens expire after a year unless asked otherwise: forgotten tokens should not live forever. */
export const DEFAULT_API_TOKEN_DAYS = 365;
export const MAX_API_TOKEN_DAYS = 3650;
/** last_used_at is a write per request otherwise; a minute is precise enough to spot dead tokens. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiTokenInfo {
  readonly id: string;
  readonly user: string;
  readonly label: string;
  readonly created_at: string;
  readonly created_by: string;
  readonly expires_at: string | null;
  readonly last_used_at: string | null;
  readonly revoked_at: string | null;
}

interface ApiTokenRow {
  id: string;
  user_name: string;
  label: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export class ApiTokenStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Creates a token; the returned secret is shown once and never stored. */
  create(options: { user: string; label: string; createdBy: string; expiresInDays?: number }, now = new Date()): { token: string; info: ApiTokenInfo } {
    if (!LABEL_PATTERN.test(options.label)) throw new InvalidRequestError('a token label is 1-100 letters, digits, spaces or _.:@/-');
    const days = options.expiresInDays ?? DEFAULT_API_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_API_TOKEN_DAYS) throw new InvalidRequestError(`expires_in_days must be a whole number from 1 to ${MAX_API_TOKEN_DAYS}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row: ApiTokenRow = {
      id,
      user_name: options.user,
      label: options.label,
      secret_hash: hashSecret(secret),
      created_at: now.toISOString(),
      created_by: options.createdBy,
      expires_at: new Date(now.getTime() + days * 86_400_000).toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, user_name, label, secret_hash, created_at, created_by, expires_at, last_used_at, revoked_at)
         VALUES (@id, @user_name, @label, @secret_hash, @created_at, @created_by, @expires_at, @last_used_at, @revoked_at)`,
      )
      .run(row);
    return { token: `${API_TOKEN_PREFIX}${id}_${secret}`, info: infoOf(row) };
  }

  list(user?: string): ApiTokenInfo[] {
    const rows = (user === undefined
      ? this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all()
      : this.db.prepare('SELECT * FROM api_tokens WHERE user_name = ? ORDER BY created_at, id').all(user)) as ApiTokenRow[];
    return rows.map(infoOf);
  }

  find(id: string): ApiTokenInfo | undefined {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as ApiTokenRow | undefined;
    return row === undefined ? undefined : infoOf(row);
  }

  get(id: string): ApiTokenInfo {
    const info = this.find(id);
    if (info === undefined) throw new NotFoundError(`API token ${id}`);
    return info;
  }

  /** Revokes a token; it stops working on the next request. Revoking twice is harmless. */
  revoke(id: string, now = new Date()): ApiTokenInfo {
    const info = this.get(id);
    if (info.revoked_at === null) this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(now.toISOString(), id);
    return this.get(id);
  }

  /** The user a presented token belongs to; every failure is the same opaque rejection. */
  verify(token: string, now = new Date()): string {
    const match = TOKEN_PATTERN.exec(token);
    if (match === null) throw new InvalidTokenError('malformed API token');
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(match[1]) as ApiTokenRow | undefined;
    // Hash even when the id is unknown, so timing does not tell which ids exist.
    const presented = Buffer.from(hashSecret(match[2]!), 'hex');
    const stored = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
    if (row === undefined || !timingSafeEqual(presented, stored)) throw new InvalidTokenError('invalid API token');
    if (row.revoked_at !== null) throw new InvalidTokenError('API token revoked');
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) throw new InvalidTokenError('API token expired');
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now.toISOString(), row.id);
    }
    return row.user_name;
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function infoOf(row: ApiTokenRow): ApiTokenInfo {
  return {
    id: row.id,
    user: row.user_name,
    label: row.label,
    created_at: row.created_at,
    created_by: row.created_by,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  };
}
