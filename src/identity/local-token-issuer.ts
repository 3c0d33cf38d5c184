import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { InvalidTokenError } from '../errors/index.ts';

/**
 * Veil's own token issuer: compact JWS with HS256 and a key from the home directory.
 * The algorithm is pinned: a token whose header names anything but HS256 is rejected before its
 * signature is looked at (no alg:none, no RS/HS confusion). @see RFC 7515, RFC 7519, RFC 8725
 */
export const LOCAL_ISSUER = 'veil-local';
export const LOCAL_AUDIENCE = 'veil';
const CLOCK_SKEW_SECONDS = 60;

export interface TokenClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
}

export class LocalTokenIssuer {
  constructor(private readonly key: Buffer) {}

  issue(user: string, ttlSeconds: number, now = Date.now()): string {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError('ttl must be a positive number of seconds');
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = { sub: user, iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat, nbf: iat, exp: iat + ttlSeconds, jti: randomUUID() };
    const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
    return `${signingInput}.${this.sign(signingInput)}`;
  }

  /** Returns the verified claims or throws InvalidTokenError with a reason that never echoes the token. */
  verify(token: string, now = Date.now()): TokenClaims {
    if (token.length > 8192) throw new InvalidTokenError('token too long');
    const parts = token.split('.');
    if (parts.length !== 3) throw new InvalidTokenError('malformed token');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodeJsonPart(headerPart, 'header');
    if (header['alg'] !== 'HS256') throw new InvalidTokenError('unsupported algorithm');
    if (header['crit'] !== undefined) throw new InvalidTokenError('unsupported critical header');
    const expected = Buffer.from(this.sign(`${headerPart}.${payloadPart}`), 'utf8');
    const actual = Buffer.from(signaturePart, 'utf8');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new InvalidTokenError('bad signature');
    const claims = decodeJsonPart(payloadPart, 'payload');
    const seconds = Math.floor(now / 1000);
    if (claims['iss'] !== LOCAL_ISSUER) throw new InvalidTokenError('wrong issuer');
    const audience = claims['aud'];
    if (!(audience === LOCAL_AUDIENCE || (Array.isArray(audience) && audience.includes(LOCAL_AUDIENCE)))) throw new InvalidTokenError('wrong audience');
    if (typeof claims['sub'] !== 'string' || claims['sub'] === '') throw new InvalidTokenError('missing subject');
    if (typeof claims['exp'] !== 'number' || claims['exp'] + CLOCK_SKEW_SECONDS <= seconds) throw new InvalidTokenError('token expired');
    if (typeof claims['nbf'] === 'number' && claims['nbf'] - CLOCK_SKEW_SECONDS > seconds) throw new InvalidTokenError('token not yet valid');
    if (typeof claims['iat'] === 'number' && claims['iat'] - CLOCK_SKEW_SECONDS > seconds) throw new InvalidTokenError('token issued in the future');
    return claims as unknown as TokenClaims;
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new InvalidTokenError(`malformed ${what}`);
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new InvalidTokenError(`malformed ${what}`);
  }
}
