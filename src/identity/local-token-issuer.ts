import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { InvalidTokenError } from '../errors/index.ts';
import { base64url, checkAudience, checkTimes, decodeJwt, type DecodedJwt } from './jwt.ts';

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
    return this.verifyDecoded(decodeJwt(token), now);
  }

  verifyDecoded(token: DecodedJwt, now = Date.now()): TokenClaims {
    if (token.header['alg'] !== 'HS256') throw new InvalidTokenError('unsupported algorithm');
    const expected = createHmac('sha256', this.key).update(token.signingInput).digest();
    if (expected.length !== token.signature.length || !timingSafeEqual(expected, token.signature)) throw new InvalidTokenError('bad signature');
    const { claims } = token;
    if (claims['iss'] !== LOCAL_ISSUER) throw new InvalidTokenError('wrong issuer');
    checkAudience(claims, [LOCAL_AUDIENCE]);
    if (typeof claims['sub'] !== 'string' || claims['sub'] === '') throw new InvalidTokenError('missing subject');
    checkTimes(claims, { nowMs: now, clockSkewSeconds: CLOCK_SKEW_SECONDS });
    return claims as unknown as TokenClaims;
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}
