import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** JSON, CSV and Arrow carry the same values, for every column type and for empty and large results. */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 5000 });
});
after(async () => {
  await s.close();
});

const TYPED = `SELECT * FROM (VALUES
  (1::TINYINT, 2::SMALLINT, 3::INTEGER, 9007199254740993::BIGINT, 1.5::FLOAT, 2.25::DOUBLE, 12.34::DECIMAL(10,2), true, 'héllo ✓', DATE '2020-02-29', TIMESTAMP '2020-07-01 10:11:12', [1, 2], {'a': 1}, '\\xAA'::BLOB),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) t(ti, si, i, bi, f, d, dec, b, s, dt, ts, l, st, bl)`;

async function arrow(user: string, sql: string) {
  const response = await s.post(user, '/v1/query', { sql }, { Accept: 'application/vnd.apache.arrow.stream' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
  return tableFromIPC(new Uint8Array(await response.arrayBuffer()));
}

test('Arrow keeps types and values, nulls included', async () => {
  const table = await arrow('alice', TYPED);
  assert.equal(table.numRows, 2);
  const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
  assert.deepEqual(types, {
    ti: 'Int8', si: 'Int16', i: 'Int32', bi: 'Int64', f: 'Float32', d: 'Float64', dec: 'Float64', b: 'Bool', s: 'Utf8',
    dt: 'Date32<DAY>', ts: 'Timestamp<MICROSECOND>', l: 'Utf8', st: 'Utf8', bl: 'Binary',
  });
  const first = table.get(0)!.toJSON() as Record<string, unknown>;
  assert.equal(first['bi'], 9007199254740993n);
  assert.equal(first['dec'], 12.34);
  assert.equal(first['b'], true);
  assert.equal(first['s'], 'héllo ✓');
  assert.equal(first['dt'], Date.UTC(2020, 1, 29));
  assert.equal(first['ts'], Date.UTC(2020, 6, 1, 10, 11, 12));
  assert.equal(first['l'], '[1,2]');
  assert.deepEqual([...(first['bl'] as Uint8Array)], [0xaa]);
  const second = table.get(1)!.toJSON() as Record<string, unknown>;
  assert.ok(Object.values(second).every((v) => v === null));
});

test('JSON keeps exact integers beyond 2^53 as strings and small ones as numbers', async () => {
  const { body } = await s.query('alice', TYPED);
  assert.equal(body.rows?.[0]?.[3], '9007199254740993');
  assert.equal(body.rows?.[0]?.[2], 3);
  assert.equal(body.rows?.[0]?.[6], 12.34);
});

test('the three formats agree on a whole masked dataset', async () => {
  const sql = 'SELECT participant_id, ssn, zip, dose_mg, consent_research FROM drug_xyz.trial_july2020';
  const json = await s.rows('alice', sql);
  const table = await arrow('alice', sql);
  assert.equal(table.numRows, json.length);
  assert.ok(json.length > 2048, 'more than one DuckDB chunk');
  const arrowRows = table.toArray().map((r) => Object.values(r.toJSON() as Record<string, unknown>));
  assert.deepEqual(arrowRows, json);
  const csv = await (await s.post('alice', '/v1/query', { sql }, { Accept: 'text/csv' })).text();
  const csvRows = csv.trimEnd().split('\n').slice(1).map((line) => line.split(','));
  const asText = (v: unknown): string => (typeof v === 'number' ? String(Number(v)) : String(v));
  assert.deepEqual(csvRows.map((r) => r.map((v, i) => (typeof json[0]?.[i] === 'number' ? String(Number(v)) : v))), json.map((r) => r.map(asText)));
});

test('Parquet (DuckDB\'s writer, uncompressed) carries the same rows and types as JSON', async () => {
  const sql = `SELECT participant_id, ssn, dose_mg, consent_research, date_of_birth, enrolled_at, NULL::BIGINT AS nothing FROM drug_xyz.trial_july2020 ORDER BY participant_id`;
  const response = await s.post('alice', '/v1/query', { sql }, { Accept: 'application/vnd.apache.parquet', 'X-Veil-Result-Schema': 'include' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/vnd.apache.parquet');
  assert.ok(response.headers.get('x-veil-result-schema'));
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
  // Read it back with an independent DuckDB instance.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veil-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const file = path.join(dir, 'result.parquet');
    writeFileSync(file, bytes);
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
    const json = await s.query('alice', sql);
    assert.deepEqual(reader.columnNames(), json.body.columns?.map((c) => c.name));
    assert.deepEqual(reader.columnTypes().map(String), json.body.columns?.map((c) => c.type));
    assert.deepEqual(reader.getRowsJson(), json.body.rows);
    const codecs = await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    assert.deepEqual(codecs.getRowsJson(), [['UNCOMPRESSED']]);
    connection.closeSync();
  } finally {
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('empty results are well-formed in every format', async () => {
  const sql = "SELECT ssn, dose_mg FROM drug_xyz.trial_july2020 WHERE country = 'nowhere'";
  const table = await arrow('alice', sql);
  assert.equal(table.numRows, 0);
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['ssn', 'dose_mg']);
  const csv = await (await s.post('alice', '/v1/query', { sql }, { Accept: 'text/csv' })).text();
  assert.equal(csv, 'ssn,dose_mg\n');
  assert.deepEqual((await s.query('alice', sql)).body.rows, []);
});

test('CSV carries the result column types on request (X-Veil-Result-Schema), names in any script', async () => {
  const sql = `SELECT ti, bi, dec, b, s AS "naïve ✓ name", dt, ts FROM (${TYPED})`;
  const plain = await s.post('alice', '/v1/query', { sql }, { Accept: 'text/csv' });
  assert.equal(plain.headers.get('x-veil-result-schema'), null, 'only when asked');
  await plain.text();
  const response = await s.post('alice', '/v1/query', { sql }, { Accept: 'text/csv', 'X-Veil-Result-Schema': 'include' });
  assert.equal(response.status, 200);
  const header = response.headers.get('x-veil-result-schema');
  assert.ok(header !== null && /^[A-Za-z0-9_-]+$/.test(header));
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), [
    { name: 'ti', type: 'TINYINT' },
    { name: 'bi', type: 'BIGINT' },
    { name: 'dec', type: 'DECIMAL(10,2)' },
    { name: 'b', type: 'BOOLEAN' },
    { name: 'naïve ✓ name', type: 'VARCHAR' },
    { name: 'dt', type: 'DATE' },
    { name: 'ts', type: 'TIMESTAMP' },
  ]);
  assert.equal((await response.text()).split('\n')[0], 'ti,bi,dec,b,naïve ✓ name,dt,ts');
  const arrowResponse = await s.post('alice', '/v1/query', { sql: 'SELECT 1::HUGEINT AS h' }, { Accept: 'application/vnd.apache.arrow.stream', 'X-Veil-Result-Schema': 'include' });
  assert.deepEqual(JSON.parse(Buffer.from(arrowResponse.headers.get('x-veil-result-schema') ?? '', 'base64url').toString('utf8')), [{ name: 'h', type: 'HUGEINT' }]);
  await arrowResponse.arrayBuffer();
});

test('a schema header too long for HTTP clients is left out, not sent', async () => {
  const columns = Array.from({ length: 1500 }, (_, i) => `${i} AS "a rather long column name number ${i}"`).join(', ');
  const response = await s.post('alice', '/v1/query', { sql: `SELECT ${columns}` }, { Accept: 'text/csv', 'X-Veil-Result-Schema': 'include' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-veil-result-schema'), null);
  await response.text();
});

test('max_rows applies to Arrow and CSV too', async () => {
  const sql = 'SELECT ssn FROM drug_xyz.trial_july2020';
  const response = await s.post('alice', '/v1/query', { sql, max_rows: 3000 }, { Accept: 'application/vnd.apache.arrow.stream' });
  assert.equal(tableFromIPC(new Uint8Array(await response.arrayBuffer())).numRows, 3000);
  const csv = await (await s.post('alice', '/v1/query', { sql, max_rows: 5 }, { Accept: 'text/csv' })).text();
  assert.equal(csv.trimEnd().split('\n').length, 6);
});

test('JSON truncates at max_rows across chunk boundaries and says so', async () => {
  for (const maxRows of [2048, 2049, 4999, 5000]) {
    const body = (await (await s.post('erin', '/v1/query', { sql: 'SELECT participant_id FROM drug_xyz.trial_july2020', max_rows: maxRows })).json()) as { row_count: number; truncated: boolean };
    assert.deepEqual([body.row_count, body.truncated], [maxRows, maxRows < 5000], String(maxRows));
  }
});

test('a value too large for JSON gets a clear 413 before any byte; CSV carries it', async () => {
  for (const sql of ["SELECT repeat('x', 70000000) AS big", "SELECT [repeat('x', 300000000), repeat('y', 300000000)] AS big"]) {
    const response = await s.post('alice', '/v1/query', { sql });
    assert.equal(response.status, 413);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'RESULT_TOO_LARGE');
    assert.match(body.error.message, /column big.*text\/csv/);
  }
  const csv = await s.post('alice', '/v1/query', { sql: "SELECT repeat('x', 70000000) AS big" }, { Accept: 'text/csv' });
  assert.equal(csv.status, 200);
  assert.equal((await csv.text()).length, 'big\n'.length + 70_000_000 + 1);
});

test('a failing cast in CSV delivery gets a proper error before any byte', async () => {
  const response = await s.post('erin', '/v1/query', { sql: 'SELECT CAST(full_name AS INTEGER) FROM drug_xyz.trial_july2020' }, { Accept: 'text/csv' });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'QUERY_FAILED');
  assert.doesNotMatch(body.error.message, /'[A-Z][a-z]+ [A-Z][a-z]+'/, 'no name quoted');
});

test('a client that disconnects mid-stream is audited and the server keeps serving', async () => {
  for (const accept of ['application/json', 'text/csv', 'application/vnd.apache.arrow.stream']) {
    const controller = new AbortController();
    // A result that streams (many rows produced steadily): Node notices a closed connection when it
    // next writes to it. (A query that computes for long before its first row is bounded by the
    // statement timeout instead.)
    const response = await s.post('erin', '/v1/query', { sql: 'SELECT a.*, b.ssn AS s2 FROM drug_xyz.trial_july2020 a, (SELECT ssn FROM drug_xyz.trial_july2020 LIMIT 200) b' }, { Accept: accept, 'X-Veil-Client': `disconnect-test ${accept}` });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel();
  }
  const deadline = Date.now() + 20_000;
  let rows: unknown[][] = [];
  while (Date.now() < deadline) {
    rows = await s.rows('erin', `SELECT client_application, decision, error_code FROM veil_system.audit_log WHERE client_application LIKE 'disconnect-test%' AND decision <> 'allowed' ORDER BY 1`);
    if (rows.length === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual(rows.map((r) => [r[1], r[2]]), [['error', 'CLIENT_DISCONNECTED'], ['error', 'CLIENT_DISCONNECTED'], ['error', 'CLIENT_DISCONNECTED']]);
  assert.deepEqual(await s.rows('alice', 'SELECT count(*) > 0 FROM drug_xyz.trial_july2020'), [[true]]);
});

test('concurrent requests in every format all complete correctly', async () => {
  const sql = "SELECT count(*) AS n, min(ssn) AS s FROM drug_xyz.trial_july2020 WHERE arm = 'placebo'";
  const expected = await s.rows('alice', sql);
  const results = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const accept = ['application/json', 'text/csv', 'application/vnd.apache.arrow.stream'][i % 3]!;
      const response = await s.post('alice', '/v1/query', { sql }, { Accept: accept });
      assert.equal(response.status, 200);
      if (accept === 'text/csv') return (await response.text()).trimEnd().split('\n')[1]!.split(',');
      if (accept === 'application/json') return ((await response.json()) as { rows: unknown[][] }).rows[0]!.map(String);
      return Object.values(tableFromIPC(new Uint8Array(await response.arrayBuffer())).get(0)!.toJSON()).map(String);
    }),
  );
  for (const row of results) assert.deepEqual(row, expected[0]!.map(String));
});

test('Arrow strings: inline and out-of-line UTF-8, empty and NULL, across chunks', async () => {
  const sql = `SELECT CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN '' WHEN i % 4 = 2 THEN 'ünï ✓ ' || i ELSE 'a long string, well over twelve bytes: ünïcødé ' || repeat('ab', i % 50) END AS s
    FROM (SELECT row_number() OVER () AS i FROM drug_xyz.trial_july2020) ORDER BY i`;
  const json = await s.rows('alice', sql);
  assert.ok(json.length > 2048, 'more than one chunk');
  const table = await arrow('alice', sql);
  assert.deepEqual(table.getChild('s')!.toArray(), json.map((r) => r[0]));
});
