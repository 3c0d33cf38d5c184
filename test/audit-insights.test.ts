import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessesOverTimeRow, AuditInsights } from '../src/audit/audit-insights.ts';
import { sourceViewName } from '../src/catalog/index.ts';
import { startTestServer, type QueryBody, type TestServer } from './support/test-server.ts';

/** GET /v1/audit/insights over a real server: every section checked against the accesses made here. */
let s: TestServer & { internalErrors: unknown[] };
const TRIAL = 'drug_xyz.trial_july2020';
const EVENTS = 'drug_xyz.adverse_events';
const OLD = new Date(Date.now() - 40 * 86_400_000).toISOString();
/** Rows each read returned, as the server reported them. */
const rows = { aliceIdentifiers: 0, aliceEmail: 0, aliceCount: 0, bobArms: 0, bobStar: 0, erinEvents: 0 };

async function read(user: string, sql: string, options: { maxRows?: number; client?: string } = {}): Promise<number> {
  const body = options.maxRows === undefined ? { sql } : { sql, max_rows: options.maxRows };
  const response = await s.post(user, '/v1/query', body, options.client === undefined ? {} : { 'X-Veil-Client': options.client });
  const result = (await response.json()) as QueryBody;
  assert.equal(response.status, 200, JSON.stringify(result.error));
  return result.rows?.length ?? -1;
}

async function insights(user: string, query = ''): Promise<{ status: number; body: AuditInsights & { error?: { code: string } } }> {
  const response = await s.get(user, `/v1/audit/insights${query}`);
  return { status: response.status, body: (await response.json()) as AuditInsights & { error?: { code: string } } };
}

before(async () => {
  s = await startTestServer({ rows: 300 });
  // Earlier than a 30-day window: bob read adverse_events, carol described the trial under compliance-catalog.
  const old = { event_time: OLD, groups: [], client_application: 'old-tool', client_address: null, door: 'http' as const, duration_ms: 1, bytes_returned: 100, error_code: null, decision: 'allowed' as const };
  await s.runtime.audit.record({ ...old, request_id: 'old-1', user: 'bob', statement: `SELECT severity FROM ${EVENTS}`, statement_type: 'query', datasets: [EVENTS], columns: [`${EVENTS}.severity`], policies: ['research-read'], rows_returned: 1000 });
  await s.runtime.audit.record({ ...old, request_id: 'old-2', user: 'carol', statement: `describe ${TRIAL}`, statement_type: 'describe', datasets: [TRIAL], columns: [], policies: ['compliance-catalog'], rows_returned: null });

  rows.aliceIdentifiers = await read('alice', `SELECT participant_id, full_name, email, ssn, arm FROM ${TRIAL} LIMIT 5`);
  rows.aliceEmail = await read('alice', `SELECT email, date_of_birth FROM ${TRIAL} WHERE arm = 'treatment' LIMIT 3`);
  rows.aliceCount = await read('alice', `SELECT count(*) FROM ${TRIAL}`);
  rows.bobArms = await read('bob', `SELECT arm, count(*) FROM ${TRIAL} GROUP BY arm`, { client: 'insights-test/1.0' });
  rows.bobStar = await read('bob', `SELECT * FROM ${TRIAL}`, { maxRows: 10 });
  const scan = await s.post('erin', '/v1/scan', { dataset: EVENTS, max_rows: 7 });
  assert.equal(scan.status, 200);
  rows.erinEvents = ((await scan.json()) as QueryBody).rows?.length ?? -1;
  for (let i = 0; i < 2; i++) assert.equal((await s.query('dave', `SELECT * FROM ${TRIAL}`)).status, 404);
  assert.equal((await insights('alice')).status, 403);
});
after(async () => {
  assert.deepEqual(s.internalErrors, []);
  await s.close();
});

test('the demo reads returned what the assertions below count on', () => {
  assert.deepEqual(rows, { aliceIdentifiers: 5, aliceEmail: 3, aliceCount: 1, bobArms: 2, bobStar: 10, erinEvents: 7 });
});

test('compliance and admins may read insights; others get 403; parameters are validated', async () => {
  const denied = await insights('alice');
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error?.code, 'ACCESS_DENIED');
  assert.equal((await insights('dave', '?days=abc')).status, 403, 'authorization comes before validation');
  assert.equal((await insights('carol')).status, 200);
  assert.equal((await insights('erin', '?days=1&top=1')).status, 200);
  for (const query of ['?days=0', '?days=3651', '?days=abc', '?days=1.5', '?days=', '?top=0', '?top=101', '?top=-1']) {
    const response = await insights('carol', query);
    assert.equal(response.status, 400, query);
    assert.equal(response.body.error?.code, 'INVALID_REQUEST', query);
  }
  await s.runtime.audit.syncMirror();
  const records = await s.runtime.engine.runInternal<[string, string]>(
    `SELECT statement, decision FROM ${sourceViewName({ database: 'veil_system', name: 'audit_log' })} WHERE "user" = 'erin' AND statement_type = 'audit'`,
  );
  assert.deepEqual(records, [['audit insights (1 days)', 'allowed']]);
});

test('window and defaults', async () => {
  const { status, body } = await insights('carol');
  assert.equal(status, 200);
  assert.equal(body.window.days, 30);
  assert.equal(Date.parse(body.window.to) - Date.parse(body.window.from), 30 * 86_400_000);
  assert.ok(Math.abs(Date.parse(body.generated_at) - Date.now()) < 60_000);
});

test('accesses_over_time: reads per day and dataset, user, and tool', async () => {
  const { body } = await insights('carol', '?days=30');
  // Summed over days, so that a run across midnight (UTC) counts the same.
  const pick = (by: string) => {
    const sums = new Map<string, AccessesOverTimeRow>();
    for (const r of body.accesses_over_time.filter((row) => row.by === by)) {
      const key = JSON.stringify([r.dataset, r.user, r.door, r.client_application]);
      const seen = sums.get(key);
      sums.set(key, seen === undefined ? r : { ...seen, requests: seen.requests + r.requests, rows_returned: seen.rows_returned + r.rows_returned, bytes_returned: seen.bytes_returned + r.bytes_returned });
    }
    return [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row);
  };
  assert.ok(body.accesses_over_time.every((r) => r.day >= body.window.from.slice(0, 10)), 'nothing older than the window');
  const datasets = pick('dataset').map((r) => [r.dataset, r.requests, r.rows_returned]);
  const trialRows = rows.aliceIdentifiers + rows.aliceEmail + rows.aliceCount + rows.bobArms + rows.bobStar;
  assert.deepEqual(datasets, [[EVENTS, 1, rows.erinEvents], [TRIAL, 5, trialRows]]);
  assert.deepEqual(pick('user').map((r) => [r.user, r.requests, r.rows_returned]), [
    ['alice', 3, rows.aliceIdentifiers + rows.aliceEmail + rows.aliceCount],
    ['bob', 2, rows.bobArms + rows.bobStar],
    ['erin', 1, rows.erinEvents],
  ]);
  for (const row of pick('dataset')) assert.ok(row.bytes_returned > 0);
  const tool = pick('client').find((r) => r.client_application === 'insights-test/1.0');
  assert.deepEqual(tool && [tool.door, tool.requests, tool.rows_returned, tool.user, tool.dataset], ['http', 1, rows.bobArms, null, null]);
  assert.equal(pick('client').reduce((n, r) => n + r.requests, 0), 6);

  const longer = await insights('carol', '?days=60');
  const old = longer.body.accesses_over_time.filter((r) => r.day === OLD.slice(0, 10) && r.by === 'dataset');
  assert.deepEqual(old.map((r) => [r.dataset, r.requests, r.rows_returned, r.bytes_returned]), [[EVENTS, 1, 1000, 100]]);
});

test('sensitive_access: who read pii / phi columns, masked or not', async () => {
  const { body } = await insights('carol');
  const find = (tag: string, user: string, dataset: string) => body.sensitive_access.find((r) => r.tag === tag && r.user === user && r.dataset === dataset);
  // alice read e-mails (masked to the domain) in two queries; the count(*) touched no column.
  assert.deepEqual(pick(find('pii.email', 'alice', TRIAL)), { requests: 2, rows_returned: rows.aliceIdentifiers + rows.aliceEmail });
  assert.deepEqual(pick(find('pii.ssn', 'alice', TRIAL)), { requests: 1, rows_returned: rows.aliceIdentifiers });
  assert.deepEqual(pick(find('phi.dob', 'alice', TRIAL)), { requests: 1, rows_returned: rows.aliceEmail });
  // bob's SELECT * covers the phi columns he sees masked, never the pii ones hidden from him.
  assert.deepEqual(pick(find('phi.dob', 'bob', TRIAL)), { requests: 1, rows_returned: rows.bobStar });
  assert.deepEqual(pick(find('phi.zip', 'bob', TRIAL)), { requests: 1, rows_returned: rows.bobStar });
  assert.equal(body.sensitive_access.filter((r) => r.user === 'bob' && r.tag.startsWith('pii')).length, 0);
  assert.deepEqual(pick(find('pii.email', 'erin', EVENTS)), { requests: 1, rows_returned: rows.erinEvents });
  assert.deepEqual(pick(find('pii.id', 'erin', EVENTS)), { requests: 1, rows_returned: rows.erinEvents });
  assert.equal(body.sensitive_access.filter((r) => r.user === 'dave' || r.user === 'carol').length, 0);
  const users = new Set(body.sensitive_access.map((r) => r.user));
  assert.deepEqual([...users].sort(), ['alice', 'bob', 'erin']);
});

function pick(row: { requests: number; rows_returned: number } | undefined): { requests: number; rows_returned: number } | undefined {
  return row && { requests: row.requests, rows_returned: row.rows_returned };
}

test('denied_attempts: dave refused twice, alice refused insights', async () => {
  const { body } = await insights('carol');
  const dave = body.denied_attempts.find((r) => r.user === 'dave');
  assert.deepEqual(dave && { ...dave, last_at: undefined }, { user: 'dave', error_code: 'DATASET_NOT_FOUND', statement_type: 'query', datasets: [], count: 2, last_at: undefined });
  assert.ok(dave !== undefined && Date.parse(dave.last_at) >= Date.parse(body.window.from) && Date.parse(dave.last_at) <= Date.parse(body.window.to));
  const alice = body.denied_attempts.find((r) => r.user === 'alice' && r.statement_type === 'audit');
  assert.equal(alice?.error_code, 'ACCESS_DENIED');
  assert.ok((alice?.count ?? 0) >= 1);
  assert.ok(body.denied_attempts.every((r) => r.user !== 'bob' && r.user !== 'erin'));
});

test('unused_grants: grants no allowed access listed in the window', async () => {
  const { body } = await insights('carol');
  const unused = new Map(body.unused_grants.map((g) => [g.policy, g]));
  // data-science-read, research-read and stewards-full-access shaped reads; data-science-own-region is a restriction.
  assert.deepEqual([...unused.keys()], ['compliance-catalog', 'veil-audit-compliance', 'veil-audit-own-records']);
  const catalog = unused.get('compliance-catalog');
  assert.deepEqual(catalog?.subjects, { groups: ['compliance'] });
  assert.deepEqual(catalog?.resources, [{ database: 'drug_xyz' }]);
  assert.deepEqual(catalog?.actions, ['describe']);
  assert.equal(catalog?.last_used_at, OLD, 'last use before the window is reported');
  assert.equal(unused.get('veil-audit-compliance')?.last_used_at, null);

  const longer = await insights('carol', '?days=60');
  assert.ok(!longer.body.unused_grants.some((g) => g.policy === 'compliance-catalog'), 'used within 60 days');
});

test('unused_access: readable datasets a stored user did not read', async () => {
  const { body } = await insights('carol');
  assert.deepEqual(body.unused_access, [
    { user: 'alice', dataset: EVENTS, last_read_at: null },
    { user: 'bob', dataset: EVENTS, last_read_at: OLD },
    { user: 'erin', dataset: TRIAL, last_read_at: null },
  ]);
  assert.equal(body.truncated.unused_access, false);
  const longer = await insights('carol', '?days=60');
  assert.deepEqual(longer.body.unused_access.map((r) => `${r.user} ${r.dataset}`), [`alice ${EVENTS}`, `erin ${TRIAL}`]);
});

test('top_datasets and top_columns rank by requests, then rows', async () => {
  const { body } = await insights('carol');
  assert.deepEqual(body.top_datasets.map((r) => [r.dataset, r.requests, r.users]), [[TRIAL, 5, 2], [EVENTS, 1, 1]]);
  const email = body.top_columns.find((r) => r.column === `${TRIAL}.email`);
  assert.deepEqual(email, { column: `${TRIAL}.email`, dataset: TRIAL, requests: 2, rows_returned: rows.aliceIdentifiers + rows.aliceEmail, users: 1 });
  // arm: alice's identifiers and e-mail queries, bob's two queries.
  assert.deepEqual(body.top_columns[0], { column: `${TRIAL}.arm`, dataset: TRIAL, requests: 4, rows_returned: rows.aliceIdentifiers + rows.aliceEmail + rows.bobArms + rows.bobStar, users: 2 });
  for (let i = 1; i < body.top_columns.length; i++) {
    const [a, b] = [body.top_columns[i - 1], body.top_columns[i]];
    assert.ok(a !== undefined && b !== undefined && (a.requests > b.requests || (a.requests === b.requests && a.rows_returned >= b.rows_returned)));
  }
  assert.equal(body.top_columns.length, 10);
  const one = await insights('carol', '?top=1');
  assert.deepEqual(one.body.top_datasets.map((r) => r.dataset), [TRIAL]);
  assert.equal(one.body.top_columns.length, 1);
});
