/**
 * Result reuse (src/query/result-cache.ts) on the 200,000-row demo trial, over real HTTP, DuckDB and
 * files: a kept result is exactly the answer running the query would give now — never after its
 * source changed, never across a policy or identity change, never for a statement whose answer
 * varies — and every request is audited the same way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { validatePolicy } from '../src/policy/index.ts';
import { principalOf } from '../src/identity/index.ts';
import { RESULT_CACHE_MAX_ROWS } from '../src/query/index.ts';
import { startTestServer } from './support/test-server.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const ROWS = 200_000;
const TRIAL = 'drug_xyz.trial_july2020';
const TRIAL_CSV = 'clinical-trials/drug-xyz/trial-july2020/data.csv';
const COUNT = `SELECT count(*) FROM ${TRIAL} WHERE arm = 'placebo'`;

let server: Server;
let csvPath: string;

before(async () => {
  server = await startTestServer({ rows: ROWS });
  csvPath = path.join(server.home, 'storage', TRIAL_CSV);
});

after(async () => {
  await server.close();
});

/** Tables holding kept results in the engine now. */
async function keptResults(): Promise<number> {
  const rows = await server.runtime.engine.runInternal<[bigint]>(`SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'veil_internal' AND table_name LIKE 'result_%'`);
  return Number(rows[0]?.[0] ?? 0);
}

/** Ground truth from the CSV file itself, through a DuckDB of the test's own. */
async function truth(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql.replaceAll('$CSV', `read_csv('${csvPath}', header = true, all_varchar = true)`));
    return reader.getRowsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function rows(user: string, sql: string): Promise<unknown[][]> {
  return server.rows(user, sql);
}

test('a repeated small result is kept from its second run and read back: the same answer as the data gives', async () => {
  const before = await keptResults();
  const expected = await truth(`SELECT count(*) FROM $CSV WHERE arm = 'placebo' AND country = 'US'`);
  const first = await rows('alice', COUNT);
  assert.equal(String(first[0]?.[0]), String(expected[0]?.[0]));
  assert.equal(await keptResults(), before, 'one run keeps nothing');
  assert.deepEqual(await rows('alice', COUNT), first);
  assert.equal(await keptResults(), before + 1, 'the second run keeps the result');
  for (let i = 0; i < 3; i++) assert.deepEqual(await rows('alice', COUNT), first);
  assert.equal(await keptResults(), before + 1);
  // erin has no row filter: her answer is her own, kept apart.
  const all = await truth(`SELECT count(*) FROM $CSV WHERE arm = 'placebo'`);
  for (let i = 0; i < 3; i++) assert.equal(String((await rows('erin', COUNT))[0]?.[0]), String(all[0]?.[0]));
  assert.notEqual(String(all[0]?.[0]), String(first[0]?.[0]));
  assert.deepEqual(await rows('alice', COUNT), first);
});

test('a kept result is never read once the source changed', async () => {
  for (let i = 0; i < 3; i++) await rows('alice', COUNT);
  const header = readFileSync(csvPath, 'utf8').split('\n', 1)[0] ?? '';
  const columns = header.split(',');
  const line = (n: number): string =>
    columns
      .map((c) => {
        if (c === 'participant_id') return `NEW-${n}`;
        if (c === 'country') return 'US';
        if (c === 'arm') return 'placebo';
        if (c === 'consent_research') return 'true';
        if (c === 'date_of_birth') return '1980-01-01';
        if (c === 'enrolled_at') return '2020-07-01 10:00:00';
        if (c === 'dose_mg' || c === 'outcome_score') return '1.5';
        if (c === 'adverse_event') return 'false';
        return `x${n}`;
      })
      .join(',');
  appendFileSync(csvPath, `${[1, 2, 3].map(line).join('\n')}\n`);
  const expected = await truth(`SELECT count(*) FROM $CSV WHERE arm = 'placebo' AND country = 'US'`);
  assert.equal(String((await rows('alice', COUNT))[0]?.[0]), String(expected[0]?.[0]), 'the first query after the change reads the new rows');
  assert.equal(String((await rows('alice', COUNT))[0]?.[0]), String(expected[0]?.[0]));
});

test('a change of policy or identity is in force at once, whatever was kept', async () => {
  for (let i = 0; i < 3; i++) await rows('alice', COUNT);
  const us = String((await rows('alice', COUNT))[0]?.[0]);
  const alice = await server.runtime.users.get('alice');
  await server.runtime.users.put({ ...alice, attributes: { ...alice.attributes, region: 'DE' } });
  try {
    const de = await truth(`SELECT count(*) FROM $CSV WHERE arm = 'placebo' AND country = 'DE'`);
    assert.equal(principalOf(await server.runtime.users.get('alice')).attributes['region']?.[0], 'DE');
    for (let i = 0; i < 3; i++) assert.equal(String((await rows('alice', COUNT))[0]?.[0]), String(de[0]?.[0]));
  } finally {
    await server.runtime.users.put(alice);
  }
  assert.equal(String((await rows('alice', COUNT))[0]?.[0]), us);
  // A policy that adds a row filter: the next answer is filtered.
  const policy = validatePolicy({
    name: 'reuse-test-consent-only',
    subjects: { users: ['alice'] },
    resources: [{ dataset: TRIAL }],
    row_filter: 'consent_research = true',
  });
  await server.runtime.policies.apply([policy]);
  try {
    const consenting = await truth(`SELECT count(*) FROM $CSV WHERE arm = 'placebo' AND country = 'US' AND consent_research = 'true'`);
    for (let i = 0; i < 3; i++) assert.equal(String((await rows('alice', COUNT))[0]?.[0]), String(consenting[0]?.[0]));
  } finally {
    await server.runtime.policies.delete(policy.name);
  }
  assert.equal(String((await rows('alice', COUNT))[0]?.[0]), us);
});

test('statements whose answer varies from run to run are never kept', async () => {
  const before = await keptResults();
  for (const sql of [
    `SELECT count(*) FROM ${TRIAL} WHERE random() < 2`,
    `SELECT current_date, count(*) FROM ${TRIAL}`,
    `SELECT count(*) FROM ${TRIAL} USING SAMPLE 100 ROWS`,
    `SELECT uuid() IS NOT NULL FROM ${TRIAL} LIMIT 1`,
    `SELECT count(*) FROM veil_system.audit_log`,
  ]) {
    const prepared = await server.runtime.queries.prepare(principalOf(await server.runtime.users.get('alice')), sql);
    assert.equal(prepared.reusable && !sql.includes('audit_log'), false, sql);
    for (let i = 0; i < 3; i++) assert.equal((await server.query('alice', sql)).status, 200, sql);
  }
  assert.equal(await keptResults(), before);
  // The audit trail changes with every request: its count is always current.
  const a = Number((await rows('carol', 'SELECT count(*) FROM veil_system.audit_log'))[0]?.[0]);
  const b = Number((await rows('carol', 'SELECT count(*) FROM veil_system.audit_log'))[0]?.[0]);
  const c = Number((await rows('carol', 'SELECT count(*) FROM veil_system.audit_log'))[0]?.[0]);
  assert.ok(a < b && b < c, `${a} < ${b} < ${c}`);
});

test('results larger than the limit are streamed every time, never kept', async () => {
  const before = await keptResults();
  const sql = `SELECT participant_id FROM ${TRIAL} ORDER BY participant_id LIMIT ${RESULT_CACHE_MAX_ROWS + 1}`;
  for (let i = 0; i < 3; i++) assert.equal((await rows('alice', sql)).length, RESULT_CACHE_MAX_ROWS + 1);
  assert.equal(await keptResults(), before);
});

test('a kept result keeps the exact column names and types, duplicates included', async () => {
  const sql = `SELECT count(*) AS n, count(*) AS n, min(dose_mg) AS dose FROM ${TRIAL}`;
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await server.query('alice', sql)).body);
  for (const body of answers) {
    assert.deepEqual(body.columns, answers[0]?.columns);
    assert.deepEqual(body.rows, answers[0]?.rows);
  }
  assert.deepEqual(
    answers[0]?.columns?.map((c) => c.name),
    ['n', 'n', 'dose'],
  );
});

test('CSV delivery reads a kept result too, byte for byte the same, and every request is audited', async () => {
  const sql = `SELECT arm, count(*) AS n FROM ${TRIAL} GROUP BY arm ORDER BY arm`;
  const bodies: string[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await server.post('alice', '/v1/query', { sql }, { Accept: 'text/csv' });
    assert.equal(response.status, 200);
    bodies.push(await response.text());
  }
  assert.ok(bodies.every((b) => b === bodies[0]));
  assert.match(bodies[0] ?? '', /^arm,n\n/);
  const audited = await rows('carol', `SELECT rows_returned FROM veil_system.audit_log WHERE "user" = 'alice' AND statement = '${sql.replaceAll("'", "''")}'`);
  assert.equal(audited.length, 4);
  assert.ok(audited.every((r) => String(r[0]) === String(audited[0]?.[0]) && Number(r[0]) > 0));
});

test("a kept result is answered at once while the user's engine share is full; other queries wait for it", async () => {
  const alice = principalOf(await server.runtime.users.get('alice'));
  for (let i = 0; i < 3; i++) await rows('alice', COUNT); // kept
  const expected = await rows('alice', COUNT);
  // Two of alice's full scans hold both of her engine slots (max_concurrent_queries_per_user: 2).
  const held = [];
  for (let i = 0; i < 2; i++) {
    const stream = await server.runtime.queries.open(await server.runtime.queries.prepare(alice, `SELECT * FROM ${TRIAL}`));
    await stream.nextChunk();
    held.push(stream);
  }
  try {
    let otherDone = false;
    const other = rows('alice', `SELECT count(*) FROM ${TRIAL} WHERE arm = 'no such arm'`).then((r) => {
      otherDone = true;
      return r;
    });
    assert.deepEqual(await rows('alice', COUNT), expected);
    assert.equal(otherDone, false, 'a query that must run waits for a slot');
    for (const stream of held.splice(0)) stream.close();
    assert.deepEqual(await other, [[0]]);
  } finally {
    for (const stream of held) stream.close();
  }
});

test('a kept ORDER BY result keeps its order, row for row', async () => {
  const sql = `SELECT participant_id, dose_mg FROM ${TRIAL} ORDER BY dose_mg DESC, participant_id LIMIT ${RESULT_CACHE_MAX_ROWS}`;
  const first = await rows('alice', sql);
  assert.equal(first.length, RESULT_CACHE_MAX_ROWS);
  for (let i = 0; i < 4; i++) assert.deepEqual(await rows('alice', sql), first);
  const doses = first.map((r) => Number(r[1]));
  assert.ok(doses.every((d, i) => i === 0 || d <= (doses[i - 1] as number)));
});
