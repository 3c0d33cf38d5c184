import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { InvalidRequestError, InvalidTokenError } from '../errors/index.ts';
import type { DecodedJwt } from './jwt.ts';

/**
 * Verification keys of an external identity provider, from a JWK Set (RFC 7517).
 *
 * Each key is pinned to exactly one algorithm when it is loaded: the JWK's own `alg` when it names
 * one, otherwise the only algorithm Veil accepts for its key type (RSA → RS256, EC P-256 → ES256,
 * Ed25519 → EdDSA). A token's `alg` header must equal the pinned algorithm of the key it names, so
 * `alg: none`, HS256 signed with a public key, or a curve swap cannot be smuggled in (RFC 8725
 * 2.1, 3.1). Symmetric keys (`kty: oct`) and private keys are refused: HS256 is reserved for
 * Veil's own local issuer, and a JWKS carrying private material is a misconfiguration.
 */
export type OidcAlgorithm = 'RS256' | 'ES256' | 'EdDSA';
export const OIDC_ALGORITHMS: readonly OidcAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

export interface VerificationKey {
  readonly kid: string | undefined;
  readonly alg: OidcAlgorithm;
  readonly key: KeyObject;
}

const MIN_RSA_BITS = 2048;

/** The token names a key the provider has not published (yet): possibly a key rotation. */
export class UnknownSigningKeyError extends InvalidTokenError {
  constructor() {
    super('unknown signing key');
  }
}

/**
 * Parses a JWK Set; `source` names where it came from in error messages. Unusable keys are errors,
 * unless `skip` is given: then they are reported to it and left out (a provider's published set
 * may list keys for other algorithms alongside the ones Veil accepts).
 */
export function parseJwks(value: unknown, source: string, skip?: (message: string) => void): VerificationKey[] {
  const keys = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new InvalidRequestError(`${source}: a JWK Set is an object with a "keys" list`);
  const result: VerificationKey[] = [];
  const kids = new Set<string>();
  for (const [index, jwk] of keys.entries()) {
    const where = `${source}: key ${index + 1}`;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new InvalidRequestError(`${where} is not an object`);
    const entry = jwk as Record<string, unknown>;
    // Keys published for encryption are not signature keys.
    if (entry['use'] !== undefined && entry['use'] !== 'sig') continue;
    const kid = typeof entry['kid'] === 'string' ? entry['kid'] : undefined;
    if (kid !== undefined) {
      if (kids.has(kid)) throw new InvalidRequestError(`${where}: kid "${kid}" appears twice`);
      kids.add(kid);
    }
    try {
      result.push(verificationKeyOf(entry, kid === undefined ? where : `${where} (kid ${kid})`, kid));
    } catch (error) {
      if (skip === undefined || !(error instanceof InvalidRequestError)) throw error;
      skip(`${error.message}; key skipped`);
    }
  }
  return result;
}

function verificationKeyOf(jwk: Record<string, unknown>, where: string, kid: string | undefined): VerificationKey {
  if (jwk['kty'] === 'oct') throw new InvalidRequestError(`${where}: symmetric keys are not accepted from identity providers (HS256 is only for Veil's own tokens)`);
  if (jwk['d'] !== undefined || jwk['p'] !== undefined) throw new InvalidRequestError(`${where}: the JWKS contains a private key; publish only the public part`);
  const alg = pinnedAlgorithm(jwk, where);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch (error) {
    throw new InvalidRequestError(`${where}: not a usable public key (${(error as Error).message})`);
  }
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new InvalidRequestError(`${where}: RSA keys must have at least ${MIN_RSA_BITS} bits`);
  }
  return { kid, alg, key };
}

function pinnedAlgorithm(jwk: Record<string, unknown>, where: string): OidcAlgorithm {
  const natural = jwk['kty'] === 'RSA' ? 'RS256' : jwk['kty'] === 'EC' && jwk['crv'] === 'P-256' ? 'ES256' : jwk['kty'] === 'OKP' && jwk['crv'] === 'Ed25519' ? 'EdDSA' : undefined;
  if (natural === undefined) {
    throw new InvalidRequestError(`${where}: unsupported key type (kty ${String(jwk['kty'])}${jwk['crv'] === undefined ? '' : `, crv ${String(jwk['crv'])}`}); Veil accepts RSA (RS256), EC P-256 (ES256) and Ed25519 (EdDSA)`);
  }
  const declared = jwk['alg'];
  if (declared !== undefined && declared !== natural) throw new InvalidRequestError(`${where}: algorithm ${String(declared)} is not accepted for this key; use ${natural}`);
  return natural;
}

/**
 * One list of the keys from several sources (inline, file, URL). The same key published in two
 * places is kept once; two different keys under one kid stay, and tokens naming that kid are
 * refused as ambiguous rather than checked against a guess.
 */
export function mergeKeys(...sources: readonly (readonly VerificationKey[])[]): VerificationKey[] {
  const merged: VerificationKey[] = [];
  for (const key of sources.flat()) {
    if (!merged.some((k) => k.kid === key.kid && k.alg === key.alg && k.key.equals(key.key))) merged.push(key);
  }
  return merged;
}

/**
 * Picks the key a token names and checks its signature. A token without `kid` is accepted only
 * when exactly one key has the token's algorithm; ambiguity is a rejection, not a loop over keys.
 * Header fields that point at other keys (`jwk`, `jku`, `x5u`, `x5c`) are never followed.
 */
export function verifySignature(token: DecodedJwt, keys: readonly VerificationKey[]): VerificationKey {
  const alg = token.header['alg'];
  if (typeof alg !== 'string' || !(OIDC_ALGORITHMS as readonly string[]).includes(alg)) throw new InvalidTokenError('unsupported algorithm');
  const kid = token.header['kid'];
  let candidates: readonly VerificationKey[];
  if (kid === undefined) candidates = keys.filter((k) => k.alg === alg);
  else if (typeof kid === 'string') candidates = keys.filter((k) => k.kid === kid);
  else throw new InvalidTokenError('malformed kid');
  if (candidates.length === 0) throw kid === undefined ? new InvalidTokenError('no key for this algorithm') : new UnknownSigningKeyError();
  if (candidates.length > 1) throw new InvalidTokenError('the token does not say which key signed it (kid)');
  const key = candidates[0]!;
  if (key.alg !== alg) throw new InvalidTokenError('algorithm does not match the signing key');
  if (!signatureValid(key, token)) throw new InvalidTokenError('bad signature');
  return key;
}

function signatureValid(key: VerificationKey, token: DecodedJwt): boolean {
  const data = Buffer.from(token.signingInput, 'utf8');
  try {
    switch (key.alg) {
      case 'RS256':
        return verify('sha256', data, key.key, token.signature);
      case 'ES256':
        // JWS carries ECDSA signatures as r||s (64 bytes for P-256), not DER (RFC 7518 3.4).
        return token.signature.length === 64 && verify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, token.signature);
      case 'EdDSA':
        return verify(null, data, key.key, token.signature);
    }
  } catch {
    return false;
  }
}
