import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** API tokens for service accounts: created once, stored as hashes, revoked at once. */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 500 });
  // A service account is a stored user with the groups its job needs.
  const put = await fetch(`${s.url}/v1/users/etl-bot`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ groups: ['research'] }),
  });
  assert.equal(put.status, 200);
});
after(async () => {
  await s.close();
});

async function withToken(token: string, route: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.url}${route}`, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) } });
}

async function createToken(asUser: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await s.post(asUser, '/v1/tokens', body);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('an administrator creates a token for a service account; it works like that user', async () => {
  const created = await createToken('erin', { user: 'etl-bot', label: 'nightly export', expires_in_days: 30 });
  assert.equal(created.status, 201);
  const token = String(created.body['token']);
  assert.match(token, /^veil_pat_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.body['user'], 'etl-bot');
  assert.equal(created.body['created_by'], 'erin');
  const who = (await (await withToken(token, '/v1/me')).json()) as Record<string, unknown>;
  assert.deepEqual(who['authenticated_by'], { method: 'api_token', via: created.body['id'] });
  assert.deepEqual(who['groups'], ['research']);
  // research sees no PII columns: the token carries the account's policies, nothing more.
  const hidden = await withToken(token, '/v1/query', { method: 'POST', body: JSON.stringify({ sql: 'SELECT ssn FROM drug_xyz.trial_july2020' }) });
  assert.equal(hidden.status, 403);
  const ok = await withToken(token, '/v1/query', { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) FROM drug_xyz.trial_july2020' }) });
  assert.deepEqual(((await ok.json()) as { rows: unknown[][] }).rows, [[500]]);
});

test('only a hash is stored and listings never show secrets', async () => {
  const created = await createToken('erin', { user: 'etl-bot', label: 'hash check' });
  // No expiry given: a year, not forever.
  const days = (Date.parse(String(created.body['expires_at'])) - Date.parse(String(created.body['created_at']))) / 86_400_000;
  assert.equal(days, 365);
  const token = String(created.body['token']);
  const secret = token.split('_').slice(3).join('_');
  const listing = await (await s.get('erin', '/v1/tokens?user=etl-bot')).text();
  assert.ok(listing.includes(String(created.body['id'])));
  assert.ok(!listing.includes(secret));
  assert.ok(!listing.includes('secret_hash'));
  const dump = JSON.stringify(await s.runtime.store.control.all('SELECT * FROM api_tokens'));
  assert.ok(dump.includes(String(created.body['id'])), 'the token is stored');
  assert.ok(!dump.includes(secret), 'the secret is not in the database');
});

test('revocation takes effect on the very next request', async () => {
  const created = await createToken('erin', { user: 'etl-bot', label: 'to revoke' });
  const token = String(created.body['token']);
  assert.equal((await withToken(token, '/v1/me')).status, 200);
  const revoked = await fetch(`${s.url}/v1/tokens/${String(created.body['id'])}`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('erin')}` } });
  assert.equal(revoked.status, 200);
  assert.notEqual(((await revoked.json()) as Record<string, unknown>)['revoked_at'], null);
  const after = await withToken(token, '/v1/me');
  assert.equal(after.status, 401);
  assert.equal(((await after.json()) as { error: { code: string } }).error.code, 'INVALID_TOKEN');
});

test('users manage their own tokens only; other tokens look like they do not exist', async () => {
  const own = await createToken('bob', { label: 'my laptop' });
  assert.equal(own.status, 201);
  assert.equal(own.body['user'], 'bob');
  assert.equal((await createToken('bob', { user: 'etl-bot', label: 'sneaky' })).status, 403);
  const listing = (await (await s.get('bob', '/v1/tokens')).json()) as { tokens: { user: string }[] };
  assert.ok(listing.tokens.length > 0 && listing.tokens.every((t) => t.user === 'bob'));
  assert.equal((await s.get('bob', '/v1/tokens?user=etl-bot')).status, 403);
  const erins = await createToken('erin', { user: 'etl-bot', label: 'not bobs' });
  const attempt = await fetch(`${s.url}/v1/tokens/${String(erins.body['id'])}`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('bob')}` } });
  assert.equal(attempt.status, 404);
  const missing = await fetch(`${s.url}/v1/tokens/0123456789abcdef`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('bob')}` } });
  assert.equal(missing.status, 404);
  const [a, m] = (await Promise.all([attempt.json(), missing.json()])) as { error: { code: string; message: string } }[];
  assert.equal(a!.error.code, m!.error.code);
  assert.equal(a!.error.message.replace(String(erins.body['id']), 'ID'), m!.error.message.replace('0123456789abcdef', 'ID'));
});

test('an API token cannot mint more tokens (revoking a leaked token is enough)', async () => {
  const created = await createToken('erin', { user: 'etl-bot', label: 'leaky' });
  const response = await withToken(String(created.body['token']), '/v1/tokens', { method: 'POST', body: JSON.stringify({ label: 'persistence' }) });
  assert.equal(response.status, 403);
});

test('tampered, unknown, expired and orphaned tokens are rejected alike', async () => {
  const created = await createToken('erin', { user: 'etl-bot', label: 'tamper' });
  const token = String(created.body['token']);
  const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  const unknownId = token.replace(/^veil_pat_[0-9a-f]{16}/, 'veil_pat_ffffffffffffffff');
  for (const bad of [flipped, unknownId, 'veil_pat_short', `${token}x`]) {
    const response = await withToken(bad, '/v1/me');
    assert.equal(response.status, 401, bad.slice(0, 30));
  }
  // Expiry: set it in the past directly (the API only takes whole days).
  const expired = await s.runtime.store.control.run('UPDATE api_tokens SET expires_at = ? WHERE id = ?', [new Date(Date.now() - 1000).toISOString(), String(created.body['id'])]);
  assert.equal(expired, 1);
  assert.equal((await withToken(token, '/v1/me')).status, 401);
  // A removed user's tokens stop working.
  const temp = await fetch(`${s.url}/v1/users/tmp-bot`, { method: 'PUT', headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(temp.status, 200);
  const tmpToken = String((await createToken('erin', { user: 'tmp-bot', label: 'orphan' })).body['token']);
  assert.equal((await withToken(tmpToken, '/v1/me')).status, 200);
  await fetch(`${s.url}/v1/users/tmp-bot`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('erin')}` } });
  assert.equal((await withToken(tmpToken, '/v1/me')).status, 401);
  // Re-creating a user of the same name does not bring the old tokens back.
  await fetch(`${s.url}/v1/users/tmp-bot`, { method: 'PUT', headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal((await withToken(tmpToken, '/v1/me')).status, 401);
});

test('bad requests get clear errors', async () => {
  assert.equal((await createToken('erin', { user: 'nobody-here', label: 'x' })).status, 404);
  assert.equal((await createToken('erin', { user: 'etl-bot' })).status, 400);
  assert.equal((await createToken('erin', { user: 'etl-bot', label: 'x', expires_in_days: 0 })).status, 400);
  assert.equal((await createToken('erin', { user: 'etl-bot', label: 'x\n' })).status, 400);
  assert.equal((await createToken('erin', { user: 'etl-bot', label: 'x', scope: 'all' })).status, 400);
});
