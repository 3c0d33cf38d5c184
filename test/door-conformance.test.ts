import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { DOORS, type DoorOutcome } from './support/doors.ts';
import { auditLogRows } from './support/audit-trail.ts';

/**
 * One table of cases through every door (HTTP, the CLI, the PostgreSQL wire): each must reach the
 * same decision and leave the same audit record apart from the door and what the client says of
 * itself. A door that maps a denial to "error", skips the record or names other datasets fails here.
 */

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
let server: TestServer & { internalErrors: unknown[] };

before(async () => {
  server = await startTestServer({ rows: 3000 });
});
after(async () => server.close());

interface Case {
  readonly name: string;
  readonly user: string;
  readonly sql: string;
  readonly decision: 'allowed' | 'denied' | 'error';
  readonly errorCode: string | null;
}

const CASES: readonly Case[] = [
  { name: 'allowed', user: 'alice', sql: "SELECT arm, count(*) AS n FROM drug_xyz.trial_july2020 WHERE arm = 'placebo' GROUP BY arm", decision: 'allowed', errorCode: null },
  { name: 'denied by policy', user: 'bob', sql: 'SELECT ssn FROM drug_xyz.trial_july2020', decision: 'denied', errorCode: 'COLUMN_ACCESS_DENIED' },
  { name: 'invisible dataset', user: 'dave', sql: 'SELECT count(*) FROM drug_xyz.trial_july2020', decision: 'denied', errorCode: 'DATASET_NOT_FOUND' },
  { name: 'not found', user: 'alice', sql: 'SELECT * FROM drug_xyz.no_such_dataset', decision: 'denied', errorCode: 'DATASET_NOT_FOUND' },
  { name: 'invalid SQL', user: 'bob', sql: 'SELEC 1 FROM', decision: 'error', errorCode: 'INVALID_SQL' },
  { name: 'disallowed construct', user: 'bob', sql: "SELECT * FROM read_csv('/etc/passwd')", decision: 'denied', errorCode: 'SQL_NOT_ALLOWED' },
  { name: 'engine error', user: 'bob', sql: 'SELECT CAST(arm AS INTEGER) FROM drug_xyz.trial_july2020', decision: 'error', errorCode: 'QUERY_FAILED' },
];

/** The fields every door must record identically. */
const COMPARED = ['user', 'groups', 'statement', 'statement_type', 'datasets', 'columns', 'policies', 'decision', 'rows_returned', 'error_code'] as const;

async function auditRecords(door: string, statement: string): Promise<Record<string, unknown>[]> {
  const rows = await auditLogRows(server.home, 'door = ? AND statement = ?', [door, statement]);
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, ['groups', 'datasets', 'columns', 'policies'].includes(k) && typeof v === 'string' ? JSON.parse(v) : v])));
}

for (const c of CASES) {
  test(`door conformance: ${c.name}: same decision and audit record through every door`, async () => {
    const outcomes = new Map<string, DoorOutcome>();
    for (const door of DOORS) outcomes.set(door.name, await door.query(server, c.user, c.sql));
    const records = new Map<string, Record<string, unknown>>();
    for (const door of DOORS) {
      const outcome = outcomes.get(door.name)!;
      assert.equal(outcome.errorCode, c.errorCode, `${door.name}: ${JSON.stringify(outcome).slice(0, 300)}`);
      const found = await auditRecords(door.audited, c.sql);
      assert.equal(found.length, 1, `${door.name} leaves exactly one record: ${JSON.stringify(found).slice(0, 2000)}`);
      records.set(door.name, found[0]!);
      assert.equal(found[0]!['decision'], c.decision, `${door.name} records decision ${c.decision}`);
      assert.equal(found[0]!['error_code'], c.errorCode);
    }
    const [first, ...others] = [...records.entries()];
    const expected = Object.fromEntries(COMPARED.map((k) => [k, first![1][k]]));
    for (const [door, record] of others) {
      assert.deepEqual(Object.fromEntries(COMPARED.map((k) => [k, record[k]])), expected, `${door} records what ${first![0]} records`);
    }
    if (c.decision === 'allowed') {
      // Compared as text: each door has its own number encoding (JSON numbers, strings for BIGINT, PostgreSQL text).
      const rows = [...outcomes.values()].map((o) => JSON.stringify(o.rows.map((r) => r.map((v) => (v === null ? null : String(v))))));
      assert.equal(new Set(rows).size, 1, `every door returns the same rows: ${rows.join(' | ')}`);
    }
  });
}

test('a dataset registered by the CLI while the server runs is queryable at once, through every door', async () => {
  // A second copy of the demo trial, registered by another process (the CLI) on the live home.
  const source = path.join(server.home, 'storage', 'clinical-trials', 'drug-xyz', 'trial-july2020');
  const target = path.join(server.home, 'storage', 'late-arrival', 'trial-copy');
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(source, target, { recursive: true });
  await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'catalog', 'crawl', 'late-arrival', '--database', 'late', '--home', server.home], { cwd: root });
  const policy = path.join(server.home, 'late-policy.yaml');
  writeFileSync(policy, 'policies:\n  - name: late-readers\n    effect: grant\n    subjects:\n      groups: [late_readers]\n    resources:\n      - database: late\n');
  await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'policy', 'apply', '-f', policy, '--home', server.home], { cwd: root });
  await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'user', 'add', 'lena', '--group', 'late_readers', '--home', server.home], { cwd: root });
  const answered = await server.query('lena', 'SELECT count(*) AS n FROM late.trial_copy');
  assert.equal(answered.status, 200, JSON.stringify(answered.body));
  assert.deepEqual(answered.body.rows, [[3000]]);
  assert.deepEqual(server.internalErrors, []);
});

test('no door recorded an internal error', () => {
  assert.deepEqual(server.internalErrors, []);
});
