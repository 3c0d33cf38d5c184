import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { tableFromArrays, tableToIPC, Type } from 'apache-arrow';
import {
  CLIENT_VERSION,
  connect,
  VeilAuthError,
  VeilClientError,
  VeilConnectionError,
  VeilNotFoundError,
  VeilPermissionError,
  VeilQueryError,
  VeilServerError,
  type VeilClient,
} from '../src/client/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * The TypeScript client against a real Veil on loopback (demo data, real DuckDB, SQLite and HTTP),
 * plus tiny fake servers for what a real one does not do on demand: refuse, reset, fail, hang.
 */
type Row = Record<string, string>;

const TRIAL = 'drug_xyz.trial_july2020';
const APP = 'ts-client-test';
const ENV_KEYS = ['VEIL_URL', 'VEIL_TOKEN', 'VEIL_TOKEN_FILE'] as const;

let s: TestServer & { internalErrors: unknown[] };
let trial: Row[];
let scratch: string;
const savedEnv: Record<string, string | undefined> = {};

function readCsv(file: string): Row[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = (header ?? '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i] ?? '', v])));
}

before(async () => {
  // The client reads these; the tests set them explicitly, whatever the shell running them has.
  for (const key of ENV_KEYS) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
  s = await startTestServer({ rows: 1500 });
  trial = readCsv(path.join(s.home, 'storage', 'clinical-trials', 'drug-xyz', 'trial-july2020', 'data.csv'));
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-ts-client-'));
});

after(async () => {
  await s.close();
  rmSync(scratch, { recursive: true, force: true });
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

function as(user: string): VeilClient {
  return connect({ url: s.url, token: s.token(user), applicationName: APP });
}

/** Runs fn with the given environment variables set (others of ENV_KEYS unset), then restores them. */
async function withEnv<T>(vars: Partial<Record<(typeof ENV_KEYS)[number], string>>, fn: () => Promise<T>): Promise<T> {
  for (const key of ENV_KEYS) {
    const value = vars[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await fn();
  } finally {
    for (const key of ENV_KEYS) delete process.env[key];
  }
}

/** Asserts that the promise rejects with an error of the class, and returns it for further checks. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${inspect(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

describe('the demo scenario through the client', () => {
  test('alice: only US rows, every direct identifier masked, value by value', async () => {
    const records = await as('alice').scanAsObjects(TRIAL);
    const us = trial.filter((r) => r['country'] === 'US');
    assert.ok(us.length > 0 && us.length < trial.length);
    assert.equal(records.length, us.length);
    records.forEach((record, i) => {
      const raw = us[i]!;
      assert.equal(record['country'], 'US');
      assert.match(String(record['participant_id']), /^tok_[0-9a-f]{24}$/);
      assert.equal(record['full_name'], null);
      assert.equal(record['ssn'], `XXX-XX-${raw['ssn']!.slice(-4)}`);
      assert.equal(record['email'], `XXXXX@${raw['email']!.split('@')[1]}`);
      assert.match(String(record['date_of_birth']), /^\d{4}-01-01$/);
      assert.equal(String(record['zip']).length, 3);
      assert.equal(record['dose_mg'], Number(raw['dose_mg']));
      assert.equal(record['consent_research'], raw['consent_research'] === 'true');
      assert.equal(typeof record['enrolled_at'], 'string');
      assert.match(String(record['enrolled_at']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    });
  });

  test('bob: hidden columns are absent from the objects, all rows present', async () => {
    const records = await as('bob').scanAsObjects(TRIAL);
    assert.equal(records.length, trial.length);
    assert.deepEqual(Object.keys(records[0] ?? {}), ['date_of_birth', 'zip', 'country', 'site_id', 'arm', 'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at']);
    for (const record of records) {
      for (const hidden of ['participant_id', 'full_name', 'email', 'ssn']) assert.equal(hidden in record, false);
    }
  });

  test('bob: naming a hidden column is a VeilPermissionError naming it', async () => {
    const error = await rejection(as('bob').scanAsObjects(`SELECT email FROM ${TRIAL}`), VeilPermissionError);
    assert.equal(error.code, 'COLUMN_ACCESS_DENIED');
    assert.equal(error.status, 403);
    assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(error.message, /"email"/);
    const scan = await rejection(as('bob').scanAsObjects(TRIAL, { columns: ['ssn'] }), VeilPermissionError);
    assert.equal(scan.code, 'COLUMN_ACCESS_DENIED');
  });

  test('carol: may know the trial exists but not read it (VeilPermissionError ACCESS_DENIED)', async () => {
    const error = await rejection(as('carol').scanAsObjects(TRIAL), VeilPermissionError);
    assert.equal(error.code, 'ACCESS_DENIED');
    const listed = await as('carol').listDatasets();
    assert.deepEqual(listed.map((d) => [d.name, d.access]), [['drug_xyz.adverse_events', 'metadata'], [TRIAL, 'metadata']]);
  });

  test('dave: the trial is invisible, a VeilNotFoundError exactly like a dataset that does not exist', async () => {
    const dave = as('dave');
    const real = await rejection(dave.scanAsObjects(TRIAL), VeilNotFoundError);
    const fake = await rejection(dave.scanAsObjects('drug_xyz.trial_july2021'), VeilNotFoundError);
    assert.equal(real.code, 'DATASET_NOT_FOUND');
    assert.equal(real.code, fake.code);
    assert.equal(real.message.replace('trial_july2020', 'X').replace(real.requestId ?? '', ''), fake.message.replace('trial_july2021', 'X').replace(fake.requestId ?? '', ''));
    await rejection(dave.describe(TRIAL), VeilNotFoundError);
    assert.deepEqual(await dave.listDatasets(), []);
  });
});

describe('Arrow', () => {
  test('scanAsArrow returns a Table with the permitted rows and their types', async () => {
    const table = await as('alice').scanAsArrow(TRIAL);
    assert.equal(table.numRows, trial.filter((r) => r['country'] === 'US').length);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, f.type.typeId]));
    assert.equal(types['dose_mg'], Type.Float);
    assert.equal(types['consent_research'], Type.Bool);
    assert.equal(types['enrolled_at'], Type.Timestamp);
    assert.equal(types['ssn'], Type.Utf8);
    assert.match(String(table.get(0)?.['ssn']), /^XXX-XX-\d{4}$/);
  });

  test('ints, 64-bit ints, floats, booleans and timestamps keep their types and values', async () => {
    const sql = `SELECT 7::INTEGER AS i, 9007199254740993::BIGINT AS bi, 2.25::DOUBLE AS d, 1.5::FLOAT AS f, true AS b,
      TIMESTAMP '2020-07-01 10:11:12' AS ts, NULL::INTEGER AS n`;
    const table = await as('alice').scanAsArrow(sql);
    assert.equal(table.numRows, 1);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(types, { i: 'Int32', bi: 'Int64', d: 'Float64', f: 'Float32', b: 'Bool', ts: 'Timestamp<MICROSECOND>', n: 'Int32' });
    const row = table.get(0)!.toJSON() as Record<string, unknown>;
    assert.equal(row['i'], 7);
    assert.equal(row['bi'], 9007199254740993n);
    assert.equal(row['d'], 2.25);
    assert.equal(row['f'], 1.5);
    assert.equal(row['b'], true);
    assert.equal(row['ts'], Date.UTC(2020, 6, 1, 10, 11, 12));
    assert.equal(row['n'], null);
  });

  test('an empty result is an empty table with its schema', async () => {
    const table = await as('alice').scanAsArrow(`SELECT ssn, dose_mg FROM ${TRIAL} WHERE country = 'nowhere'`);
    assert.equal(table.numRows, 0);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['ssn', 'dose_mg']);
  });
});

describe('options and result shapes', () => {
  test('columns and maxRecords apply to objects and to Arrow', async () => {
    const alice = as('alice');
    const records = await alice.scanAsObjects(TRIAL, { columns: ['ssn', 'country'], maxRecords: 5 });
    assert.equal(records.length, 5);
    for (const record of records) assert.deepEqual(Object.keys(record), ['ssn', 'country']);
    const table = await alice.scanAsArrow(TRIAL, { columns: ['dose_mg'], maxRecords: 7 });
    assert.equal(table.numRows, 7);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['dose_mg']);
    const fromSql = await alice.scanAsObjects(`SELECT arm FROM ${TRIAL}`, { maxRecords: 3 });
    assert.equal(fromSql.length, 3);
    assert.equal((await alice.scanAsObjects(TRIAL, { maxRecords: 0 })).length, 0);
  });

  test('argument mistakes are TypeError/RangeError before any request', async () => {
    const alice = as('alice');
    await assert.rejects(alice.scanAsObjects(`SELECT arm FROM ${TRIAL}`, { columns: ['arm'] }), TypeError);
    await assert.rejects(alice.scanAsObjects(TRIAL, { maxRecords: -1 }), RangeError);
    await assert.rejects(alice.scanAsArrow(TRIAL, { maxRecords: 1.5 }), RangeError);
    await assert.rejects(alice.describe('..'), TypeError);
  });

  test('query returns columns with types, row arrays, rowCount, truncated and the request id', async () => {
    const result = await as('alice').query(`SELECT arm, count(*) AS n, 9007199254740993::BIGINT AS big, 5::BIGINT AS small FROM ${TRIAL} GROUP BY arm ORDER BY arm`);
    assert.deepEqual(result.columns, [{ name: 'arm', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }, { name: 'big', type: 'BIGINT' }, { name: 'small', type: 'BIGINT' }]);
    assert.equal(result.rowCount, result.rows.length);
    assert.equal(result.truncated, false);
    assert.match(result.requestId ?? '', /^[0-9a-f-]{36}$/);
    const first = result.rows[0]!;
    assert.equal(typeof first[1], 'number');
    assert.equal(first[2], '9007199254740993', 'beyond 2^53: exact, as a string');
    assert.equal(first[3], 5);
    const capped = await as('alice').query(`SELECT * FROM ${TRIAL}`, { maxRecords: 3 });
    assert.deepEqual([capped.rowCount, capped.rows.length, capped.truncated], [3, 3, true]);
  });

  test('nested values arrive as arrays and objects; duplicate column names are refused for objects', async () => {
    const [record] = await as('alice').scanAsObjects(`SELECT [1, 2] AS l, {'a': 1} AS st, DATE '2020-02-29' AS dt, 1 AS "__proto__"`);
    assert.deepEqual(record?.['l'], [1, 2]);
    assert.deepEqual(record?.['st'], { a: 1 });
    assert.equal(record?.['dt'], '2020-02-29');
    assert.equal(Object.getPrototypeOf(record), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(record, '__proto__')?.value, 1);
    const error = await rejection(as('alice').scanAsObjects('SELECT 1 AS a, 2 AS a'), VeilQueryError);
    assert.equal(error.code, 'DUPLICATE_COLUMN_NAMES');
    assert.deepEqual((await as('alice').query('SELECT 1 AS a, 2 AS a')).rows, [[1, 2]]);
  });

  test('listDatasets, describe, explain and me', async () => {
    const bob = as('bob');
    assert.deepEqual((await bob.listDatasets({ database: 'drug_xyz' })).map((d) => d.name), ['drug_xyz.adverse_events', TRIAL]);
    assert.deepEqual(await bob.listDatasets({ database: 'nothing_here' }), []);
    assert.ok((await bob.listDatasets({ includeSystem: true })).some((d) => d.name === 'veil_system.audit_log'));
    const described = await bob.describe(TRIAL);
    const access = Object.fromEntries(described.columns.map((c) => [c.name, c.access]));
    assert.equal(access['email'], 'hidden');
    assert.equal(access['date_of_birth'], 'masked');
    assert.equal(access['country'], 'clear');
    const explained = await as('alice').explain(`SELECT ssn FROM ${TRIAL}`);
    assert.equal(explained.datasets[0]?.dataset, TRIAL);
    assert.equal(explained.datasets[0]?.columns.find((c) => c.name === 'ssn')?.transform, 'mask_show_last(4)');
    assert.deepEqual(explained.datasets[0]?.row_filters.map((f) => f.predicate), ["country = user_attribute('region')"]);
    const me = await as('alice').me();
    assert.deepEqual([me.user, me.groups, me.attributes], ['alice', ['data_science'], { region: ['US'] }]);
  });
});

describe('tokens', () => {
  test('from VEIL_TOKEN, with VEIL_URL', async () => {
    await withEnv({ VEIL_URL: s.url, VEIL_TOKEN: `${s.token('alice')}\n` }, async () => {
      const client = connect();
      assert.equal(client.url, `${s.url}/`);
      assert.equal((await client.me()).user, 'alice');
    });
  });

  test('the token option wins over the environment', async () => {
    await withEnv({ VEIL_TOKEN: s.token('alice') }, async () => {
      assert.equal((await connect({ url: s.url, token: s.token('bob') }).me()).user, 'bob');
    });
  });

  test('from VEIL_TOKEN_FILE, picking up a changed file on the next request', async () => {
    const file = path.join(scratch, 'token');
    writeFileSync(file, `${s.token('alice')}\n`);
    await withEnv({ VEIL_TOKEN_FILE: file }, async () => {
      const client = connect({ url: s.url });
      assert.equal((await client.me()).user, 'alice');
      assert.equal((await client.me()).user, 'alice');
      writeFileSync(file, `${s.token('bob')}\n`);
      assert.equal((await client.me()).user, 'bob');
    });
  });

  test('a token file that is gone is a VeilAuthError naming the file, not the token', async () => {
    const file = path.join(scratch, 'gone');
    await withEnv({ VEIL_TOKEN_FILE: file }, async () => {
      const error = await rejection(connect({ url: s.url }).me(), VeilAuthError);
      assert.equal(error.code, 'TOKEN_UNREADABLE');
      assert.match(error.message, /gone.*ENOENT/);
    });
  });

  test('a token function is called for every request', async () => {
    let calls = 0;
    const client = connect({
      url: s.url,
      token: async () => {
        calls++;
        return s.token(calls === 1 ? 'alice' : 'erin');
      },
    });
    assert.equal((await client.me()).user, 'alice');
    assert.equal((await client.me()).user, 'erin');
    assert.equal(calls, 2);
  });

  test('no token anywhere: VeilAuthError at connect, listing where it looked', async () => {
    await withEnv({}, async () => {
      const error = (() => {
        try {
          connect({ url: s.url });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(error instanceof VeilAuthError);
      assert.equal(error.code, 'TOKEN_MISSING');
      assert.equal(error.status, null);
      assert.match(error.message, /token option/);
      assert.match(error.message, /VEIL_TOKEN\b/);
      assert.match(error.message, /VEIL_TOKEN_FILE/);
    });
    assert.throws(() => connect({ url: s.url, token: '  ' }), VeilAuthError);
  });

  test('an invalid token is a VeilAuthError; the token appears in no error and no description', async () => {
    const token = `${s.token('alice').slice(0, -6)}AAAAAA`;
    const client = connect({ url: s.url, token, applicationName: APP });
    const error = await rejection(client.me(), VeilAuthError);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'INVALID_TOKEN');
    for (const text of [error.message, String(error), inspect(error, { depth: 5 }), JSON.stringify(error), String(client), inspect(client, { depth: 5 }), JSON.stringify(client)]) {
      assert.ok(!text.includes(token), `token leaked into: ${text}`);
      assert.ok(!text.includes(token.slice(0, 40)), `token prefix leaked into: ${text}`);
    }
    assert.equal(String(client), `VeilClient(${s.url}/, application ${APP})`);
  });
});

describe('query errors', () => {
  test('bad SQL is a VeilQueryError with the server code', async () => {
    const error = await rejection(as('alice').query('SELEC 1'), VeilQueryError);
    assert.equal(error.code, 'INVALID_SQL');
    assert.equal(error.status, 400);
    assert.ok(error instanceof VeilClientError);
    const disallowed = await rejection(as('alice').scanAsArrow("SELECT * FROM read_csv('/etc/passwd')"), VeilQueryError);
    assert.equal(disallowed.code, 'SQL_NOT_ALLOWED');
  });

  test('an unknown dataset is a VeilNotFoundError', async () => {
    const error = await rejection(as('erin').scanAsObjects('drug_xyz.no_such_dataset'), VeilNotFoundError);
    assert.equal(error.code, 'DATASET_NOT_FOUND');
    assert.equal(error.status, 404);
    await rejection(as('erin').describe('drug_xyz.no_such_dataset'), VeilNotFoundError);
    await rejection(as('erin').scanAsArrow('SELECT * FROM nope.nothing'), VeilNotFoundError);
  });
});

/** A loopback server for one test; returns its URL and closes it afterwards. */
async function withFakeServer<T>(server: NetServer, fn: (url: string) => Promise<T>): Promise<T> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await fn(`http://127.0.0.1:${port}`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('transport', () => {
  test('connection refused: VeilConnectionError after 3 attempts with back-off', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = Date.now();
    const error = await rejection(connect({ host: '127.0.0.1', port, token: s.token('alice') }).me(), VeilConnectionError);
    const elapsed = Date.now() - started;
    assert.equal(error.code, 'CONNECTION_FAILED');
    assert.equal(error.attempts, 3);
    assert.equal(error.status, null);
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(elapsed >= 400 && elapsed < 5000, `two back-off waits (~200 + ~400 ms), took ${elapsed} ms`);
  });

  test('connections reset before any response are retried, 3 attempts in all', async () => {
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      socket.resetAndDestroy();
    });
    await withFakeServer(server, async (url) => {
      const error = await rejection(connect({ url, token: 'a.b.c' }).query('SELECT 1'), VeilConnectionError);
      assert.equal(error.code, 'CONNECTION_FAILED');
      assert.equal(error.attempts, 3);
    });
    assert.equal(connections, 3);
  });

  test('HTTP errors are never retried; the client header and token are sent', async () => {
    const seen: IncomingMessage[] = [];
    const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req);
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json', 'X-Request-Id': 'req-503' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error (request req-503)' } }));
    });
    await withFakeServer(server, async (url) => {
      const error = await rejection(connect({ url, token: 'a.b.c', applicationName: 'my (app)\n' }).query('SELECT 1'), VeilServerError);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'INTERNAL');
      assert.equal(error.requestId, 'req-503');
      assert.equal(error.message, 'internal error (request req-503)');
    });
    assert.equal(seen.length, 1);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(CLIENT_VERSION, pkg.version);
    assert.equal(seen[0]?.headers['x-veil-client'], `veil-ts/${pkg.version} (my _app_)`);
    assert.equal(seen[0]?.headers['authorization'], 'Bearer a.b.c');
    assert.equal(seen[0]?.url, '/v1/query');
  });

  test('a non-JSON error page still maps by status', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    await withFakeServer(server, async (url) => {
      const error = await rejection(connect({ url, token: 'a.b.c' }).listDatasets(), VeilServerError);
      assert.equal(error.code, 'HTTP_502');
      assert.equal(error.requestId, null);
    });
  });

  test('a result that breaks off midway is RESPONSE_INTERRUPTED, never a short result', async () => {
    // Arrow: whole record batches but no end-of-stream marker, the shape of a stream the server aborts between batches.
    const ipc = tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }), 'stream');
    const server = createHttpServer((req, res) => {
      req.resume();
      const arrow = (req.headers.accept ?? '').includes('arrow');
      res.writeHead(200, { 'Content-Type': arrow ? 'application/vnd.apache.arrow.stream' : 'application/json', 'X-Request-Id': 'req-cut' });
      res.write(arrow ? ipc.subarray(0, ipc.length - 8) : '{"columns":[{"name":"a","type":"INTEGER"}],"rows":[[1],[2]');
      setTimeout(() => res.destroy(), 20);
    });
    await withFakeServer(server, async (url) => {
      const client = connect({ url, token: 'a.b.c' });
      for (const call of [() => client.scanAsObjects('SELECT 1'), () => client.scanAsArrow('SELECT 1'), () => client.query('SELECT 1')]) {
        const error = await rejection(call(), VeilConnectionError);
        assert.equal(error.code, 'RESPONSE_INTERRUPTED', String(call));
        assert.equal(error.requestId, 'req-cut');
      }
    });
  });

  test('timeoutMs bounds a call to a server that does not answer', async () => {
    const server = createHttpServer((req) => {
      req.resume();
    });
    await withFakeServer(server, async (url) => {
      const started = Date.now();
      const error = await rejection(connect({ url, token: 'a.b.c', timeoutMs: 150 }).me(), VeilConnectionError);
      assert.equal(error.code, 'TIMEOUT');
      assert.ok(Date.now() - started < 3000);
    });
  });

  test('url and host/port are exclusive; credentials in the URL are refused', () => {
    assert.throws(() => connect({ url: s.url, port: 7070, token: 'x' }), TypeError);
    assert.throws(() => connect({ url: 'http://user:secret@localhost:7070', token: 'x' }), (e: unknown) => e instanceof TypeError && !e.message.includes('secret'));
    assert.throws(() => connect({ url: 'ftp://localhost', token: 'x' }), TypeError);
    assert.equal(connect({ token: 'x' }).url, 'http://localhost:7070/');
    assert.equal(connect({ url: 'https://gw.example/veil', token: 'x' }).url, 'https://gw.example/veil/');
  });
});

test('the audit trail records the http door (decided by the server) and the client application', async () => {
  const alice = as('alice');
  const { requestId } = await alice.query(`SELECT count(*) FROM ${TRIAL}`);
  assert.ok(requestId !== null);
  const records = await alice.scanAsObjects(`SELECT "user", door, client_application, statement_type FROM veil_system.audit_log WHERE request_id = '${requestId}'`);
  assert.deepEqual(records, [{ user: 'alice', door: 'http', client_application: `veil-ts/${CLIENT_VERSION} (${APP})`, statement_type: 'query' }]);
  const scans = await alice.scanAsObjects(`SELECT door, statement FROM veil_system.audit_log WHERE "user" = 'alice' AND statement_type = 'scan' AND client_application LIKE 'veil-ts/%'`);
  assert.ok(scans.some((r) => r['statement'] === `scan ${TRIAL}`));
});

test('no request ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});
