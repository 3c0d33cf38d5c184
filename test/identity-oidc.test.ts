import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { hs256Token, TestIdentityProvider, unsignedToken } from './support/test-identity-provider.ts';

/**
 * External identity providers: a notebook platform's OIDC tokens reach Veil and decide who the
 * caller is, with the same policies as every other door. Each token attack from docs/security.md is
 * tried against a real server with real keys (RS256, ES256, EdDSA).
 */
const notebooks = new TestIdentityProvider('https://idp.test.example/realms/notebooks', 'veil', ['RS256', 'ES256', 'EdDSA']);
const corp = new TestIdentityProvider('https://corp.test.example', 'veil-gateway', ['RS256']);
const stranger = new TestIdentityProvider('https://idp.test.example/realms/notebooks', 'veil', ['RS256']);
let s: TestServer;
let usCount: number;
let deCount: number;

before(async () => {
  s = await startTestServer({
    rows: 3000,
    prepareHome: (home) => {
      notebooks.writeJwksFile(home, 'notebooks-jwks.json');
      writeFileSync(
        path.join(home, 'config.yaml'),
        stringify({
          oidc_providers: [
            {
              name: 'notebooks',
              issuer: notebooks.issuer,
              audience: ['veil', 'veil-staging'],
              jwks_file: 'notebooks-jwks.json',
              attribute_claims: { region: 'region', cost_center: 'org.cost_center' },
            },
            {
              name: 'corp',
              issuer: corp.issuer,
              audience: 'veil-gateway',
              jwks: corp.jwks(),
              user_claim: 'email',
              groups_claim: 'realm_access.roles',
              require_known_user: true,
              admin_groups_from_token: true,
              clock_skew_seconds: 0,
            },
          ],
        }),
      );
    },
  });
  const count = async (country: string) => Number((await s.rows('erin', `SELECT count(*) FROM drug_xyz.trial_july2020 WHERE country = '${country}'`))[0]![0]);
  usCount = await count('US');
  deCount = await count('DE');
});
after(async () => {
  await s.close();
});

async function asToken(token: string, sql: string): Promise<{ status: number; body: { rows?: unknown[][]; error?: { code: string; message: string } } }> {
  const response = await fetch(`${s.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function me(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${s.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const COUNT_TRIAL = 'SELECT count(*) FROM drug_xyz.trial_july2020';

describe('claims become the principal', () => {
  test('a user Veil does not store gets groups and attributes from the token, and the policies follow', async () => {
    const us = notebooks.token({ sub: 'f81d4fae-7dec', preferred_username: 'olivia', groups: ['data_science'], region: 'US' });
    assert.deepEqual((await asToken(us, COUNT_TRIAL)).body.rows, [[usCount]]);
    const de = notebooks.token({ sub: 'f81d4fae-7dec', preferred_username: 'olivia', groups: ['data_science'], region: 'DE' });
    assert.deepEqual((await asToken(de, COUNT_TRIAL)).body.rows, [[deCount]]);
    const who = await me(us);
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, {
      user: 'olivia',
      groups: ['data_science'],
      attributes: { region: ['US'] },
      authenticated_by: { method: 'oidc', via: 'notebooks' },
      admin: false,
    });
  });

  test('the same token works with every key type the provider publishes (RS256, ES256, EdDSA)', async () => {
    for (const kid of ['rs256-1', 'es256-2', 'eddsa-3']) {
      const token = notebooks.token({ preferred_username: 'olivia', groups: ['data_science'], region: 'US' }, { kid });
      assert.deepEqual((await asToken(token, COUNT_TRIAL)).body.rows, [[usCount]], kid);
    }
  });

  test('the user name falls back to sub; nested claims map to attributes', async () => {
    const token = notebooks.token({ sub: 'olivia', groups: ['research'], org: { cost_center: 'CC-7' } });
    const who = await me(token);
    assert.equal(who.body['user'], 'olivia');
    assert.deepEqual(who.body['attributes'], { cost_center: ['CC-7'] });
  });

  test('a stored user is merged: groups are the union, stored attributes win', async () => {
    // alice is stored with data_science and region=US; the token claims another region and a group.
    const token = notebooks.token({ preferred_username: 'alice', groups: ['research'], region: 'DE' });
    const who = await me(token);
    assert.deepEqual(who.body['groups'], ['data_science', 'research']);
    assert.deepEqual(who.body['attributes'], { region: ['US'] });
  });

  test('the same notebook code returns different results for different people', async () => {
    const alice = notebooks.token({ preferred_username: 'alice' });
    const bob = notebooks.token({ preferred_username: 'bob' });
    const dave = notebooks.token({ preferred_username: 'dave' });
    const sql = 'SELECT * FROM drug_xyz.trial_july2020 LIMIT 1';
    const aliceColumns = (await asToken(alice, sql)).body;
    assert.equal(aliceColumns.rows?.length, 1);
    const bobResult = await asToken(bob, 'SELECT ssn FROM drug_xyz.trial_july2020 LIMIT 1');
    assert.equal(bobResult.status, 403);
    // dave has no grant: the dataset does not exist for him.
    assert.equal((await asToken(dave, sql)).status, 404);
  });

  test('configurable claims: e-mail as user name, Keycloak-style nested roles as groups, known users only', async () => {
    const token = corp.token({ email: 'erin', realm_access: { roles: ['auditors', '/org/finance'] } });
    const who = await me(token);
    assert.equal(who.status, 200, JSON.stringify(who.body));
    assert.deepEqual(who.body['groups'], ['/org/finance', 'auditors', 'stewards']);
    const unknown = await me(corp.token({ email: 'mallory@corp.example' }));
    assert.equal(unknown.status, 401);
    assert.equal((unknown.body['error'] as { code: string }).code, 'INVALID_TOKEN');
  });

  test('a token with 1500 groups (over 16 KB) is accepted', async () => {
    const groups = [...Array.from({ length: 1500 }, (_, i) => `team-${i}`), 'data_science'];
    const token = notebooks.token({ preferred_username: 'olivia', groups, region: 'US' });
    assert.ok(token.length > 16 * 1024);
    assert.deepEqual((await asToken(token, COUNT_TRIAL)).body.rows, [[usCount]]);
  });

  test('groups in a token do not make administrators unless the provider is trusted for that', async () => {
    // 'stewards' is an admin group; the notebooks provider is not trusted to grant it.
    const who = await me(notebooks.token({ preferred_username: 'olivia', groups: ['stewards', 'research'] }));
    assert.deepEqual(who.body['groups'], ['research']);
    assert.equal(who.body['admin'], false);
    const register = await fetch(`${s.url}/v1/policies`, { headers: { Authorization: `Bearer ${notebooks.token({ preferred_username: 'olivia', groups: ['stewards'] })}` } });
    assert.equal(register.status, 403);
    // The corp provider is (admin_groups_from_token: true), and erin is a steward in Veil anyway.
    const trusted = await me(corp.token({ email: 'erin', realm_access: { roles: ['admins'] } }));
    assert.equal(trusted.body['admin'], true);
    assert.ok((trusted.body['groups'] as string[]).includes('admins'));
  });

  test('an audience from the configured list is accepted', async () => {
    assert.equal((await me(notebooks.token({ preferred_username: 'olivia', aud: ['other-service', 'veil-staging'] }))).status, 200);
  });
});

describe('token attacks (docs/security.md: identity)', () => {
  const base = () => ({ preferred_username: 'erin', groups: ['stewards'] });
  const now = () => Math.floor(Date.now() / 1000);
  const attacks: [string, () => string][] = [
    ['alg none', () => unsignedToken({ typ: 'JWT', kid: 'rs256-1' }, { iss: notebooks.issuer, aud: 'veil', exp: now() + 600, ...base() })],
    [
      'HS256 signed with the provider\'s public key (RS/HS confusion)',
      () => hs256Token({ kid: 'rs256-1' }, { iss: notebooks.issuer, aud: 'veil', exp: now() + 600, ...base() }, JSON.stringify(notebooks.jwks().keys[0])),
    ],
    [
      'HS256 signed with the public key as PEM',
      () => {
        const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
        return hs256Token({}, { iss: notebooks.issuer, aud: 'veil', exp: now() + 600, ...base() }, pem);
      },
    ],
    ['signed by a key the provider never published (same issuer, same kid)', () => stranger.token(base(), { header: { kid: 'rs256-1' } })],
    ['attacker key embedded in the header (jwk)', () => stranger.token(base(), { header: { kid: undefined, jwk: stranger.jwks().keys[0] } })],
    ['attacker key by URL (jku)', () => stranger.token(base(), { header: { kid: undefined, jku: 'http://127.0.0.1:1/jwks.json' } })],
    ['unknown kid', () => notebooks.token(base(), { header: { kid: 'rotated-away' } })],
    ['kid of an EC key with an RS256 header', () => notebooks.token(base(), { kid: 'rs256-1', header: { kid: 'es256-2' } })],
    ['ES256 header on an RSA-signed token', () => notebooks.token(base(), { kid: 'rs256-1', header: { alg: 'ES256' } })],
    ['expired beyond the clock skew', () => notebooks.token({ ...base(), exp: now() - 120, iat: now() - 900, nbf: now() - 900 })],
    ['not valid yet', () => notebooks.token({ ...base(), nbf: now() + 3600 })],
    ['issued in the future', () => notebooks.token({ ...base(), iat: now() + 3600 })],
    ['no exp', () => notebooks.token({ ...base(), exp: undefined })],
    ['exp as a string', () => notebooks.token({ ...base(), exp: String(now() + 600) })],
    ['wrong audience', () => notebooks.token({ ...base(), aud: 'another-service' })],
    ['no audience', () => notebooks.token({ ...base(), aud: undefined })],
    ['untrusted issuer', () => stranger.sign({ ...base(), iss: 'https://evil.example', aud: 'veil', exp: now() + 600 })],
    ['issuer with a trailing slash', () => notebooks.token({ ...base(), iss: `${notebooks.issuer}/` })],
    ['provider token claiming Veil\'s local issuer', () => notebooks.token({ ...base(), iss: 'veil-local', sub: 'erin' })],
    ['another provider\'s key for this issuer', () => corp.token({ ...base(), iss: notebooks.issuer, aud: 'veil' }, { header: { kid: 'rs256-1' } })],
    ['skew of 0 on the corp provider', () => corp.token({ email: 'erin', exp: now() - 1 })],
    ['re-signed: payload swapped under a valid signature', () => {
      const valid = notebooks.token({ preferred_username: 'dave' }).split('.');
      const forged = Buffer.from(JSON.stringify({ iss: notebooks.issuer, aud: 'veil', exp: now() + 600, ...base() })).toString('base64url');
      return `${valid[0]}.${forged}.${valid[2]}`;
    }],
    ['signature of another token', () => {
      const a = notebooks.token(base()).split('.');
      const b = notebooks.token({ preferred_username: 'dave' }).split('.');
      return `${a[0]}.${a[1]}.${b[2]}`;
    }],
    ['ES256 signature in DER form', () => {
      const parts = notebooks.token(base(), { kid: 'es256-2' }).split('.');
      const raw = Buffer.from(parts[2]!, 'base64url');
      const der = Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), raw.subarray(0, 32), Buffer.from([0x02, 0x20]), raw.subarray(32)]);
      return `${parts[0]}.${parts[1]}.${der.toString('base64url')}`;
    }],
    ['user name with a line break', () => notebooks.token({ preferred_username: 'erin\nuser=admin' })],
    ['group name with a control character', () => notebooks.token({ preferred_username: 'olivia', groups: ['stewards\u0000'] })],
    ['groups as an object', () => notebooks.token({ preferred_username: 'olivia', groups: { stewards: true } })],
    ['a valid signature over 33 KB of groups', () => notebooks.token({ preferred_username: 'olivia', groups: Array.from({ length: 1500 }, (_, i) => `group-number-${i}`) })],
    ['no user name at all', () => notebooks.token({ groups: ['stewards'], sub: undefined })],
    ['non-canonical base64url spelling of a valid signature', () => {
      const parts = notebooks.token({ preferred_username: 'olivia' }).split('.');
      const signature = parts[2]!;
      // RS256 signatures are 256 bytes: the last character carries 4 unused bits; flip one.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(signature.at(-1)!);
      return `${parts[0]}.${parts[1]}.${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    }],
    ['JWE-shaped token', () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
    ['header is not JSON', () => `${Buffer.from('{alg').toString('base64url')}.e30.sig`],
    ['over-long token (40 KB)', () => `${'a'.repeat(40 * 1024)}.b.c`],
  ];
  for (const [name, make] of attacks) {
    test(`rejected: ${name}`, async () => {
      const token = make();
      const response = await fetch(`${s.url}/v1/query`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: COUNT_TRIAL }),
      });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'INVALID_TOKEN');
      assert.ok(!body.error.message.includes(token.slice(0, 40)), 'the message never echoes the token');
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="veil"');
    });
  }

  test('identity headers and tokens outside the Authorization header are ignored', async () => {
    const token = notebooks.token({ preferred_username: 'dave' });
    const response = await fetch(`${s.url}/v1/me?access_token=${notebooks.token(base())}`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-User': 'erin', 'X-Remote-User': 'erin', 'X-Veil-User': 'erin', Cookie: `token=${notebooks.token(base())}` },
    });
    assert.equal(((await response.json()) as { user: string }).user, 'dave');
    const noHeader = await fetch(`${s.url}/v1/me?access_token=${notebooks.token(base())}`);
    assert.equal(noHeader.status, 401);
  });

  test('rejected tokens are audited without the token', async () => {
    const token = notebooks.token({ ...base(), aud: 'another-service' });
    await me(token);
    const rows = await s.rows('carol', "SELECT statement, error_code, client_application FROM veil_system.audit_log WHERE error_code = 'INVALID_TOKEN'");
    assert.ok(rows.length > 0);
    const signature = token.split('.')[2]!;
    for (const row of rows) assert.ok(!JSON.stringify(row).includes(signature));
  });
});
