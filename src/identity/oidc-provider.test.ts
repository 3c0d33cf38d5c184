import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { TestIdentityProvider } from '../../test/support/test-identity-provider.ts';
import { decodeJwt } from './jwt.ts';
import { parseJwks } from './jwks.ts';
import { OidcProvider, parseOidcProviders } from './oidc-provider.ts';

const silent = (): void => undefined;

test('configuration errors name the provider and the problem', () => {
  const idp = new TestIdentityProvider();
  const check = (entry: Record<string, unknown>, pattern: RegExp) => assert.throws(() => parseOidcProviders([entry], '/home', 'config.yaml'), pattern);
  check({ issuer: 'veil-local', audience: 'veil', jwks: idp.jwks() }, /reserved/);
  check({ issuer: 'https://a', jwks: idp.jwks() }, /audience.*required/);
  check({ issuer: 'https://a', audience: 'veil' }, /jwks_file, jwks \(inline\) or jwks_url/);
  check({ issuer: 'https://a', audience: 'veil', jwks: idp.jwks(), clock_skew_seconds: 3600 }, /clock_skew_seconds/);
  check({ issuer: 'https://a', audience: 'veil', jwks: idp.jwks(), attribute_claims: { Region: 'r' } }, /attribute name/);
  check({ issuer: 'https://a', audience: 'veil', jwks: idp.jwks(), jwks_url: 'file:///etc/passwd' }, /https URL/);
  check({ issuer: 'https://a', audience: 'veil', jwks_url: 'http://idp.example.com/certs' }, /https URL \(plain http only on loopback\)/);
  assert.equal(parseOidcProviders([{ issuer: 'https://a', audience: 'veil', jwks_url: 'http://127.0.0.1:8080/certs' }], '/', 'c').length, 1);
  check({ issuer: 'https://a', audience: 'veil', jwks: idp.jwks(), algorithms: ['HS256'] }, /unknown key "algorithms"/);
  assert.throws(
    () => parseOidcProviders([{ issuer: 'https://a', audience: 'v', jwks: idp.jwks() }, { issuer: 'https://a', audience: 'w', jwks: idp.jwks() }], '/h', 'c'),
    /two OIDC providers have the issuer/,
  );
  const [config] = parseOidcProviders([{ issuer: 'https://a', audience: 'veil', jwks_file: 'keys/idp.json' }], '/srv/veil', 'c');
  assert.equal(config?.jwksFile, '/srv/veil/keys/idp.json');
  assert.deepEqual(config?.userClaims, ['preferred_username', 'sub']);
  assert.equal(config?.groupsClaim, 'groups');
});

test('JWKS parsing pins one algorithm per key and refuses symmetric, private, weak and unknown keys', () => {
  const idp = new TestIdentityProvider('https://a', 'veil', ['RS256', 'ES256', 'EdDSA']);
  assert.deepEqual(parseJwks(idp.jwks(), 'x').map((k) => k.alg), ['RS256', 'ES256', 'EdDSA']);
  const rsa = idp.jwks().keys[0]!;
  assert.throws(() => parseJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, 'x'), /symmetric keys/);
  assert.throws(() => parseJwks({ keys: [{ ...rsa, alg: 'HS256' }] }, 'x'), /algorithm HS256 is not accepted/);
  assert.throws(() => parseJwks({ keys: [{ ...rsa, alg: 'PS256' }] }, 'x'), /not accepted/);
  const privateJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  assert.throws(() => parseJwks({ keys: [privateJwk] }, 'x'), /private key/);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
  assert.throws(() => parseJwks({ keys: [p384] }, 'x'), /unsupported key type/);
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  assert.throws(() => parseJwks({ keys: [weak] }, 'x'), /at least 2048 bits/);
  assert.throws(() => parseJwks({ keys: [rsa, rsa] }, 'x'), /appears twice/);
  assert.deepEqual(parseJwks({ keys: [{ ...rsa, use: 'enc' }] }, 'x'), [], 'encryption keys are skipped');
});

test('a rotated JWKS file is picked up without a restart; a broken file keeps the last good keys', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veil-jwks-'));
  try {
    const idp = new TestIdentityProvider('https://rotate.example', 'veil', ['RS256']);
    const file = idp.writeJwksFile(dir);
    const messages: string[] = [];
    const [config] = parseOidcProviders([{ issuer: idp.issuer, audience: 'veil', jwks_file: file }], dir, 'c');
    const provider = new OidcProvider(config!, (m) => messages.push(m));
    const t0 = Date.now();
    assert.ok(provider.verify(decodeJwt(idp.token({ sub: 'a' })), t0));
    const newKid = idp.addKey('ES256', 'next');
    const rotated = decodeJwt(idp.token({ sub: 'a' }, { kid: newKid }));
    assert.throws(() => provider.verify(rotated, t0), /unknown signing key/);
    idp.removeKey('rs256-1');
    writeFileSync(file, JSON.stringify(idp.jwks()));
    assert.ok(provider.verify(rotated, t0 + 5000), 'after the file check interval the new key works');
    writeFileSync(file, '{ not json');
    assert.ok(provider.verify(rotated, t0 + 10_000), 'a broken file keeps the previous keys');
    assert.match(messages.join('\n'), /cannot load/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys from a JWKS URL are fetched at start and again when a token names a new key', async () => {
  const idp = new TestIdentityProvider('https://url.example', 'veil', ['EdDSA']);
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(idp.jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  const [config] = parseOidcProviders([{ issuer: idp.issuer, audience: 'veil', jwks_url: url }], '/', 'c');
  const provider = new OidcProvider(config!, silent);
  try {
    await provider.start();
    assert.equal(fetches, 1);
    assert.ok(provider.verify(decodeJwt(idp.token({ sub: 'a' }))));
    const kid = idp.addKey('RS256', 'rotated');
    const rotated = decodeJwt(idp.token({ sub: 'a' }, { kid }));
    // The first sight of the new kid fails (verification never waits on the network) and triggers a fetch.
    assert.throws(() => provider.verify(rotated, Date.now() + 60_000), /unknown signing key/);
    for (let i = 0; i < 100 && fetches < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fetches, 2);
    assert.ok(provider.verify(rotated));
    // Unknown kids do not hammer the IdP: no new fetch within the minimum interval.
    assert.throws(() => provider.verify(decodeJwt(idp.token({ sub: 'a' }, { header: { kid: 'nope' } }))), /unknown signing key/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fetches, 2);
  } finally {
    provider.close();
    server.close();
  }
});

test('an unreachable JWKS URL is logged, not fatal, and inline keys keep working', async () => {
  const idp = new TestIdentityProvider('https://down.example', 'veil', ['RS256']);
  const messages: string[] = [];
  const [config] = parseOidcProviders([{ issuer: idp.issuer, audience: 'veil', jwks: idp.jwks(), jwks_url: 'http://127.0.0.1:1/certs' }], '/', 'c');
  const provider = new OidcProvider(config!, (m) => messages.push(m));
  await provider.start();
  provider.close();
  assert.match(messages.join('\n'), /JWKS refresh .* failed/);
  assert.ok(provider.verify(decodeJwt(idp.token({ sub: 'a' }))));
});

test('keys published in several places count once; unusable keys from a URL are skipped, not fatal', async () => {
  const idp = new TestIdentityProvider('https://both.example', 'veil', ['RS256']);
  const extra = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [...idp.jwks().keys, { ...extra, kid: 'p384' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  const messages: string[] = [];
  const [config] = parseOidcProviders([{ issuer: idp.issuer, audience: 'veil', jwks: idp.jwks(), jwks_url: url }], '/', 'c');
  const provider = new OidcProvider(config!, (m) => messages.push(m));
  try {
    await provider.start();
    assert.match(messages.join('\n'), /unsupported key type.*key skipped/);
    assert.ok(provider.verify(decodeJwt(idp.token({ sub: 'a' }))), 'the same key inline and from the URL is one key');
  } finally {
    provider.close();
    server.close();
  }
});

test('browser sign-in: a public client with https endpoints, whose client_id the audience includes', () => {
  const idp = new TestIdentityProvider();
  const signIn = { client_id: 'veil-web', authorization_endpoint: 'https://login.example.com/oauth2/authorize?realm=data', token_endpoint: 'https://login.example.com:8443/oauth2/token' };
  const parse = (browserSignIn: unknown, audience: unknown = ['veil', 'veil-web']) =>
    parseOidcProviders([{ name: 'corp', issuer: 'https://login.example.com', audience, jwks: idp.jwks(), browser_sign_in: browserSignIn }], '/h', 'config.yaml');
  const check = (browserSignIn: unknown, pattern: RegExp, audience?: unknown) => assert.throws(() => parse(browserSignIn, audience), pattern);

  assert.deepEqual(parse(signIn)[0]?.browserSignIn, {
    clientId: 'veil-web',
    authorizationEndpoint: 'https://login.example.com/oauth2/authorize?realm=data',
    tokenEndpoint: 'https://login.example.com:8443/oauth2/token',
    scope: 'openid profile',
  });
  assert.equal(parse({ ...signIn, scope: 'openid email groups' })[0]?.browserSignIn?.scope, 'openid email groups');
  assert.equal(parse({ ...signIn, token_endpoint: 'http://127.0.0.1:9000/token', authorization_endpoint: 'http://localhost:9000/auth' })[0]?.browserSignIn?.tokenEndpoint, 'http://127.0.0.1:9000/token');
  assert.equal(parseOidcProviders([{ issuer: 'https://a', audience: 'veil', jwks: idp.jwks() }], '/h', 'c')[0]?.browserSignIn, undefined, 'optional');

  // An unconfigured or clear-text authorization endpoint stops the start, with the reason.
  const { authorization_endpoint: _, ...withoutAuthorization } = signIn;
  check(withoutAuthorization, /config\.yaml: oidc_providers\[0\]\.browser_sign_in: "authorization_endpoint" is required/);
  check({ ...signIn, authorization_endpoint: 'http://login.example.com/authorize' }, /"authorization_endpoint" must be an https URL \(plain http only on loopback\): sign-in codes and tokens sent in clear/);
  check({ ...signIn, authorization_endpoint: 'login.example.com/authorize' }, /"authorization_endpoint" must be an absolute https URL/);
  check({ ...signIn, token_endpoint: 'http://10.0.0.5/token' }, /"token_endpoint" must be an https URL/);
  check({ ...signIn, token_endpoint: undefined }, /"token_endpoint" is required/);
  check({ ...signIn, client_id: undefined }, /"client_id" is required/);
  check({ ...signIn, authorization_endpoint: 'https://login.example.com/authorize#x' }, /#fragment/);
  check({ ...signIn, token_endpoint: 'https://user:pw@login.example.com/token' }, /user name or password/);
  // The token endpoint's origin goes into the CSP header: a host that could end a directive is refused.
  check({ ...signIn, token_endpoint: "https://a;script-src*.example.com/token" }, /Content-Security-Policy/);
  // The ID token's aud is the client_id: an audience list without it would refuse every sign-in.
  check(signIn, /the provider's "audience" must include the client_id "veil-web"/, 'veil');
  check({ ...signIn, scope: 'profile email' }, /must include openid/);
  check({ ...signIn, scope: 'openid  profile' }, /separated by single spaces/);
  check({ ...signIn, client_secret: 's3cr3t' }, /"client_secret" is not accepted: the web UI is a public client/);
  check({ ...signIn, redirect_uri: 'https://elsewhere' }, /unknown key "redirect_uri"/);
  check('yes', /browser_sign_in must be a mapping/);
});
