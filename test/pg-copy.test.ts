import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * COPY (…) TO STDOUT (FORMAT csv) takes one of two paths: DuckDB's own CSV writer when every column
 * type has a native PostgreSQL text form (fast), else rows encoded by the door (exact PostgreSQL
 * text for every type). Both must write the same bytes; a list column forces the second path.
 */
let server: TestServer;

before(async () => {
  server = await startTestServer({ rows: 500 });
});
after(async () => server.close());

const EDGE_VALUES = `SELECT * FROM (VALUES
  (1.5::DOUBLE, true, '', 'q"q,x', NULL::VARCHAR, 100.0::DOUBLE, -0.0::DOUBLE, 'nan'::DOUBLE, 1e15::DOUBLE, 1234567890123456.7::DOUBLE, 1e20::DOUBLE, 1e-5::DOUBLE,
   TIMESTAMPTZ '2020-01-02 03:04:05.123+02', TIMESTAMP '1999-12-31 23:59:59.000001', DATE '0044-03-15', 12.50::DECIMAL(10,2), 'a
b', 170141183460469231731687303715884105727::HUGEINT, 'ü€😀', TIME '01:02:03.5', '5f1b2c3d-0000-4000-8000-000000000001'::UUID),
  (NULL, false, 'x', 'y', 'z', 2.0, 0.1, 'inf', -1e300, -9007199254740991.0, 3.0, 0.25, NULL, NULL, NULL, NULL, 'tab	x\\y', -1::HUGEINT, NULL, NULL, NULL)
) AS t(d, b, e, q, n, i, z, nn, big, mid, huge, small, tz, ts, dt, dec, nl, hi, uni, tm, id)`;

async function copyCsv(user: string, sql: string, options = 'FORMAT csv, HEADER'): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.pgPort, user, password: server.token(user), database: 'veil' });
  await client.connect();
  try {
    // npm pg has no COPY OUT API: the simple protocol's CopyData arrive as a query result's side
    // effect, so run it through psql-compatible framing with pg's low-level connection events.
    const chunks: Buffer[] = [];
    const connection = (client as unknown as { connection: { on(event: string, listener: (message: { chunk: Buffer }) => void): void } }).connection;
    connection.on('copyData', (message) => chunks.push(message.chunk));
    await client.query(`COPY (${sql}) TO STDOUT WITH (${options})`).catch((error: unknown) => {
      // npm pg reports the copy-out as an unexpected message kind on some versions; the bytes are what matter.
      if (!String(error).includes('copy')) throw error;
    });
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await client.end();
  }
}

test('COPY CSV by DuckDB’s writer equals the exact row encoder, edge values included', async () => {
  const native = await copyCsv('alice', EDGE_VALUES);
  const encoded = await copyCsv('alice', `SELECT *, [1] AS forces_row_path FROM (${EDGE_VALUES})`);
  const strip = (csv: string): string => csv.replace(/,forces_row_path\n/, '\n').replace(/,"?\{1\}"?\n/g, '\n');
  // The one documented difference: above 2^53 PostgreSQL may print another shortest decimal of the same double.
  assert.equal(native.replace('-9007199254740991', 'X'), strip(encoded).replace('-9007199254740991', 'X'));
  assert.match(native, /^d,b,e,q,n,i,z,nn,big,mid,huge,small,tz,ts,dt,dec,nl,hi,uni,tm,id\n1\.5,t,"","q""q,x",,100,-0,NaN,1e\+15,1\.2345678901234568e\+15,1e\+20,1e-05,2020-01-02 01:04:05\.123\+00,/);
});

test('COPY CSV of a dataset is the same through both paths, for users with different policies', async () => {
  for (const user of ['alice', 'bob', 'erin']) {
    const sql = 'SELECT * FROM drug_xyz.trial_july2020 ORDER BY 1, 2';
    const native = await copyCsv(user, sql);
    const encoded = await copyCsv(user, `SELECT *, [1] AS forces_row_path FROM (${sql})`);
    assert.equal(native, encoded.replace(/,forces_row_path\n/, '\n').replace(/,"?\{1\}"?\n/g, '\n'), user);
    assert.ok(native.split('\n').length > 100, `${user} got rows`);
  }
});

async function textRows(user: string, sql: string): Promise<{ names: string[]; rows: (string | null)[][] }> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.pgPort, user, password: server.token(user), database: 'veil' });
  await client.connect();
  try {
    // Simple protocol, text values as sent (no type parsing): what psycopg2 and pandas.read_sql receive.
    const result = await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (value: string) => value } });
    return { names: result.fields.map((f) => f.name), rows: result.rows as (string | null)[][] };
  } finally {
    await client.end();
  }
}

test('a whole text-format result made by DuckDB’s CSV writer equals the row encoder’s, value by value', async () => {
  const native = await textRows('alice', EDGE_VALUES);
  const encoded = await textRows('alice', `SELECT *, [1] AS forces_row_path FROM (${EDGE_VALUES})`);
  assert.deepEqual(native.names, encoded.names.slice(0, -1));
  const withoutLast = encoded.rows.map((r) => r.slice(0, -1));
  // The documented difference above 2^53 (same double, other shortest digits) is the only one.
  const normalize = (rows: (string | null)[][]): (string | null)[][] => rows.map((r) => r.map((v) => (v === '-9007199254740991' ? 'X' : v)));
  assert.deepEqual(normalize(native.rows), normalize(withoutLast));
  assert.equal(native.rows[0]![2], '', 'an empty string stays an empty string');
  assert.equal(native.rows[0]![4], null, 'NULL stays NULL');
  assert.equal(native.rows[1]![16], 'tab\tx\\y');
  for (const user of ['alice', 'bob', 'erin']) {
    const sql = 'SELECT * FROM drug_xyz.trial_july2020 ORDER BY 1, 2';
    const a = await textRows(user, sql);
    const b = await textRows(user, `SELECT *, [1] AS forces_row_path FROM (${sql})`);
    assert.deepEqual(a.rows, b.rows.map((r) => r.slice(0, -1)), user);
  }
});
