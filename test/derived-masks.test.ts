/**
 * Masks computed once (docs/performance.md): the dataset's view adds the costly masked values as
 * derived columns, its columnar copy keeps them, and scans read them. On the 200,000-row demo trial,
 * with real DuckDB and files: what alice gets is exactly what the transforms compute from the raw
 * values — from the copy, from the source while a copy is rebuilt, and after a policy asks for a new
 * mask — and no user can ever reach a derived column.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chunkRowsJson } from '../src/engine/index.ts';
import { principalOf, type Principal } from '../src/identity/index.ts';
import { validatePolicy } from '../src/policy/index.ts';
import { collectRows } from './support/pipeline.ts';
import { startTestServer } from './support/test-server.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const ROWS = 200_000;
const TRIAL = 'drug_xyz.trial_july2020';
const TRIAL_CSV = 'clinical-trials/drug-xyz/trial-july2020/data.csv';

let server: Server;
let alice: Principal;

before(async () => {
  server = await startTestServer({ rows: ROWS });
  alice = principalOf(await server.runtime.users.get('alice'));
});

after(async () => {
  await server.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the dataset's internal view reads now. */
async function viewSql(): Promise<string> {
  const rows = await server.runtime.engine.runInternal<[string]>(`SELECT sql FROM duckdb_views() WHERE schema_name = 'veil_internal' AND view_name = 'src__drug_xyz__trial_july2020'`);
  return rows[0]?.[0] ?? '';
}

/** Waits (bounded) until the view reads a fresh copy, querying as alice between polls (first use queues the work). */
async function untilCopyRead(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [status] = await server.runtime.cache.status([TRIAL]);
    if (status?.state === 'fresh' && (await viewSql()).includes('read_parquet')) return;
    if (i % 10 === 0) await aliceRows('SELECT count(*) FROM drug_xyz.trial_july2020');
    await sleep(100);
  }
  throw new Error(`the copy of ${TRIAL} was not read in time: ${JSON.stringify(await server.runtime.cache.status([TRIAL]))}`);
}

async function aliceRows(sql: string): Promise<unknown[][]> {
  return collectRows(server.runtime.queries, await server.runtime.queries.prepare(alice, sql));
}

/**
 * The reference: the transforms' macros applied directly to the raw CSV (the engine's internal
 * connection), with alice's row filter — no view, no copy, no derived column involved.
 */
async function reference(select: string, where = "WHERE r.country = 'US'"): Promise<string[]> {
  const csv = path.join(server.home, 'storage', TRIAL_CSV);
  const stream = await server.runtime.engine.execute(
    `SELECT ${select} FROM read_csv('${csv}', header = true, types = {'participant_id': 'VARCHAR', 'zip': 'VARCHAR', 'site_id': 'VARCHAR', 'ssn': 'VARCHAR', 'email': 'VARCHAR'}) AS r ${where}`,
    { timeoutMs: 120_000 },
  );
  const lines: string[] = [];
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) for (const row of chunkRowsJson(chunk)) lines.push(JSON.stringify(row));
  } finally {
    stream.close();
  }
  return lines.sort();
}

const ALICE_MASKED = 'SELECT participant_id, email, ssn, site_id FROM drug_xyz.trial_july2020';
const REFERENCE_MASKED =
  'veil_internal.veil_tokenize(CAST(r.participant_id AS VARCHAR)), veil_internal.veil_email_domain(CAST(r.email AS VARCHAR)), veil_internal.veil_mask_show_last(CAST(r.ssn AS VARCHAR), 4), r.site_id';

async function aliceMasked(): Promise<string[]> {
  return (await aliceRows(ALICE_MASKED)).map((row) => JSON.stringify(row)).sort();
}

test("alice's masked values read from the copy's derived columns are exactly the transforms of the raw values", async () => {
  await untilCopyRead();
  const derived = server.runtime.catalog.sourceRead(TRIAL)?.derived;
  assert.ok(derived !== undefined && derived.size >= 3, `derived columns: ${[...(derived?.values() ?? [])].join(', ')}`);
  const explained = await server.runtime.queries.explain(alice, ALICE_MASKED);
  assert.doesNotMatch(explained.datasets[0]?.scan_sql ?? '', /veil_tokenize|veil_email_domain|veil_mask_show_last/, 'the scan reads stored values');
  const expected = await reference(REFERENCE_MASKED);
  const got = await aliceMasked();
  assert.equal(got.length, expected.length);
  assert.ok(got.length > 100_000, `${got.length} rows`);
  assert.deepEqual(got, expected);
});

test('a policy asking for a new costly mask: right while the view computes it, and once the copy keeps it', async () => {
  await untilCopyRead();
  const before = new Set(server.runtime.catalog.sourceRead(TRIAL)?.derived.values());
  const policy = validatePolicy({
    name: 'derived-test-site-mask',
    subjects: { users: ['alice'] },
    resources: [{ dataset: TRIAL }],
    masks: [{ columns: ['site_id'], transform: 'mask_show_first(1)' }],
  });
  await server.runtime.policies.apply([policy]);
  try {
    const expected = await reference(REFERENCE_MASKED.replace('r.site_id', 'veil_internal.veil_mask_show_first(CAST(r.site_id AS VARCHAR), 1)'));
    // The first query after the change: the view now adds the new derived column over the source
    // (the copy is of the old definition, so it is not read) and a build is queued.
    const first = await aliceMasked();
    assert.deepEqual(first, expected);
    const after = server.runtime.catalog.sourceRead(TRIAL)?.derived;
    assert.ok(after !== undefined && after.size === before.size + 1, 'one more derived column');
    for (const name of before) assert.ok([...after.values()].includes(name), 'derived columns are never dropped while the process runs');
    await untilCopyRead();
    assert.deepEqual(await aliceMasked(), expected);
  } finally {
    await server.runtime.policies.delete(policy.name);
  }
  // The policy is gone: site_id is clear again for alice, whatever the view still keeps.
  const clear = await reference(REFERENCE_MASKED);
  assert.deepEqual(await aliceMasked(), clear);
});

test('no user can reach a derived column: not by name, not by star, not by DESCRIBE', async () => {
  const names = [...(server.runtime.catalog.sourceRead(TRIAL)?.derived.values() ?? [])];
  assert.ok(names.length > 0);
  for (const user of ['alice', 'erin']) {
    const { status, body } = await server.query(user, `SELECT ${names[0] ?? ''} FROM ${TRIAL}`);
    assert.equal(status, 400, JSON.stringify(body));
    // The error names only what the user wrote: no candidate, no other internal name.
    assert.doesNotMatch(JSON.stringify(body), /candidate/i);
    for (const other of names.slice(1)) assert.ok(!JSON.stringify(body).includes(other));
    const star = await server.query(user, `SELECT * FROM ${TRIAL} LIMIT 1`);
    assert.ok(star.body.columns?.every((c) => !c.name.startsWith('__veil')), JSON.stringify(star.body.columns));
    const describe = await server.query(user, `DESCRIBE ${TRIAL}`);
    assert.doesNotMatch(JSON.stringify(describe.body), /__veil_d_/);
  }
});

test('a Parquet dataset with costly masks gets a copy holding them; without such masks it is read in place', async () => {
  const csv = path.join(server.home, 'storage', TRIAL_CSV);
  const dir = path.join(server.home, 'storage', 'parquet-trial');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'trial.parquet');
  await server.runtime.engine.runInternal(
    `COPY (SELECT * FROM read_csv('${csv}', header = true, types = {'participant_id': 'VARCHAR', 'zip': 'VARCHAR', 'site_id': 'VARCHAR', 'ssn': 'VARCHAR', 'email': 'VARCHAR'})) TO '${file}' (FORMAT parquet)`,
  );
  const columnTags = { participant_id: ['pii.id'], email: ['pii.email'], ssn: ['pii.ssn'], full_name: ['pii.name'] };
  await server.runtime.catalog.register({ name: 'drug_xyz.trial_parquet', location: 'parquet-trial/trial.parquet', format: 'parquet', columnTags });
  await server.runtime.catalog.register({ name: 'drug_xyz.plain_parquet', location: 'parquet-trial/trial.parquet', format: 'parquet' });
  const statusOf = async (name: string): Promise<string> => (await server.runtime.cache.status([name]))[0]?.state ?? '';
  for (let i = 0; i < 600 && (await statusOf('drug_xyz.trial_parquet')) !== 'fresh'; i++) {
    if (i % 10 === 0) await aliceRows('SELECT count(*) FROM drug_xyz.trial_parquet');
    await sleep(100);
  }
  assert.equal(await statusOf('drug_xyz.trial_parquet'), 'fresh');
  assert.equal(await statusOf('drug_xyz.plain_parquet'), 'in_place');
  const got = (await aliceRows('SELECT participant_id, email, ssn, site_id FROM drug_xyz.trial_parquet')).map((row) => JSON.stringify(row)).sort();
  const expected = (await reference(REFERENCE_MASKED, '')).sort();
  assert.equal(got.length, ROWS);
  assert.deepEqual(got, expected);
});
