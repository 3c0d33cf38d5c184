import { InvalidTokenError } from '../errors/index.ts';

/**
 * Compact JWS/JWT handling shared by Veil's own issuer and the OIDC verifier: splitting, decoding
 * and the time and audience checks. Signature checks live with the keys (local-token-issuer.ts,
 * jwks.ts), because the algorithm is a property of the key, never of the token (RFC 8725 3.1).
 */
export const MAX_TOKEN_LENGTH = 32 * 1024;

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `<header>.<payload>` exactly as received: what the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/**
 * Splits and decodes a compact JWS without trusting anything in it. Rejects what no Veil key
 * accepts anyway (JWE, unencoded payloads, critical extensions) so that later code sees only the
 * shapes it handles. Messages never echo the token.
 */
export function decodeJwt(token: string): DecodedJwt {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError(parts.length === 5 ? 'encrypted tokens (JWE) are not accepted' : 'malformed token');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJsonPart(headerPart, 'header');
  if (header['crit'] !== undefined) throw new InvalidTokenError('unsupported critical header');
  if (header['b64'] === false) throw new InvalidTokenError('unencoded payloads are not accepted');
  if (typeof header['alg'] !== 'string') throw new InvalidTokenError('token header has no algorithm');
  const signature = Buffer.from(signaturePart, 'base64url');
  // Only the canonical spelling: otherwise several strings would carry the same signature.
  if (!/^[A-Za-z0-9_-]+$/.test(signaturePart) || signature.toString('base64url') !== signaturePart) throw new InvalidTokenError('malformed signature');
  return {
    header,
    claims: decodeJsonPart(payloadPart, 'payload'),
    signingInput: `${headerPart}.${payloadPart}`,
    signature,
  };
}

export interface TimeCheck {
  readonly nowMs: number;
  readonly clockSkewSeconds: number;
}

/**
 * `exp` is required; `nbf` and `iat` are checked when present. All three must be numbers (a
 * string "exp" is a malformed token, not a token without expiry).
 */
export function checkTimes(claims: Readonly<Record<string, unknown>>, { nowMs, clockSkewSeconds }: TimeCheck): void {
  const seconds = Math.floor(nowMs / 1000);
  const exp = claims['exp'];
  if (exp === undefined) throw new InvalidTokenError('token has no expiry (exp)');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('malformed exp claim');
  if (exp + clockSkewSeconds <= seconds) throw new InvalidTokenError('token expired');
  for (const name of ['nbf', 'iat'] as const) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidTokenError(`malformed ${name} claim`);
    if (value - clockSkewSeconds > seconds) throw new InvalidTokenError(name === 'nbf' ? 'token not yet valid' : 'token issued in the future');
  }
}

/** `aud` may be a string or a list (RFC 7519 4.1.3); one of the accepted audiences must be in it. */
export function checkAudience(claims: Readonly<Record<string, unknown>>, accepted: readonly string[]): void {
  const audience = claims['aud'];
  const values = typeof audience === 'string' ? [audience] : Array.isArray(audience) ? audience : [];
  if (!values.some((value) => typeof value === 'string' && accepted.includes(value))) throw new InvalidTokenError('wrong audience');
}

/** The issuer a token claims, before anything is verified: only used to pick the keys to verify with. */
export function unverifiedIssuer(token: string): string | undefined {
  try {
    const issuer = decodeJwt(token).claims['iss'];
    return typeof issuer === 'string' ? issuer : undefined;
  } catch {
    return undefined;
  }
}

export function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new InvalidTokenError(`malformed ${what}`);
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new InvalidTokenError(`malformed ${what}`);
  }
}
