import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openHomeStores } from './support/stores.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * The audit chain's verification over HTTP (`GET /v1/audit/verify`, the web UI's status): for
 * compliance and administrators only; intact on a live server; a record edited behind Veil's back
 * is reported as a break naming it, not as a server error.
 */
let s: TestServer;

before(async () => {
  s = await startTestServer({ rows: 200 });
  for (const user of ['alice', 'bob']) await s.query(user, 'SELECT count(*) FROM drug_xyz.trial_july2020');
});
after(async () => {
  await s.close();
});

interface Verification {
  ok: boolean;
  records: number;
  events: number;
  first_break: { record_seq: number | null; reason: string } | null;
  verified_at: string;
  error?: { code: string };
}

async function verify(user: string): Promise<{ status: number; body: Verification }> {
  const response = await s.get(user, '/v1/audit/verify');
  return { status: response.status, body: (await response.json()) as Verification };
}

test('only compliance and administrators verify; the answer says the chain is intact with its counts', async () => {
  assert.equal((await verify('alice')).status, 403);
  assert.equal((await verify('dave')).status, 403);
  for (const user of ['carol', 'erin']) {
    const { status, body } = await verify(user);
    assert.equal(status, 200);
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.equal(body.first_break, null);
    assert.ok(body.records >= 2 && body.events >= body.records, JSON.stringify(body));
    assert.ok(Math.abs(Date.parse(body.verified_at) - Date.now()) < 60_000);
  }
  // The verification itself is audited, like every request.
  const rows = await s.rows('carol', "SELECT count(*) FROM veil_system.audit_log WHERE statement = 'verify the audit chain'");
  assert.ok(Number(rows[0]?.[0]) >= 2);
});

test('a record edited behind Veil’s back is reported as a break naming it', async () => {
  const stores = await openHomeStores(s.home);
  let victim: number;
  try {
    const row = await stores.audit.get<{ seq: number }>("SELECT seq FROM audit_log WHERE \"user\" = 'bob' ORDER BY seq LIMIT 1");
    assert.ok(row !== undefined);
    victim = row.seq;
    assert.equal(await stores.audit.run('UPDATE audit_log SET rows_returned = 999 WHERE seq = ?', [victim]), 1);
  } finally {
    await stores.close();
  }
  const { status, body } = await verify('carol');
  assert.equal(status, 200);
  assert.equal(body.ok, false);
  assert.equal(body.first_break?.record_seq, victim);
  assert.match(body.first_break?.reason ?? '', /rows_returned/);
});
