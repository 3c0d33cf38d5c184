import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export type TestAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

interface KeyPair {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface SignOptions {
  /** Which of the provider's keys signs (default: the first). */
  readonly kid?: string;
  /** Header fields to add or override (alg, kid, jwk, jku, …); `undefined` removes one. */
  readonly header?: Record<string, unknown>;
  /** Sign with this key instead (an attacker's key). */
  readonly privateKey?: KeyObject;
  readonly alg?: TestAlgorithm;
}

/**
 * A real identity provider for the tests, minus the login page: real key pairs, a JWKS as a file
 * or an object, and properly signed tokens (or deliberately broken ones). Nothing is mocked on
 * Veil's side: Veil verifies these with the same code as tokens from Okta or Keycloak.
 */
export class TestIdentityProvider {
  private readonly pairs: KeyPair[] = [];

  constructor(
    readonly issuer = 'https://idp.test.example/realms/notebooks',
    readonly audience = 'veil',
    algorithms: readonly TestAlgorithm[] = ['RS256'],
  ) {
    for (const alg of algorithms) this.addKey(alg);
  }

  /** Generates a new key pair (a key rotation); returns its kid. */
  addKey(alg: TestAlgorithm, kid = `${alg.toLowerCase()}-${this.pairs.length + 1}`): string {
    this.pairs.push({ kid, alg, ...generatePair(alg) });
    return kid;
  }

  removeKey(kid: string): void {
    const index = this.pairs.findIndex((p) => p.kid === kid);
    if (index >= 0) this.pairs.splice(index, 1);
  }

  /** The public JWKS, as an IdP publishes it. */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.pairs.map((p) => ({ ...(p.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: p.kid, alg: p.alg, use: 'sig' })) };
  }

  writeJwksFile(dir: string, name = 'idp-jwks.json'): string {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(this.jwks(), null, 2));
    return file;
  }

  /** A token with sensible defaults (valid now for 10 minutes) and the given claims on top. */
  token(claims: Record<string, unknown>, options: SignOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    return this.sign({ iss: this.issuer, aud: this.audience, iat: now, nbf: now, exp: now + 600, ...claims }, options);
  }

  sign(claims: Record<string, unknown>, options: SignOptions = {}): string {
    const pair = options.kid === undefined ? this.pairs[0] : this.pairs.find((p) => p.kid === options.kid);
    if (pair === undefined) throw new Error(`no key ${options.kid ?? ''}`);
    const alg = options.alg ?? pair.alg;
    const header: Record<string, unknown> = { alg, typ: 'JWT', kid: pair.kid, ...options.header };
    for (const [key, value] of Object.entries(header)) if (value === undefined) delete header[key];
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    return `${input}.${signWith(alg, options.privateKey ?? pair.privateKey, input).toString('base64url')}`;
  }
}

/** An unsigned token (`alg: none`), the oldest JWT attack. */
export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64(JSON.stringify({ ...header, alg: 'none' }))}.${b64(JSON.stringify(claims))}.`;
}

/** HS256 with an arbitrary secret: the RS/HS confusion attack signs with the public key's bytes. */
export function hs256Token(header: Record<string, unknown>, claims: Record<string, unknown>, secret: Buffer | string): string {
  const input = `${b64(JSON.stringify({ ...header, alg: 'HS256' }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function generatePair(alg: TestAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

function signWith(alg: TestAlgorithm, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input, 'utf8');
  if (alg === 'EdDSA') return sign(null, data, key);
  if (alg === 'ES256') return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  return sign('sha256', data, key);
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
