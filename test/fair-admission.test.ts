/**
 * Fair admission (docs/operations.md, "Admission"), on a real server on loopback: one user
 * saturating their share of the engine with heavy queries does not hold up anyone else, waiting
 * counts against the statement timeout, and a client that goes away stops its engine work even
 * before the first byte. The load is bounded: every heavy query stops at the statement timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { principalOf } from '../src/identity/index.ts';
import { pipelineOutcome } from './support/pipeline.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

let s: TestServer & { internalErrors: unknown[] };
const TIMEOUT_MS = 4000;
// 2,000³ combinations: far more than the statement timeout allows, so it always runs until stopped.
const HEAVY = (tag: string): string =>
  `SELECT count(*) AS ${tag} FROM drug_xyz.trial_july2020 a, drug_xyz.trial_july2020 b, drug_xyz.trial_july2020 c WHERE a.dose_mg > b.dose_mg + c.dose_mg`;

before(async () => {
  s = await startTestServer({
    rows: 2000,
    prepareHome: (home) =>
      writeFileSync(
        path.join(home, 'config.yaml'),
        `max_concurrent_queries: 4\nmax_concurrent_queries_per_user: 2\nmax_queued_queries_per_user: 3\nstatement_timeout_ms: ${TIMEOUT_MS}\n`,
      ),
  });
});

after(async () => {
  await s.close();
});

/** Polls the admission state until `done` holds (at most 200 × 25 ms). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting until ${what}: ${JSON.stringify(s.runtime.admission.status())}`);
}

const bobState = (): { running: number; queued: number } => s.runtime.admission.status().users['bob'] ?? { running: 0, queued: 0 };

/** bob's heavy query, which the caller can abandon with `signal`. */
function heavyAsBob(tag: string, signal: AbortSignal): Promise<unknown> {
  return fetch(`${s.url}/v1/query`, {
    method: 'POST',
    signal,
    headers: { Authorization: `Bearer ${s.token('bob')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: HEAVY(tag) }),
  }).catch(() => undefined);
}

test('ten heavy queries of one user: two run, three wait, five are refused with 429 and Retry-After; another user is answered meanwhile', async () => {
  const heavy = Array.from({ length: 10 }, (_, i) => s.post('bob', '/v1/query', { sql: HEAVY(`q${i}`) }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: (await r.json()) as { error?: { code: string; message: string } } })));
  await until(() => bobState().running === 2 && bobState().queued === 3, 'bob runs 2 and has 3 waiting');

  // alice is not behind bob's queue: the engine has free slots and her share is empty.
  const alice = await s.query('alice', "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE arm = 'placebo'");
  assert.equal(alice.status, 200, JSON.stringify(alice.body));
  assert.deepEqual(bobState(), { running: 2, queued: 3 }, 'alice was answered while bob still had his queries running and waiting');

  const results = await Promise.all(heavy);
  const refused = results.filter((r) => r.status === 429);
  assert.equal(refused.length, 5, JSON.stringify(results.map((r) => r.status)));
  for (const r of refused) {
    assert.equal(r.body.error?.code, 'TOO_MANY_REQUESTS');
    assert.match(r.retry ?? '', /^\d+$/);
    assert.ok(Number(r.retry) >= 1 && Number(r.retry) <= 60);
  }
  // The two that ran hit the statement timeout; the three that waited hit it too, counted from their
  // arrival: none of them ran for a whole timeout after waiting.
  const timedOut = results.filter((r) => r.status === 408);
  assert.equal(timedOut.length, 5, JSON.stringify(results.map((r) => [r.status, r.body.error?.message])));
  for (const r of timedOut) assert.equal(r.body.error?.code, 'QUERY_TIMEOUT');
  assert.deepEqual(s.runtime.admission.status(), { running: 0, queued: 0, users: {} });
});

test('a client that goes away before the first byte stops its query, running or waiting', async () => {
  const running = new AbortController();
  const first = s.post('bob', '/v1/query', { sql: HEAVY('gone_running') }).catch(() => undefined);
  const second = heavyAsBob('gone_running_2', running.signal);
  await until(() => bobState().running === 2, 'bob runs 2');
  const waiting = new AbortController();
  const third = heavyAsBob('gone_waiting', waiting.signal);
  await until(() => bobState().queued === 1, 'bob has one waiting');
  waiting.abort();
  await until(() => bobState().queued === 0, 'the abandoned query left the queue');
  running.abort();
  // Interrupted at once, long before the statement timeout would have stopped it.
  await until(() => bobState().running === 1, 'the abandoned running query stopped');
  await Promise.all([first, second, third]);
  await until(() => bobState().running === 0, 'everything stopped');

  await s.runtime.audit.syncMirror();
  const outcome = await pipelineOutcome(
    s.runtime.queries,
    principalOf(await s.runtime.users.get('bob')),
    `SELECT error_code FROM veil_system.audit_log WHERE statement LIKE '%gone_%' ORDER BY statement`,
  );
  assert.ok('rows' in outcome, JSON.stringify(outcome));
  assert.deepEqual(outcome.rows, [['QUERY_TIMEOUT'], ['CLIENT_DISCONNECTED'], ['CLIENT_DISCONNECTED']]);
});

test('no request ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});
