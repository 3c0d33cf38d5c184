import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidRequestError, InvalidTokenError, NotFoundError } from '../errors/index.ts';

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

/** A token as stored (only a hash of its secret). */
export interface ApiTokenRow {
  id: string;
  user_name: string;
  label: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  /** `storedKey:serverKey` in base64 (tokens made before SCRAM support have none). */
  scram_verifier: string | null;
}

/**
 * Where API tokens live (docs/scale-out.md): the control store, SQLite or PostgreSQL
 * (src/store/api-token-repository.ts). The logic (hashing, expiry, SCRAM) stays in ApiTokenStore.
 */
export interface ApiTokenRepository {
  /** NotFoundError when the token's user does not exist (checked in the same transaction). */
  insert(row: ApiTokenRow): Promise<void>;
  find(id: string): Promise<ApiTokenRow | undefined>;
  /** Every token, or one user's, oldest first. */
  list(user?: string): Promise<ApiTokenRow[]>;
  /** Sets revoked_at unless the token is revoked already. */
  revoke(id: string, at: string): Promise<void>;
  /** A user's tokens that are not revoked and have a SCRAM verifier. */
  scramCapable(user: string): Promise<ApiTokenRow[]>;
  /** Sets last_used_at to `at` unless it is already at or after `notBefore`. */
  markUsed(id: string, at: string, notBefore: string): Promise<void>;
}

/** PostgreSQL's default iteration count for SCRAM-SHA-256 verifiers. */
export const SCRAM_ITERATIONS = 4096;

/** A token's SCRAM-SHA-256 verifier: what a server keeps to check a proof without the secret. */
export interface ScramVerifier {
  readonly tokenId: string;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/**
 * The SCRAM salt of a user's tokens. One salt per user (public, as PostgreSQL's per-role salt) so
 * that a client's proof can be checked against each of the user's tokens in one exchange.
 */
export function scramSalt(user: string): Buffer {
  return createHash('sha256').update(`veil-scram-salt:${user}`, 'utf8').digest().subarray(0, 16);
}

/** RFC 5802 / 7677: SaltedPassword, then StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey. */
function scramVerifierOf(password: string, salt: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}

export class ApiTokenStore {
  constructor(private readonly tokens: ApiTokenRepository) {}

  /** Creates a token; the returned secret is shown once and never stored. */
  async create(options: { user: string; label: string; createdBy: string; expiresInDays?: number }, now = new Date()): Promise<{ token: string; info: ApiTokenInfo }> {
    if (!LABEL_PATTERN.test(options.label)) throw new InvalidRequestError('a token label is 1-100 letters, digits, spaces or _.:@/-');
    const days = options.expiresInDays ?? DEFAULT_API_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_API_TOKEN_DAYS) throw new InvalidRequestError(`expires_in_days must be a whole number from 1 to ${MAX_API_TOKEN_DAYS}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const token = `${API_TOKEN_PREFIX}${id}_${secret}`;
    const verifier = scramVerifierOf(token, scramSalt(options.user));
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
      scram_verifier: `${verifier.storedKey.toString('base64')}:${verifier.serverKey.toString('base64')}`,
    };
    await this.tokens.insert(row);
    return { token, info: infoOf(row) };
  }

  async list(user?: string): Promise<ApiTokenInfo[]> {
    return (await this.tokens.list(user)).map(infoOf);
  }

  async find(id: string): Promise<ApiTokenInfo | undefined> {
    const row = await this.tokens.find(id);
    return row === undefined ? undefined : infoOf(row);
  }

  async get(id: string): Promise<ApiTokenInfo> {
    const info = await this.find(id);
    if (info === undefined) throw new NotFoundError(`API token ${id}`);
    return info;
  }

  /** Revokes a token; it stops working on the next request. Revoking twice is harmless. */
  async revoke(id: string, now = new Date()): Promise<ApiTokenInfo> {
    await this.get(id);
    await this.tokens.revoke(id, now.toISOString());
    return this.get(id);
  }

  /** SCRAM verifiers of a user's usable tokens (not revoked, not expired, created with one). */
  async scramVerifiers(user: string, now = new Date()): Promise<ScramVerifier[]> {
    return (await this.tokens.scramCapable(user))
      .filter((r) => r.expires_at === null || Date.parse(r.expires_at) > now.getTime())
      .map((r) => {
        const [stored = '', server = ''] = (r.scram_verifier ?? '').split(':');
        return { tokenId: r.id, storedKey: Buffer.from(stored, 'base64'), serverKey: Buffer.from(server, 'base64') };
      });
  }

  /** Records a use of a token proven by SCRAM (as verify() does for a presented secret). */
  async markUsed(id: string, now = new Date()): Promise<void> {
    await this.tokens.markUsed(id, now.toISOString(), new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString());
  }

  /** The user a presented token belongs to; every failure is the same opaque rejection. */
  async verify(token: string, now = new Date()): Promise<string> {
    const match = TOKEN_PATTERN.exec(token);
    if (match === null) throw new InvalidTokenError('malformed API token');
    const row = await this.tokens.find(match[1]!);
    // Hash even when the id is unknown, so timing does not tell which ids exist.
    const presented = Buffer.from(hashSecret(match[2]!), 'hex');
    const stored = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
    if (row === undefined || !timingSafeEqual(presented, stored)) throw new InvalidTokenError('invalid API token');
    if (row.revoked_at !== null) throw new InvalidTokenError('API token revoked');
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) throw new InvalidTokenError('API token expired');
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) await this.markUsed(row.id, now);
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
