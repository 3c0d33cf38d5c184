/**
 * The columnar cache (docs/cache.md) on real DuckDB and real files: a copy is read only while it is
 * of the source as it is now, never when the source changed or the copy's file was damaged, and
 * it changes nothing anyone sees. Waits are bounded polls, never timing assertions.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, closeSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { stringify } from 'yaml';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { validatePolicy } from '../src/policy/index.ts';
import { principalOf } from '../src/identity/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { collectRows } from './support/pipeline.ts';
import { startTestServer, type QueryBody } from './support/test-server.ts';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const TRIAL = 'drug_xyz.trial_july2020';
const ADVERSE = 'drug_xyz.adverse_events';
const TRIAL_CSV = 'clinical-trials/drug-xyz/trial-july2020/data.csv';
const root = path.resolve(import.meta.dirname, '..');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface ManifestRow {
  state: string;
  file: string | null;
  file_bytes: number | null;
  row_count: number | null;
  stamp_digest: string;
}

function manifestRow(runtime: VeilRuntime, dataset: string): ManifestRow | undefined {
  const entry = runtime.cacheManifest.get(dataset);
  return entry === undefined ? undefined : { state: entry.state, file: entry.file, file_bytes: entry.fileBytes, row_count: entry.rowCount, stamp_digest: entry.stampDigest };
}

/** What the dataset's internal view reads now (its CREATE VIEW statement). */
async function viewSql(runtime: VeilRuntime, dataset: string): Promise<string> {
  const [database, name] = dataset.split('.');
  const rows = await runtime.engine.runInternal<[string]>(`SELECT sql FROM duckdb_views() WHERE schema_name = 'veil_internal' AND view_name = $1`, [`src__${database}__${name}`]);
  return rows[0]?.[0] ?? '';
}

/**
 * Waits (bounded) until the dataset's view reads a fresh copy whose file satisfies `accept`, running
 * `use` between polls when given (a query: first use queues the work). Returns the manifest row.
 */
async function untilCached(runtime: VeilRuntime, dataset: string, options: { use?: () => Promise<unknown>; accept?: (row: ManifestRow) => boolean } = {}): Promise<ManifestRow> {
  for (let i = 0; i < 600; i++) {
    const row = manifestRow(runtime, dataset);
    const [status] = await runtime.cache.status([dataset]);
    if (row?.file !== null && row?.file !== undefined && status?.state === 'fresh' && (options.accept?.(row) ?? true) && (await viewSql(runtime, dataset)).includes(row.file)) return row;
    if (options.use !== undefined && i % 5 === 0) await options.use();
    await sleep(50);
  }
  throw new Error(`${dataset} was not cached in time: ${JSON.stringify(await runtime.cache.status([dataset]))}, view ${await viewSql(runtime, dataset)}`);
}

function cacheFile(home: string, row: ManifestRow): string {
  return path.join(home, 'cache', 'columnar', row.file ?? '');
}

/** Rows of a query as a user, sorted (the order of rows without ORDER BY is not part of the comparison). */
async function answer(s: TestServer, user: string, sql: string): Promise<{ status: number; columns: QueryBody['columns']; rows: string[] }> {
  const { status, body } = await s.query(user, sql);
  return { status, columns: body.columns, rows: (body.rows ?? []).map((r) => JSON.stringify(r)).sort() };
}

const COMPARED_QUERIES = [
  `SELECT * FROM ${TRIAL}`,
  `SELECT arm, country, count(*) AS n, avg(dose_mg) AS dose, min(enrolled_at) AS first FROM ${TRIAL} GROUP BY ALL ORDER BY ALL`,
  `SELECT t.participant_id, t.email, a.* FROM ${TRIAL} t JOIN ${ADVERSE} a USING (participant_id)`,
  `SELECT * FROM ${ADVERSE}`,
];

describe('the demo trial through the cache', () => {
  let s: TestServer;
  after(async () => s?.close());

  test('a dataset gets a Parquet copy with its manifest, and every user gets exactly the rows, types and masks of the source', async () => {
    s = await startTestServer({ rows: 3000 });
    const trial = await untilCached(s.runtime, TRIAL);
    await untilCached(s.runtime, ADVERSE);
    assert.equal(trial.state, 'ready');
    assert.equal(trial.row_count, 3000);
    assert.equal(statSync(cacheFile(s.home, trial)).size, trial.file_bytes);
    assert.match(await viewSql(s.runtime, TRIAL), /read_parquet/);
    const cached = new Map<string, unknown>();
    for (const user of ['alice', 'bob', 'erin', 'carol']) for (const sql of COMPARED_QUERIES) cached.set(`${user}|${sql}`, await answer(s, user, sql));

    await s.runtime.cache.drop();
    assert.match(await viewSql(s.runtime, TRIAL), /read_csv/);
    for (const user of ['alice', 'bob', 'erin', 'carol']) {
      for (const sql of COMPARED_QUERIES) {
        const fromSource = await answer(s, user, sql);
        assert.deepEqual(cached.get(`${user}|${sql}`), fromSource, `${user}: ${sql}`);
        if (user === 'alice' || user === 'erin') assert.equal(fromSource.status, 200, `${user}: ${sql}`);
      }
    }
    // Dropped copies stay dropped: queries read the source and queue nothing.
    assert.equal((await s.runtime.cache.status([TRIAL]))[0]?.state, 'dropped');
    assert.match(await viewSql(s.runtime, TRIAL), /read_csv/);
    assert.deepEqual(s.internalErrors, []);
  });

  test('over HTTP: administrators see each copy and rebuild one in the background; others are refused', async () => {
    assert.equal((await s.get('alice', '/v1/cache')).status, 403);
    assert.equal((await s.post('alice', '/v1/cache/rebuild', { datasets: [TRIAL] })).status, 403);
    const listed = (await (await s.get('erin', '/v1/cache')).json()) as { datasets: { dataset: string; state: string }[] };
    assert.deepEqual(listed.datasets.map((d) => d.dataset).sort(), [ADVERSE, TRIAL], 'every CSV dataset, with its state');
    const builtAt = (): string | undefined => s.runtime.cacheManifest.get(TRIAL)?.builtAt ?? undefined;
    const before = builtAt();
    const started = await s.post('erin', '/v1/cache/rebuild', { datasets: [TRIAL] });
    assert.equal(started.status, 202);
    // The copy is built again (a new build time), reported fresh when done; bounded wait.
    let state = '';
    for (let i = 0; i < 200 && state !== 'fresh-again'; i++) {
      const status = ((await (await s.get('erin', `/v1/cache?dataset=${TRIAL}`)).json()) as { datasets: { state: string }[] }).datasets[0]?.state;
      if (status === 'fresh' && builtAt() !== before) state = 'fresh-again';
      else await sleep(100);
    }
    assert.equal(state, 'fresh-again', 'the rebuild finished and the copy is fresh');
    const after = ((await (await s.get('erin', `/v1/cache?dataset=${TRIAL}`)).json()) as { datasets: { file_bytes: number | null }[] }).datasets[0];
    assert.ok((after?.file_bytes ?? 0) > 0);
    const records = await s.rows('carol', "SELECT statement FROM veil_system.audit_log WHERE statement LIKE 'cache rebuild%' AND \"user\" = 'erin'");
    assert.ok(records.length >= 1, 'the rebuild is audited');
  });

  test('a changed source is read by the very next query (same size, new content), then copied again', async () => {
    await s.runtime.cache.rebuild([TRIAL]);
    const first = await untilCached(s.runtime, TRIAL);
    const csv = path.join(s.home, 'storage', TRIAL_CSV);
    const dose = async (): Promise<unknown> => (await s.rows('erin', `SELECT dose_mg FROM ${TRIAL} WHERE participant_id = 'P0000001'`))[0]?.[0];
    const before = await dose();
    // Same length, so the same size: only the modification time tells.
    const text = readFileSync(csv, 'utf8');
    const line = text.split('\n')[1] as string;
    const fields = line.split(',');
    const original = fields[9] as string;
    const changed = original.replace(/\d/g, original.startsWith('9') ? '1' : '9');
    fields[9] = changed;
    writeFileSync(csv, text.replace(line, fields.join(',')));
    assert.equal(statSync(csv).size, Buffer.byteLength(text));
    assert.notEqual(before, Number(changed));
    assert.equal(await dose(), Number(changed), 'the first query after the change must read the new source');
    const second = await untilCached(s.runtime, TRIAL, { accept: (row) => row.file !== first.file });
    assert.notEqual(second.stamp_digest, first.stamp_digest);
    assert.equal(await dose(), Number(changed));

    // A new row, appended.
    appendFileSync(csv, 'P9999999,New Person,new.person@mail.test,123-45-6789,1980-01-01,12345,US,S001,placebo,100.00,50.00,true,false,2020-07-01 00:00:00\n');
    assert.deepEqual(await s.rows('erin', `SELECT full_name, count(*) OVER () FROM ${TRIAL} WHERE participant_id = 'P9999999'`), [['New Person', 1]]);
    assert.deepEqual(await s.rows('erin', `SELECT count(*) FROM ${TRIAL}`), [[3001]]);
    const third = await untilCached(s.runtime, TRIAL, { accept: (row) => row.file !== second.file });
    assert.equal(third.row_count, 3001);
    assert.deepEqual(await s.rows('alice', `SELECT participant_id IS NOT NULL, full_name, ssn, zip FROM ${TRIAL} WHERE dose_mg = 100.00 AND outcome_score = 50.00 AND site_id = 'S001' AND enrolled_at = TIMESTAMP '2020-07-01 00:00:00'`), [[true, null, 'XXX-XX-6789', '123']]);
    // Only a touch (new modification time): the copy is stale at once, then rebuilt.
    const future = new Date(Date.now() + 60_000);
    utimesSync(csv, future, future);
    assert.equal((await s.runtime.cache.status([TRIAL]))[0]?.state, 'stale');
    assert.deepEqual(await s.rows('erin', `SELECT count(*) FROM ${TRIAL}`), [[3001]]);
    await untilCached(s.runtime, TRIAL, { accept: (row) => row.file !== third.file });
    // Replaced files are removed.
    for (let i = 0; i < 200 && [first, second, third].some((row) => existsSync(cacheFile(s.home, row))); i++) await sleep(50);
    assert.ok(![first, second, third].some((row) => existsSync(cacheFile(s.home, row))), 'replaced copies are removed');
  });

  test('a truncated copy is never read: the query reads the source, and the copy is rebuilt', async () => {
    const copy = await untilCached(s.runtime, TRIAL);
    const sql = `SELECT participant_id, dose_mg, arm FROM ${TRIAL} ORDER BY participant_id`;
    const expected = await s.rows('erin', sql);
    truncateSync(cacheFile(s.home, copy), Math.floor((copy.file_bytes ?? 0) / 2));
    assert.deepEqual(await s.rows('erin', sql), expected);
    const rebuilt = await untilCached(s.runtime, TRIAL, { use: () => s.rows('erin', sql), accept: (row) => row.file !== copy.file });
    assert.equal(statSync(cacheFile(s.home, rebuilt)).size, rebuilt.file_bytes);
    assert.deepEqual(await s.rows('erin', sql), expected);

    // Damaged in place, same size: the changed modification time makes it checked again, and its sha256 fails.
    const fd = openSync(cacheFile(s.home, rebuilt), 'r+');
    writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor((rebuilt.file_bytes ?? 0) / 3));
    closeSync(fd);
    assert.deepEqual(await s.rows('erin', sql), expected);
    await untilCached(s.runtime, TRIAL, { use: () => s.rows('erin', sql), accept: (row) => row.file !== rebuilt.file });
    assert.deepEqual(await s.rows('erin', sql), expected);
    assert.deepEqual(s.internalErrors, []);
  });

  test('a source that changes while its copy is built: the copy is discarded, never published', async () => {
    const dir = path.join(s.home, 'storage', 'racing');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'data.csv');
    writeFileSync(file, `id,value\n${Array.from({ length: 2000 }, (_, i) => `${i},v${i}`).join('\n')}\n`);
    const outcomes: string[] = [];
    let changed = false;
    const stop = s.runtime.cache.onProgress((p) => {
      if (p.dataset !== 'drug_xyz.racing') return;
      outcomes.push(p.phase === 'discarded' ? `discarded: ${p.reason ?? ''}` : p.phase);
      // The first build: the source changes after it was stamped, before it is read.
      if (p.phase === 'started' && !changed) {
        changed = true;
        appendFileSync(file, '2000,late\n');
      }
    });
    try {
      await s.runtime.catalog.register({ name: 'drug_xyz.racing', location: 'racing/data.csv', format: 'csv' });
      const count = (): Promise<unknown[][]> => s.rows('erin', 'SELECT count(*), max(id) FROM drug_xyz.racing');
      const row = await untilCached(s.runtime, 'drug_xyz.racing', { use: count });
      assert.ok(outcomes.includes('discarded: the source changed during the build'), outcomes.join(', '));
      assert.equal(row.row_count, 2001);
      assert.deepEqual(await count(), [[2001, 2000]]);
    } finally {
      stop();
    }
  });

  test('a dataset of several files: a change to any of them, a new one and a removed one are read at once', async () => {
    const dir = path.join(s.home, 'storage', 'sites');
    mkdirSync(dir, { recursive: true });
    const part = (n: number, rows: number): string => `site,participant,score\n${Array.from({ length: rows }, (_, i) => `S${n},P${n}${i},${i}`).join('\n')}\n`;
    for (const n of [1, 2, 3]) writeFileSync(path.join(dir, `part-${n}.csv`), part(n, 100));
    await s.runtime.catalog.register({ name: 'drug_xyz.sites', location: 'sites/part-*.csv', format: 'csv' });
    const perSite = (): Promise<unknown[][]> => s.rows('erin', 'SELECT site, count(*) FROM drug_xyz.sites GROUP BY site ORDER BY site');
    const first = await untilCached(s.runtime, 'drug_xyz.sites', { use: perSite });
    assert.equal(first.row_count, 300);
    assert.deepEqual(await perSite(), [['S1', 100], ['S2', 100], ['S3', 100]]);

    writeFileSync(path.join(dir, 'part-2.csv'), part(2, 150));
    assert.deepEqual(await perSite(), [['S1', 100], ['S2', 150], ['S3', 100]]);
    const second = await untilCached(s.runtime, 'drug_xyz.sites', { use: perSite, accept: (row) => row.file !== first.file });
    assert.equal(second.row_count, 350);

    writeFileSync(path.join(dir, 'part-4.csv'), part(4, 10));
    rmSync(path.join(dir, 'part-1.csv'));
    assert.deepEqual(await perSite(), [['S2', 150], ['S3', 100], ['S4', 10]]);
    const third = await untilCached(s.runtime, 'drug_xyz.sites', { use: perSite, accept: (row) => row.file !== second.file });
    assert.equal(third.row_count, 260);
    assert.deepEqual(await perSite(), [['S2', 150], ['S3', 100], ['S4', 10]]);
    // A file that does not match the pattern changes nothing.
    writeFileSync(path.join(dir, 'notes.csv'), 'a\n1\n');
    assert.equal((await s.runtime.cache.status(['drug_xyz.sites']))[0]?.state, 'fresh');
  });
});

describe('JSON, nested and recast types, unsupported types, S3', () => {
  let s: TestServer;
  let s3server: S3rver | undefined;
  let s3: S3Client | undefined;
  const objects = mkdtempSync(path.join(os.tmpdir(), 'veil-cache-s3-'));
  after(async () => {
    await s?.close();
    s3?.destroy();
    await s3server?.close();
    rmSync(objects, { recursive: true, force: true });
  });

  test('a JSON dataset with lists, structs and a type Parquet stores in another form reads the same through its copy', async () => {
    s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: objects });
    const { port } = (await s3server.run()) as { port: number };
    const endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    s = await startTestServer({
      rows: 200,
      prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), stringify({ s3: { endpoint, region: 'us-east-1', force_path_style: true, access_key_id: 'S3RVER', secret_access_key: 'S3RVER' } })),
    });
    const dir = path.join(s.home, 'storage', 'events');
    mkdirSync(dir, { recursive: true });
    const lines = Array.from({ length: 500 }, (_, i) =>
      JSON.stringify({ id: i, tags: i % 3 === 0 ? [] : [`t${i % 7}`, 'x'], detail: { score: i / 8, note: i % 5 === 0 ? null : `n${i}` }, at: `2020-0${1 + (i % 9)}-1${i % 10} 10:${10 + (i % 50)}:0${i % 10}`, ratio: i % 11 === 0 ? null : 1 / (i + 1) }),
    );
    writeFileSync(path.join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
    await s.runtime.catalog.register({ name: 'drug_xyz.events', location: 'events/events.ndjson', format: 'json', columnTypes: { at: 'TIMESTAMP_S' } });
    const sql = 'SELECT * FROM drug_xyz.events ORDER BY id';
    const copy = await untilCached(s.runtime, 'drug_xyz.events', { use: () => s.rows('erin', sql) });
    assert.equal(copy.row_count, 500);
    assert.match(await viewSql(s.runtime, 'drug_xyz.events'), /CAST\("at" AS "?TIMESTAMP_S"?\)/);
    const cached = await s.query('erin', sql);
    await s.runtime.cache.drop(['drug_xyz.events']);
    assert.match(await viewSql(s.runtime, 'drug_xyz.events'), /read_json/);
    const fromSource = await s.query('erin', sql);
    assert.deepEqual(cached.body.columns, fromSource.body.columns);
    assert.deepEqual(cached.body.columns?.find((c) => c.name === 'at')?.type, 'TIMESTAMP_S');
    assert.deepEqual(cached.body.rows, fromSource.body.rows);
  });

  test('a column type Parquet cannot hold exactly keeps the dataset on its source', async () => {
    const dir = path.join(s.home, 'storage', 'wide');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'data.csv'), 'id,big\n1,170141183460469231731687303715884105727\n2,-5\n');
    await s.runtime.catalog.register({ name: 'drug_xyz.wide', location: 'wide/data.csv', format: 'csv', columnTypes: { big: 'HUGEINT' } });
    const sql = 'SELECT CAST(big AS VARCHAR) FROM drug_xyz.wide ORDER BY id';
    for (let i = 0; i < 400 && (await s.runtime.cache.status(['drug_xyz.wide']))[0]?.state !== 'unsupported'; i++) {
      if (i % 5 === 0) await s.rows('erin', sql);
      await sleep(50);
    }
    const [status] = await s.runtime.cache.status(['drug_xyz.wide']);
    assert.equal(status?.state, 'unsupported');
    assert.match(status?.detail ?? '', /big is HUGEINT/);
    assert.deepEqual(await s.rows('erin', sql), [['170141183460469231731687303715884105727'], ['-5']]);
    assert.match(await viewSql(s.runtime, 'drug_xyz.wide'), /read_csv/);
  });

  test('an S3 dataset is copied from its mirror, its stamp holds the ETags, and a changed object is read at once', async () => {
    const put = (key: string, body: string): Promise<unknown> => (s3 as S3Client).send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: body }));
    await put('ref/countries.csv', 'code,name\nDE,Germany\nUS,United States\n');
    await s.runtime.policies.apply([validatePolicy({ name: 'lake-stewards', subjects: { groups: ['stewards'] }, resources: [{ database: 'lake' }] })]);
    await s.runtime.catalog.register({ name: 'lake.countries', location: 's3://lake/ref/countries.csv', format: 'csv' });
    const names = (): Promise<unknown[][]> => s.rows('erin', 'SELECT name FROM lake.countries ORDER BY code');
    const first = await untilCached(s.runtime, 'lake.countries', { use: names });
    const stamp = JSON.parse(s.runtime.cacheManifest.get('lake.countries')?.sourceStamp ?? '{}') as { etags?: Record<string, string> };
    assert.deepEqual(Object.keys(stamp.etags ?? {}), ['ref/countries.csv']);
    assert.deepEqual(await names(), [['Germany'], ['United States']]);
    await put('ref/countries.csv', 'code,name\nDE,Deutschland\nFR,France\nUS,United States\n');
    assert.deepEqual(await names(), [['Deutschland'], ['France'], ['United States']]);
    const second = await untilCached(s.runtime, 'lake.countries', { use: names, accept: (row) => row.file !== first.file });
    assert.equal(second.row_count, 3);
    assert.deepEqual(await names(), [['Deutschland'], ['France'], ['United States']]);
    assert.deepEqual(s.internalErrors, []);
  });
});

describe('disk budget', () => {
  const homes: string[] = [];
  let runtime: VeilRuntime | undefined;
  after(async () => {
    await runtime?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  async function open(config: string, storageFrom?: string): Promise<{ home: string; runtime: VeilRuntime }> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'veil-cache-budget-'));
    homes.push(home);
    writeFileSync(path.join(home, 'config.yaml'), config);
    if (storageFrom !== undefined) cpSync(path.join(storageFrom, 'storage'), path.join(home, 'storage'), { recursive: true });
    runtime = await openRuntime(home);
    await setupDemo(runtime, 3000);
    return { home, runtime };
  }

  test('beyond cache_max_bytes the least recently used copy is evicted, and queries stay right', async () => {
    // The sizes of the copies, measured on the same deterministic data: the trial's (T, with the
    // masked values its policies ask for), the adverse events' (A) and an untagged copy of the
    // trial's file (C, no masked values).
    const measured = await open('');
    const trialBytes = (await untilCached(measured.runtime, TRIAL)).file_bytes ?? 0;
    const adverseBytes = (await untilCached(measured.runtime, ADVERSE)).file_bytes ?? 0;
    mkdirSync(path.join(measured.home, 'storage', 'measure'), { recursive: true });
    cpSync(path.join(measured.home, 'storage', TRIAL_CSV), path.join(measured.home, 'storage', 'measure', 'data.csv'));
    await measured.runtime.catalog.register({ name: 'drug_xyz.measure', location: 'measure/data.csv', format: 'csv' });
    const copyBytes = (await untilCached(measured.runtime, 'drug_xyz.measure')).file_bytes ?? 0;
    assert.ok(trialBytes > 0 && adverseBytes > 0 && adverseBytes < copyBytes, `${trialBytes} ${adverseBytes} ${copyBytes}`);
    await measured.runtime.close();
    runtime = undefined;
    rmSync(path.join(measured.home, 'storage', 'measure'), { recursive: true, force: true });

    // Room for the trial, the adverse events and one untagged copy (T + A + C), but not for a
    // second copy even once the adverse events are gone (T + 2C).
    const budget = trialBytes + copyBytes + Math.floor((adverseBytes + copyBytes) / 2);
    const { home, runtime: rt } = await open(`cache_max_bytes: ${budget}\n`, measured.home);
    const erin = principalOf(await rt.users.get('erin'));
    const count = async (dataset: string): Promise<number> => Number((await collectRows(rt.queries, await rt.queries.prepare(erin, `SELECT count(*) FROM ${dataset}`)))[0]?.[0]);
    const copies = ['drug_xyz.trial_copy_a', 'drug_xyz.trial_copy_b'];
    for (const name of copies) {
      mkdirSync(path.join(home, 'storage', name), { recursive: true });
      cpSync(path.join(home, 'storage', TRIAL_CSV), path.join(home, 'storage', name, 'data.csv'));
    }
    await untilCached(rt, TRIAL);
    await untilCached(rt, ADVERSE);
    await rt.catalog.register({ name: copies[0] as string, location: `${copies[0]}/data.csv`, format: 'csv' });
    await untilCached(rt, copies[0] as string);
    const states = async (): Promise<Record<string, string>> => Object.fromEntries((await rt.cache.status()).map((st) => [st.dataset, st.state]));
    assert.deepEqual(await states(), { [ADVERSE]: 'fresh', [copies[0] as string]: 'fresh', [TRIAL]: 'fresh' });

    // The trial is used; the first copy and the adverse events are not: they go first.
    assert.equal(await count(TRIAL), 3000);
    await rt.catalog.register({ name: copies[1] as string, location: `${copies[1]}/data.csv`, format: 'csv' });
    await untilCached(rt, copies[1] as string);
    assert.deepEqual(await states(), { [ADVERSE]: 'evicted', [copies[0] as string]: 'evicted', [copies[1] as string]: 'fresh', [TRIAL]: 'fresh' });
    assert.match(await viewSql(rt, copies[0] as string), /read_csv/);

    // An evicted dataset reads its source, right, and is copied again on use: now the trial is the oldest.
    assert.equal(await count(copies[0] as string), 3000);
    await untilCached(rt, copies[0] as string);
    assert.equal((await states())[TRIAL], 'evicted');
    assert.equal(await count(TRIAL), 3000);
    const held = (await rt.cache.status()).reduce((sum, st) => sum + (st.state === 'fresh' ? (st.file_bytes ?? 0) : 0), 0);
    assert.ok(held <= budget, `${held} bytes held of ${budget}`);
  });

  test('a copy damaged while no process ran is found by the next process before any query reads it', async () => {
    const current = runtime as VeilRuntime;
    const home = current.home.root;
    const copy = await untilCached(current, TRIAL, { use: () => current.cache.rebuild([TRIAL]) });
    await current.close();
    runtime = undefined;
    // Same size, same modification time: only the content differs.
    const file = cacheFile(home, copy);
    const { atime, mtime } = statSync(file);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(32, 0x33), 0, 32, Math.floor((copy.file_bytes ?? 0) / 2));
    closeSync(fd);
    utimesSync(file, atime, mtime);
    runtime = await openRuntime(home);
    const rt = runtime;
    const erin = principalOf(await rt.users.get('erin'));
    const sql = `SELECT participant_id, dose_mg FROM ${TRIAL} ORDER BY participant_id`;
    const rows = await collectRows(rt.queries, await rt.queries.prepare(erin, sql));
    assert.equal(rows.length, 3000);
    assert.ok(!(await viewSql(rt, TRIAL)).includes(copy.file ?? '?'), 'a copy this process has not checked is not read');
    const rebuilt = await untilCached(rt, TRIAL, { use: () => rt.queries.prepare(erin, `SELECT 1 FROM ${TRIAL} LIMIT 1`).then((p) => collectRows(rt.queries, p)), accept: (row) => row.file !== copy.file });
    assert.ok(rebuilt.file !== copy.file);
    assert.deepEqual(await collectRows(rt.queries, await rt.queries.prepare(erin, sql)), rows);
  });
});

describe('veil cache status|rebuild|drop, with a server on the same home', () => {
  const run = promisify(execFile);
  const home = mkdtempSync(path.join(os.tmpdir(), 'veil-cache-cli-'));
  let runtime: VeilRuntime | undefined;
  after(async () => {
    await runtime?.close();
    rmSync(home, { recursive: true, force: true });
  });
  const veil = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args, '--home', home], { cwd: root });
  const status = async (...names: string[]): Promise<Record<string, string>> =>
    Object.fromEntries((JSON.parse((await veil('cache', 'status', ...names, '--json')).stdout) as { dataset: string; state: string }[]).map((s) => [s.dataset, s.state]));

  test('the CLI builds, reports and drops copies through the gateway, and a running server follows the manifest', async () => {
    await veil('demo', '--rows', '500');
    const rebuilt = await veil('cache', 'rebuild');
    assert.match(rebuilt.stdout, /drug_xyz\.trial_july2020\s+fresh\s+\S+ KiB\s+500\s/);
    assert.match(rebuilt.stderr, /drug_xyz\.trial_july2020: built, 500 rows/);
    assert.deepEqual(await status(), { [ADVERSE]: 'fresh', [TRIAL]: 'fresh' });

    runtime = await openRuntime(home);
    const rt = runtime;
    const erin = principalOf(await rt.users.get('erin'));
    const query = async (): Promise<unknown[][]> => collectRows(rt.queries, await rt.queries.prepare(erin, `SELECT count(*), sum(dose_mg) FROM ${TRIAL}`));
    const expected = await query();
    const built = await untilCached(rt, TRIAL, { use: query });
    assert.deepEqual(await query(), expected);

    await veil('cache', 'drop', TRIAL);
    assert.deepEqual(await status(TRIAL), { [TRIAL]: 'dropped' });
    assert.deepEqual(await query(), expected);
    assert.match(await viewSql(rt, TRIAL), /read_csv/, 'the server reads the source as soon as another process dropped the copy');
    assert.ok(!existsSync(cacheFile(home, built)));
    assert.equal((await rt.cache.status([TRIAL]))[0]?.state, 'dropped');

    await veil('cache', 'rebuild', TRIAL);
    const again = await untilCached(rt, TRIAL, { use: query, accept: (row) => row.file !== built.file });
    assert.equal(again.row_count, 500);
    assert.deepEqual(await query(), expected);

    const table = (await veil('cache', 'status')).stdout;
    assert.match(table, /^dataset\s+state\s+size\s+rows\s+last used/);
    assert.match(table, /drug_xyz\.trial_july2020\s+fresh\s+\S+ KiB\s+500\s+20\d\d-/);
    await assert.rejects(veil('cache', 'status', 'drug_xyz.nope'), /DATASET_NOT_FOUND/);
  });
});

describe('the cache changes nothing alice sees (200,000 rows, cache off against on)', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test("alice's masked, filtered rows and bob's hidden columns are the same through the copy as from the CSV", async () => {
    const off = await startTestServer({ rows: 200_000, prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'columnar_cache: false\n') });
    servers.push(off);
    // The same data and the same masking key (tokens), cache on.
    const on = await startTestServer({
      rows: 200_000,
      prepareHome: (home) => {
        cpSync(path.join(off.home, 'storage'), path.join(home, 'storage'), { recursive: true });
        cpSync(path.join(off.home, 'keys'), path.join(home, 'keys'), { recursive: true });
      },
    });
    servers.push(on);
    await untilCached(on.runtime, TRIAL);
    await untilCached(on.runtime, ADVERSE);
    assert.match(await viewSql(off.runtime, TRIAL), /read_csv/);
    const csv = async (s: TestServer, user: string, sql: string): Promise<{ schema: string | null; lines: string[] }> => {
      const response = await s.post(user, '/v1/query', { sql }, { Accept: 'text/csv', 'X-Veil-Result-Schema': 'include' });
      assert.equal(response.status, 200);
      const lines = (await response.text()).split('\n');
      return { schema: response.headers.get('X-Veil-Result-Schema'), lines: [lines[0] as string, ...lines.slice(1).sort()] };
    };
    for (const [user, sql] of [
      ['alice', `SELECT * FROM ${TRIAL}`],
      ['alice', `SELECT t.*, a.severity, a.reporter_email FROM ${TRIAL} t LEFT JOIN ${ADVERSE} a USING (participant_id) WHERE t.arm = 'placebo'`],
      ['bob', `SELECT * FROM ${TRIAL}`],
    ] as const) {
      const [a, b] = [await csv(off, user, sql), await csv(on, user, sql)];
      assert.ok(a.lines.length > 1000, `${user}: ${a.lines.length} lines`);
      assert.equal(b.schema, a.schema, `${user}: ${sql}`);
      assert.equal(b.lines.length, a.lines.length, `${user}: ${sql}`);
      assert.ok(b.lines.every((line, i) => line === a.lines[i]), `${user}: ${sql}: rows differ`);
    }
    assert.match(await viewSql(on.runtime, TRIAL), /read_parquet/, 'the comparison ran through the copy');
    assert.deepEqual([...off.internalErrors, ...on.internalErrors], []);
  });
});
