import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { stringify } from 'yaml';
import type { SqlValue } from '../src/store/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { auditLogRows } from './support/audit-trail.ts';

/**
 * Veil's PostgreSQL door with real clients nobody here wrote: psql, psycopg2 and pandas, pgJDBC,
 * npm pg with pg-cursor. Every answer is compared, value by value, with what the HTTP API answers
 * for the same user and SQL; what a user may not see (hidden columns, invisible datasets) must not
 * show through the catalog either. The clients run as child processes (asynchronously: the server
 * under test lives in this process and must keep answering), each with a timeout.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const PSQL = '/usr/bin/psql';
const PYTHON = '/usr/bin/python3';
const JAVA = 'java';
const JAVAC = 'javac';
const PG_JDBC_JAR = '/usr/share/java/postgresql.jar';
const PSYCOPG_CHECK = path.join(ROOT, 'test', 'fixtures', 'pg', 'psycopg_check.py');
const JDBC_SOURCE = path.join(ROOT, 'test', 'fixtures', 'jdbc', 'VeilJdbcCheck.java');
const CHILD_TIMEOUT_MS = 90_000;
const TRIAL = 'drug_xyz.trial_july2020';
/** The columns hidden from bob (research) by the demo policies: the pii-tagged ones. */
const HIDDEN_FROM_BOB = ['participant_id', 'full_name', 'email', 'ssn'];
/** The query of the JDBC program's fetch-size check (its parameter is 100.0). */
const JDBC_FETCH_SQL = `SELECT site_id, enrolled_at, dose_mg, consent_research FROM ${TRIAL} WHERE dose_mg > 100.0 ORDER BY enrolled_at, site_id, dose_mg`;

/** How psql's format_type() and pgJDBC's TYPE_NAME spell the types Veil's HTTP API names. */
const FORMAT_TYPE: Record<string, string> = { VARCHAR: 'text', DOUBLE: 'double precision', BOOLEAN: 'boolean', DATE: 'date', TIMESTAMP: 'timestamp without time zone', BIGINT: 'bigint', INTEGER: 'integer' };
const TYPE_NAME: Record<string, string> = { VARCHAR: 'text', DOUBLE: 'float8', BOOLEAN: 'bool', DATE: 'date', TIMESTAMP: 'timestamp', BIGINT: 'int8', INTEGER: 'int4' };

let s: TestServer & { internalErrors: unknown[] };
let scratch: string;
let jdbcClasses: string;

before(async () => {
  s = await startTestServer({ rows: 3000 });
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-pg-clients-'));
  jdbcClasses = path.join(scratch, 'jdbc-classes');
  mkdirSync(jdbcClasses);
  const compiled = await runChild(JAVAC, ['-cp', PG_JDBC_JAR, '-d', jdbcClasses, JDBC_SOURCE], { env: baseEnv() });
  assert.equal(compiled.code, 0, `javac failed:\n${compiled.stdout}${compiled.stderr}`);
});
after(async () => {
  await s.close();
  rmSync(scratch, { recursive: true, force: true });
});

// ---- child processes -------------------------------------------------------------------------

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

function runChild(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Nothing of this machine's PostgreSQL environment (PGHOST, ~/.pgpass, ~/.psqlrc) reaches a client. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: scratch ?? os.tmpdir(), ...extra };
}

/** psql as a user with the token as password; conninfo adds keywords (sslmode, …). */
function psql(user: string, args: readonly string[], options: { port?: number; conninfo?: string; password?: string } = {}): Promise<ChildResult> {
  const conninfo = `host=127.0.0.1 port=${options.port ?? s.pgPort} user=${user} dbname=veil connect_timeout=10 ${options.conninfo ?? ''}`.trim();
  return runChild(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '--dbname', conninfo, ...args], { env: baseEnv({ PGPASSWORD: options.password ?? s.token(user) }) });
}

function describeChild(result: ChildResult): string {
  return `exit ${result.code}${result.signal === null ? '' : ` (${result.signal})`}\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(0, 2000)}`;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

// ---- what HTTP answers ---------------------------------------------------------------------

async function httpRows(user: string, sql: string): Promise<unknown[][]> {
  const { status, body } = await s.query(user, sql, 100_000);
  assert.equal(status, 200, `HTTP ${status} for ${user}: ${JSON.stringify(body.error)}\n${sql}`);
  assert.equal(body.truncated, false, `HTTP truncated the result of ${sql}`);
  return body.rows ?? [];
}

async function httpColumns(user: string, dataset: string): Promise<{ name: string; type: string; access: string }[]> {
  const response = await s.get(user, `/v1/datasets/${dataset}`);
  assert.equal(response.status, 200, `HTTP describe of ${dataset} for ${user}`);
  const body = (await response.json()) as { columns: { name: string; type: string; access: string }[] };
  return body.columns.filter((c) => c.access !== 'hidden');
}

async function httpDatasets(user: string): Promise<string[]> {
  const response = await s.get(user, '/v1/datasets?include_system=true');
  assert.equal(response.status, 200);
  const body = (await response.json()) as { datasets: { name: string }[] };
  return body.datasets.map((d) => d.name).sort();
}

/** A value as PostgreSQL's text format writes it (what psql, COPY and text results carry). */
function pgText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return String(value);
}

/** HTTP rows in PostgreSQL's text format. */
function asText(rows: readonly unknown[][]): (string | null)[][] {
  return rows.map((row) => row.map(pgText));
}

/** A CSV line as COPY … (FORMAT csv) writes it: NULL empty, the empty string quoted. */
function copyCsvLine(fields: readonly (string | null)[]): string {
  return fields.map((v) => (v === null ? '' : v === '' || /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',');
}

// ---- audit ---------------------------------------------------------------------------------

function auditRecords(where: string, ...params: SqlValue[]): Promise<Record<string, unknown>[]> {
  return auditLogRows(s.home, where, params);
}

// =============================================================================================
// 1. psql
// =============================================================================================

test('psql: rows and aggregates equal what HTTP answers (CSV and unaligned output)', async () => {
  const aggregate = `SELECT arm, count(*) AS n, round(avg(dose_mg), 2) AS mean_dose, min(enrolled_at) AS first_enrolled, bool_or(adverse_event) AS any_ae FROM ${TRIAL} GROUP BY arm ORDER BY arm`;
  const detail = `SELECT site_id, date_of_birth, zip, outcome_score, consent_research, enrolled_at FROM ${TRIAL} ORDER BY enrolled_at, site_id, zip, date_of_birth, outcome_score LIMIT 200`;
  for (const user of ['alice', 'bob']) {
    const csv = await psql(user, ['--csv', '-t', '-c', aggregate]);
    assert.equal(csv.code, 0, `psql --csv for ${user}: ${describeChild(csv)}`);
    const expectedCsv = asText(await httpRows(user, aggregate)).map((r) => r.map((v) => v ?? '').join(','));
    assert.deepEqual(lines(csv.stdout), expectedCsv, `psql --csv for ${user}: ${aggregate}`);

    const unaligned = await psql(user, ['-A', '-t', '-F', '|', '-c', detail]);
    assert.equal(unaligned.code, 0, `psql -A -t for ${user}: ${describeChild(unaligned)}`);
    const expected = asText(await httpRows(user, detail)).map((r) => r.map((v) => v ?? '').join('|'));
    assert.equal(expected.length, 200);
    assert.deepEqual(lines(unaligned.stdout), expected, `psql -A -t for ${user}: ${detail}`);
  }
});

test('psql: \\dn lists exactly the schemas (databases) HTTP lists for the user', async () => {
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const result = await psql(user, ['-A', '-t', '-c', '\\dn']);
    assert.equal(result.code, 0, `\\dn for ${user}: ${describeChild(result)}`);
    const schemas = lines(result.stdout).map((line) => line.split('|')[0]!).sort();
    const expected = [...new Set((await httpDatasets(user)).map((name) => name.split('.')[0]!))].sort();
    assert.deepEqual(schemas, expected, `\\dn for ${user} must list what HTTP /v1/datasets?include_system=true lists`);
  }
  // The demo's expectations, spelled out.
  const alice = lines((await psql('alice', ['-A', '-t', '-c', '\\dn'])).stdout).map((l) => l.split('|')[0]);
  assert.deepEqual(alice.sort(), ['drug_xyz', 'veil_system']);
  const dave = lines((await psql('dave', ['-A', '-t', '-c', '\\dn'])).stdout).map((l) => l.split('|')[0]);
  assert.ok(!dave.includes('drug_xyz'), `dave must not see the drug_xyz schema: ${dave.join(', ')}`);
});

test('psql: \\dt drug_xyz.* lists the tables HTTP lists, and nothing for dave', async () => {
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const result = await psql(user, ['-A', '-t', '-c', '\\dt drug_xyz.*']);
    assert.equal(result.code, 0, `\\dt for ${user}: ${describeChild(result)}`);
    const tables = lines(result.stdout).map((line) => {
      const [schema, name, type] = line.split('|');
      assert.equal(type, 'table', line);
      return `${schema}.${name}`;
    });
    const expected = (await httpDatasets(user)).filter((name) => name.startsWith('drug_xyz.'));
    assert.deepEqual(tables.sort(), expected, `\\dt drug_xyz.* for ${user}`);
    if (user === 'dave') assert.match(result.stderr, /Did not find any relation/, `dave: ${describeChild(result)}`);
  }
});

test('psql: \\d drug_xyz.trial_july2020 shows the columns as the user sees them (bob: no hidden ones)', async () => {
  for (const user of ['alice', 'bob']) {
    const result = await psql(user, ['-A', '-t', '-c', `\\d ${TRIAL}`]);
    if (result.code !== 0) {
      // Run again with -E (psql echoes its describe queries): name the query the door refused.
      const echoed = await psql(user, ['-A', '-t', '-E', '-c', `\\d ${TRIAL}`]);
      const queries = echoed.stdout.split('********* QUERY **********').slice(1);
      const failing = queries.at(-1)?.split('**************************')[0]?.trim() ?? '(none echoed)';
      assert.fail(`\\d ${TRIAL} for ${user} failed: psql's describe query number ${queries.length} was refused by the door.\n${result.stderr.trim()}\nquery:\n${failing}`);
    }
    const columns = lines(result.stdout).map((line) => line.split('|').slice(0, 2).join(':'));
    const expected = (await httpColumns(user, TRIAL)).map((c) => `${c.name}:${FORMAT_TYPE[c.type] ?? c.type}`);
    assert.deepEqual(columns, expected, `\\d for ${user}`);
    const names = columns.map((c) => c.split(':')[0]);
    if (user === 'bob') for (const hidden of HIDDEN_FROM_BOB) assert.ok(!names.includes(hidden), `bob must not see ${hidden} in \\d`);
    else assert.ok(names.includes('ssn'), 'alice sees ssn (masked)');
  }
  const dave = await psql('dave', ['-A', '-t', '-c', `\\d ${TRIAL}`]);
  assert.equal(dave.stdout, '', `dave must see no table: ${describeChild(dave)}`);
  assert.match(dave.stderr, /Did not find any relation named/, describeChild(dave));
});

test('psql: \\copy (SELECT …) TO STDOUT CSV writes exactly the bytes of a CSV built from HTTP rows', async () => {
  const sql = `SELECT site_id, arm, dose_mg, outcome_score, consent_research, date_of_birth, zip, enrolled_at, 'O''Brien, "Jr"' AS note, '' AS empty_text FROM ${TRIAL} ORDER BY enrolled_at, site_id, dose_mg, zip, date_of_birth, outcome_score LIMIT 300`;
  const { body } = await s.query('bob', sql, 100_000);
  assert.ok(body.columns !== undefined && body.rows !== undefined, JSON.stringify(body.error));
  const expected = [copyCsvLine(body.columns.map((c) => c.name)), ...asText(body.rows).map(copyCsvLine)].map((line) => `${line}\n`).join('');
  assert.ok(asText(body.rows).some((row) => row[3] === null), 'the sample holds NULLs (outcome_score masked without consent)');
  const result = await psql('bob', ['-c', `\\copy (${sql}) TO STDOUT WITH (FORMAT csv, HEADER)`]);
  assert.equal(result.code, 0, `\\copy for bob: ${describeChild(result)}`);
  assert.equal(result.stdoutBytes.toString('utf8'), expected);
  assert.ok(result.stdoutBytes.equals(Buffer.from(expected, 'utf8')), 'byte for byte');
});

test('psql: -c with several statements answers each of them', async () => {
  const simple = await psql('alice', ['-A', '-t', '-c', 'SELECT 1; SELECT 2']);
  assert.equal(simple.code, 0, describeChild(simple));
  assert.deepEqual(lines(simple.stdout), ['1', '2']);
  const data = await psql('bob', ['-A', '-t', '-c', `SELECT count(*) AS n FROM ${TRIAL}; SELECT count(*) AS n FROM drug_xyz.adverse_events`]);
  assert.equal(data.code, 0, describeChild(data));
  const expected = [(await httpRows('bob', `SELECT count(*) AS n FROM ${TRIAL}`))[0]![0], (await httpRows('bob', 'SELECT count(*) AS n FROM drug_xyz.adverse_events'))[0]![0]].map(pgText);
  assert.deepEqual(lines(data.stdout), expected);
  // An error in the second statement: psql prints the first result, then the error.
  const failing = await psql('bob', ['-A', '-t', '-c', `SELECT 1; SELECT ssn FROM ${TRIAL}`]);
  assert.notEqual(failing.code, 0);
  assert.match(failing.stderr, /access denied to column|ssn/, describeChild(failing));
  assert.doesNotMatch(failing.stdout, /XXX-XX/, 'no ssn value reaches bob');
});

test('psql: a bad password is refused without echoing it', async () => {
  const wrong = `${s.token('alice').slice(0, -6)}AAAAAA`;
  const result = await psql('alice', ['-c', 'SELECT 1'], { password: wrong });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /password authentication failed for user "alice"/, describeChild(result));
  assert.ok(!result.stderr.includes(wrong.slice(-30)), 'the password is not echoed');
});

// =============================================================================================
// 2. psycopg2 and pandas
// =============================================================================================

type PythonOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error_class: string; pgcode: string | null; message: string };

async function psycopg(check: string): Promise<Record<string, unknown>> {
  const env = baseEnv({
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    VEIL_PG_PORT: String(s.pgPort),
    ...Object.fromEntries(['alice', 'bob'].map((user) => [`VEIL_PG_TOKEN_${user.toUpperCase()}`, s.token(user)])),
  });
  const result = await runChild(PYTHON, [PSYCOPG_CHECK, check], { env });
  const last = lines(result.stdout).at(-1);
  assert.ok(last !== undefined && last.startsWith('{'), `psycopg_check.py ${check} printed no result: ${describeChild(result)}`);
  const outcome = JSON.parse(last) as PythonOutcome;
  assert.ok(outcome.ok, `psycopg2 check "${check}" failed: ${outcome.ok ? '' : `${outcome.error_class} (SQLSTATE ${outcome.pgcode}): ${outcome.message}`}`);
  return outcome.result;
}

test('psycopg2: %s parameters (spliced client-side, a quote included) answer what HTTP answers', async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import psycopg2, pandas'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(probe.status, 0, `${PYTHON} cannot import psycopg2 and pandas (Debian: python3-psycopg2 python3-pandas): ${probe.stderr}`);
  const result = await psycopg('parameters');
  assert.deepEqual(result['count'], await httpRows('alice', `SELECT count(*) AS n FROM ${TRIAL} WHERE arm = 'treatment' AND dose_mg > 100`));
  assert.equal(result['quoted_query'], `SELECT 'O''Brien' AS name, count(*) AS n FROM ${TRIAL} WHERE site_id = 'O''Brien'`);
  assert.deepEqual(result['quoted'], await httpRows('alice', `SELECT 'O''Brien' AS name, count(*) AS n FROM ${TRIAL} WHERE site_id = 'O''Brien'`));
  assert.deepEqual(result['named'], await httpRows('alice', `SELECT 'placebo' AS arm, count(*) AS n FROM ${TRIAL} WHERE arm = 'placebo'`));
});

test('psycopg2: cursor.fetchmany reads every row HTTP answers, in batches', async () => {
  const result = await psycopg('fetchmany');
  const expected = await httpRows('alice', `SELECT participant_id, arm, dose_mg, enrolled_at FROM ${TRIAL} ORDER BY participant_id`);
  assert.deepEqual(result['description'], ['participant_id', 'arm', 'dose_mg', 'enrolled_at']);
  assert.deepEqual(result['rows'], expected);
  const batches = result['batches'] as number[];
  assert.equal(batches.reduce((a, b) => a + b, 0), expected.length);
  assert.ok(batches.slice(0, -1).every((n) => n === 250), `full batches of 250: ${batches.join(',')}`);
});

test('psycopg2: a named (server-side) cursor with itersize, and one WITH HOLD read after COMMIT', async () => {
  const result = await psycopg('named_cursor');
  assert.deepEqual(result['rows'], await httpRows('alice', `SELECT participant_id, arm, dose_mg, consent_research FROM ${TRIAL} ORDER BY participant_id`));
  assert.deepEqual(result['held_rows'], await httpRows('alice', `SELECT participant_id, outcome_score FROM ${TRIAL} ORDER BY participant_id`));
});

test('pandas.read_sql: alice\'s whole trial with the dtypes PostgreSQL gives, values equal to HTTP', async () => {
  const result = await psycopg('pandas');
  const { body } = await s.query('alice', `SELECT * FROM ${TRIAL} ORDER BY participant_id`, 100_000);
  assert.deepEqual(result['columns'], body.columns!.map((c) => c.name));
  const dtypes = result['dtypes'] as Record<string, string>;
  for (const column of body.columns!) {
    const expected = { DOUBLE: 'float64', BOOLEAN: 'bool', TIMESTAMP: 'datetime64[ns]', VARCHAR: 'object', DATE: 'object' }[column.type];
    assert.equal(dtypes[column.name], expected, `dtype of ${column.name} (${column.type})`);
  }
  // DATE arrives as datetime.date (as from PostgreSQL); parse_dates makes it datetime64.
  assert.equal(result['date_python_type'], 'date');
  assert.deepEqual(result['parsed_dtypes'], { participant_id: 'object', date_of_birth: 'datetime64[ns]', enrolled_at: 'datetime64[ns]' });
  assert.equal((result['rows'] as unknown[]).length, body.rows!.length);
  assert.deepEqual(result['rows'], body.rows);
});

test('psycopg2: conn.cancel() from another thread stops a long query with QueryCanceled (57014)', async () => {
  const result = await psycopg('cancel');
  assert.equal(result['worker_alive'], false, 'the query thread ended after the cancel');
  assert.equal(result['finished'], undefined, `the query must be cancelled, not finish (a triple cross join): ${JSON.stringify(result)}`);
  assert.equal(result['error_class'], 'QueryCanceled', JSON.stringify(result));
  assert.equal(result['pgcode'], '57014');
  assert.equal(result['is_query_canceled'], true);
  assert.match(String(result['message']), /canceling statement due to user request/);
  assert.deepEqual(result['after'], [[1]], 'the connection answers after the cancel');
});

test('psycopg2: refusals raise the exception classes of their SQLSTATE, with the Veil code in the detail', async () => {
  const result = (await psycopg('errors')) as Record<string, { error_class?: string; pgcode?: string; detail?: string; rows?: unknown }>;
  assert.deepEqual(result['hidden'], { error_class: 'InsufficientPrivilege', pgcode: '42501', detail: 'Veil error code COLUMN_ACCESS_DENIED' });
  assert.deepEqual(result['missing'], { error_class: 'UndefinedTable', pgcode: '42P01', detail: 'Veil error code DATASET_NOT_FOUND' });
  assert.deepEqual(result['syntax'], { error_class: 'SyntaxError', pgcode: '42601', detail: 'Veil error code INVALID_SQL' });
  assert.deepEqual(result['after'], await httpRows('bob', `SELECT count(*) AS n FROM ${TRIAL}`));
});

test('psycopg2: a bad password is an OperationalError that never shows the token', async () => {
  const result = await psycopg('bad_password');
  const refused = result['result'] as { connected: boolean; error_class?: string; message?: string };
  assert.equal(refused.connected, false);
  assert.equal(refused.error_class, 'OperationalError');
  assert.match(refused.message ?? '', /password authentication failed/);
  const wrong = String(result['wrong']);
  for (const secret of [wrong, s.token('alice'), wrong.split('.')[1]!, wrong.split('.')[2]!]) assert.ok(!(refused.message ?? '').includes(secret), 'no token text in the message');
});

test('psycopg2: alice\'s token with startup user bob is refused', async () => {
  const refused = (await psycopg('wrong_user')) as { connected: boolean; error_class?: string; message?: string };
  assert.equal(refused.connected, false, 'a token for alice must not open a session as bob');
  assert.equal(refused.error_class, 'OperationalError');
  assert.match(refused.message ?? '', /password authentication failed for user "bob"/);
  assert.ok(!(refused.message ?? '').includes(s.token('alice').split('.')[2]!), 'no token text in the message');
});

// =============================================================================================
// 3. JDBC
// =============================================================================================

async function runJdbc(user: string): Promise<Map<string, string[]>> {
  const result = await runChild(JAVA, ['-Duser.timezone=UTC', '-cp', `${PG_JDBC_JAR}:${jdbcClasses}`, 'VeilJdbcCheck', String(s.pgPort), user, s.token(user)], { env: baseEnv() });
  assert.equal(result.code, 0, `VeilJdbcCheck for ${user}: ${describeChild(result)}`);
  const printed = new Map<string, string[]>();
  for (const line of lines(result.stdout)) {
    const [name, ...rest] = line.split('\t');
    const value = rest.join('\t');
    printed.set(name!, [...(printed.get(name!) ?? []), value]);
  }
  const failures = [...printed.entries()].flatMap(([name, values]) => values.filter((v) => v.startsWith('ERROR\t')).map((v) => `${name}: ${v}`));
  assert.deepEqual(failures, [], `JDBC checks that failed for ${user} (name: ERROR sqlstate message)`);
  assert.ok(printed.has('done'), `the program ran to its end: ${result.stdout}`);
  return printed;
}

for (const user of ['alice', 'bob']) {
  test(`JDBC (pgJDBC) as ${user}: metadata, prepared statements and fetch size answer what HTTP answers`, async () => {
    const out = await runJdbc(user);
    const one = (name: string): string => {
      const values = out.get(name);
      assert.ok(values !== undefined && values.length === 1, `one "${name}" line: ${JSON.stringify(values)}`);
      return values[0]!;
    };
    assert.equal(one('product').split('\t')[0], 'PostgreSQL');

    const schemas = one('schemas').split(',').filter((x) => x !== '' && x !== 'pg_catalog' && x !== 'information_schema');
    const datasets = await httpDatasets(user);
    assert.deepEqual(schemas.sort(), [...new Set(datasets.map((d) => d.split('.')[0]!))].sort(), 'getSchemas: the databases HTTP lists (besides pg_catalog, information_schema)');
    assert.deepEqual(one('tables').split(',').filter((x) => x !== ''), datasets.filter((d) => d.startsWith('drug_xyz.')), 'getTables(drug_xyz)');

    const columns = one('columns').split(',').filter((x) => x !== '');
    assert.deepEqual(columns, (await httpColumns(user, TRIAL)).map((c) => `${c.name}:${TYPE_NAME[c.type] ?? c.type}`), 'getColumns');
    if (user === 'bob') for (const hidden of HIDDEN_FROM_BOB) assert.ok(!columns.some((c) => c.startsWith(`${hidden}:`)), `getColumns must not show ${hidden} to bob`);

    // The same PreparedStatement, run past pgJDBC's prepareThreshold (named server statement, binary results).
    const arms = out.get('arm') ?? [];
    assert.equal(arms.length, 4, `arm lines: ${arms.join(' / ')}`);
    for (const line of arms) {
      const [, arm, n, dose] = line.split('|');
      const http = await httpRows(user, `SELECT arm, count(*) AS n, round(avg(dose_mg), 2) AS dose FROM ${TRIAL} WHERE arm = '${arm}' GROUP BY arm`);
      assert.deepEqual([arm, Number(n), Number(dose)], [http[0]![0], Number(http[0]![1]), Number(http[0]![2])], `prepared statement for arm ${arm}: ${line}`);
    }

    assert.equal(one('types'), 'site_id:text,enrolled_at:timestamp,dose_mg:float8,consent_research:bool,');
    const [count, first, last] = one('fetched').split('\t');
    const http = await httpRows(user, JDBC_FETCH_SQL);
    assert.equal(Number(count), http.length, 'setFetchSize(50): as many rows as HTTP');
    const javaRow = (text: string | undefined): unknown[] => {
      const [site, at, dose, flag] = (text ?? '').split('|');
      return [site, at?.replace(/\.0$/, ''), Number(dose), flag === 'true'];
    };
    assert.deepEqual(javaRow(first), http[0], 'first fetched row');
    assert.deepEqual(javaRow(last), http.at(-1), 'last fetched row');

    assert.equal(one('hidden'), user === 'bob' ? '42501' : 'VISIBLE', 'SELECT ssn: 42501 for bob');
    assert.equal(Number(one('after_error')), Number((await httpRows(user, `SELECT count(*) AS n FROM ${TRIAL}`))[0]![0]), 'the connection answers after the refusal');
  });
}

// =============================================================================================
// 4. npm pg and pg-cursor
// =============================================================================================

/** Text results: compared with HTTP values in PostgreSQL's text format. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

async function pgClient(user: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: s.pgPort, user, password: s.token(user), database: 'veil', application_name: 'veil-pg-clients-test', connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

async function pgError(client: pg.Client, sql: string): Promise<pg.DatabaseError> {
  try {
    await client.query(sql);
  } catch (error) {
    assert.ok(error instanceof pg.DatabaseError, `a DatabaseError for ${sql}: ${String(error)}`);
    return error;
  }
  assert.fail(`expected an error for ${sql}`);
}

test('npm pg: a named prepared statement with $1/$2 reused with different values', async () => {
  const client = await pgClient('alice');
  try {
    const text = `SELECT arm, count(*) AS n, round(avg(dose_mg), 2) AS mean_dose, min(enrolled_at) AS first_enrolled FROM ${TRIAL} WHERE arm = $1 AND dose_mg >= $2 GROUP BY arm`;
    for (const [arm, dose] of [['placebo', 0], ['treatment', 50], ['treatment', 150.5], ['nobody', 0]] as const) {
      const result = await client.query({ name: 'arm-dose', text, values: [arm, dose], rowMode: 'array', types: TEXT_TYPES });
      const http = await httpRows('alice', text.replace('$1', `'${arm}'`).replace('$2', String(dose)));
      assert.deepEqual(result.rows, asText(http), `arm ${arm}, dose ${dose}`);
      assert.deepEqual(result.fields.map((f) => f.name), ['arm', 'n', 'mean_dose', 'first_enrolled']);
    }
    // A quote in a bound value is data, never SQL.
    const quoted = await client.query({ name: 'by-site', text: `SELECT count(*) AS n FROM ${TRIAL} WHERE site_id = $1`, values: ["O'Brien'; --"], rowMode: 'array', types: TEXT_TYPES });
    assert.deepEqual(quoted.rows, [['0']]);
  } finally {
    await client.end();
  }
});

test('npm pg: pg-cursor reads in batches inside BEGIN/COMMIT, rows equal to HTTP', async () => {
  const client = await pgClient('bob');
  try {
    const sql = `SELECT site_id, arm, dose_mg, outcome_score, date_of_birth, enrolled_at FROM ${TRIAL} WHERE dose_mg >= $1 ORDER BY enrolled_at, site_id, dose_mg, outcome_score, date_of_birth`;
    await client.query('BEGIN');
    const cursor = client.query(new Cursor<(string | null)[]>(sql, [0], { rowMode: 'array', types: TEXT_TYPES }));
    const rows: (string | null)[][] = [];
    const batches: number[] = [];
    // The callback forms (typed in test/support/pg-cursor.d.ts); pg-cursor also offers promises.
    const read = (count: number): Promise<(string | null)[][]> => new Promise((resolve, reject) => cursor.read(count, (error, got) => (error ? reject(error) : resolve(got))));
    for (let i = 0; i < 1000; i++) {
      const batch = await read(400);
      if (batch.length === 0) break;
      batches.push(batch.length);
      rows.push(...batch);
    }
    await new Promise<void>((resolve, reject) => cursor.close((error) => (error ? reject(error) : resolve())));
    await client.query('COMMIT');
    const http = asText(await httpRows('bob', sql.replace('$1', '0')));
    assert.equal(rows.length, http.length);
    assert.deepEqual(rows, http);
    assert.ok(batches.length > 1 && batches.slice(0, -1).every((n) => n === 400), `batches of 400: ${batches.join(',')}`);
    const after = await client.query({ text: 'SELECT 1 AS one', rowMode: 'array' });
    assert.deepEqual(after.rows, [[1]]);
  } finally {
    await client.end();
  }
});

test('npm pg: errors carry SQLSTATE and the Veil code; an invisible dataset reads as a missing one', async () => {
  const alice = await pgClient('alice');
  const bob = await pgClient('bob');
  const dave = await pgClient('dave');
  try {
    const missing = await pgError(alice, 'SELECT * FROM drug_xyz.trial_july2099');
    assert.equal(missing.code, '42P01', missing.message);
    assert.equal(missing.detail, 'Veil error code DATASET_NOT_FOUND');

    const invisible = await pgError(dave, `SELECT count(*) FROM ${TRIAL}`);
    const daveMissing = await pgError(dave, 'SELECT count(*) FROM drug_xyz.trial_july2099');
    assert.equal(invisible.code, '42P01', invisible.message);
    assert.equal(daveMissing.code, '42P01');
    assert.equal(invisible.detail, daveMissing.detail);
    assert.equal(invisible.message.replaceAll('trial_july2020', '<name>'), daveMissing.message.replaceAll('trial_july2099', '<name>'), 'the same message for a dataset dave cannot see and one that does not exist');
    assert.equal(missing.message.replaceAll('trial_july2099', '<name>'), daveMissing.message.replaceAll('trial_july2099', '<name>'));

    const hidden = await pgError(bob, `SELECT ssn FROM ${TRIAL}`);
    assert.equal(hidden.code, '42501', hidden.message);
    assert.equal(hidden.detail, 'Veil error code COLUMN_ACCESS_DENIED');

    const syntax = await pgError(bob, 'SELEC 1 FROM');
    assert.equal(syntax.code, '42601', syntax.message);
    assert.equal(syntax.detail, 'Veil error code INVALID_SQL');

    // The same through the extended protocol (a parameter forces Parse/Bind/Execute).
    await assert.rejects(bob.query(`SELECT ssn FROM ${TRIAL} WHERE arm = $1`, ['placebo']), (error: pg.DatabaseError) => error.code === '42501' && error.detail === 'Veil error code COLUMN_ACCESS_DENIED');

    // Inside a transaction block the error aborts it until ROLLBACK, as PostgreSQL does.
    await bob.query('BEGIN');
    await pgError(bob, `SELECT ssn FROM ${TRIAL}`);
    const aborted = await pgError(bob, 'SELECT 1');
    assert.equal(aborted.code, '25P02', aborted.message);
    await bob.query('ROLLBACK');
    const counted = await bob.query({ text: `SELECT count(*) AS n FROM ${TRIAL}`, rowMode: 'array', types: TEXT_TYPES });
    assert.deepEqual(counted.rows, asText(await httpRows('bob', `SELECT count(*) AS n FROM ${TRIAL}`)));
  } finally {
    await Promise.all([alice.end(), bob.end(), dave.end()]);
  }
});

// =============================================================================================
// 6. Audit (after the clients above ran)
// =============================================================================================

test('audit: statements from the clients are recorded with door pg, the user and the client application', async () => {
  const marker = `SELECT 'audit-marker' AS marker, count(*) AS n FROM ${TRIAL}`;
  const ran = await psql('carol', ['-A', '-t', '-c', 'SELECT 1 AS one']);
  assert.equal(ran.code, 0, describeChild(ran));
  const psqlRun = await psql('erin', ['-A', '-t', '-c', marker]);
  assert.equal(psqlRun.code, 0, describeChild(psqlRun));

  const byPsql = await auditRecords('statement = ?', marker);
  assert.equal(byPsql.length, 1, JSON.stringify(byPsql));
  assert.deepEqual([byPsql[0]!['door'], byPsql[0]!['user'], byPsql[0]!['client_application'], byPsql[0]!['decision']], ['pg', 'erin', 'psql', 'allowed']);
  assert.equal(Number(byPsql[0]!['rows_returned']), 1);

  // pgJDBC (ApplicationName=veil-jdbc-check), as alice and bob in the JDBC tests.
  for (const user of ['alice', 'bob']) {
    const jdbc = await auditRecords(`door = 'pg' AND "user" = ? AND statement LIKE ?`, user, 'SELECT site_id, enrolled_at, dose_mg, consent_research FROM drug_xyz.trial_july2020%');
    assert.ok(jdbc.length >= 1, `a JDBC record for ${user} (needs the JDBC test to have run)`);
    for (const record of jdbc) assert.deepEqual([record['door'], record['user'], record['client_application'], record['decision']], ['pg', user, 'veil-jdbc-check', 'allowed']);
    const hidden = await auditRecords(`"user" = ? AND client_application = 'veil-jdbc-check' AND statement = ?`, user, `SELECT ssn FROM ${TRIAL}`);
    assert.equal(hidden.length, 1, `the JDBC hidden-column query for ${user}`);
    assert.equal(hidden[0]!['door'], 'pg');
    assert.equal(hidden[0]!['decision'], user === 'bob' ? 'denied' : 'allowed');
  }

  // psycopg2 and npm pg name themselves too; the failed logins are recorded without a user.
  const psycopgRecords = await auditRecords("door = 'pg' AND client_application = 'veil-psycopg-check'");
  assert.deepEqual([...new Set(psycopgRecords.map((r) => r['user']))].sort(), ['alice', 'bob'], 'psycopg2 records (alice, and bob for the refusals)');
  const npmRecords = await auditRecords("door = 'pg' AND client_application = 'veil-pg-clients-test'");
  assert.ok(npmRecords.some((r) => r['user'] === 'dave' && r['error_code'] === 'DATASET_NOT_FOUND'), 'npm pg records');
  const refused = await auditRecords("door = 'pg' AND statement_type = 'auth'");
  assert.ok(refused.length >= 2, `failed logins are recorded: ${JSON.stringify(refused)}`);
  for (const record of refused) {
    assert.equal(record['decision'], 'denied');
    assert.ok(!JSON.stringify(record).includes(s.token('alice').split('.')[2]!), 'no credential in the audit trail');
  }
});

test('no client request ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});

// =============================================================================================
// 5. TLS (a second server whose home holds a certificate)
// =============================================================================================

describe('TLS on the PostgreSQL door', () => {
  let tls: TestServer & { internalErrors: unknown[] };
  let certFile: string;

  before(async () => {
    tls = await startTestServer({
      rows: 200,
      prepareHome: (home) => {
        mkdirSync(path.join(home, 'tls'));
        certFile = path.join(home, 'tls', 'cert.pem');
        const made = spawnSync(
          'openssl',
          ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', path.join(home, 'tls', 'key.pem'), '-out', certFile],
          { encoding: 'utf8', timeout: 60_000 },
        );
        assert.equal(made.status, 0, `openssl: ${made.stderr}`);
        writeFileSync(path.join(home, 'config.yaml'), stringify({ pg_tls_cert: 'tls/cert.pem', pg_tls_key: 'tls/key.pem' }));
      },
    });
  });
  after(async () => tls.close());

  const tlsPsql = (args: readonly string[], conninfo: string) => psql('alice', args, { port: tls.pgPort, conninfo, password: tls.token('alice') });

  test('psql sslmode=require: SELECT 1 works and \\conninfo reports SSL', async () => {
    const result = await tlsPsql(['-A', '-t', '-c', 'SELECT 1', '-c', '\\conninfo'], 'sslmode=require');
    assert.equal(result.code, 0, describeChild(result));
    const [one, ...info] = lines(result.stdout);
    assert.equal(one, '1');
    assert.match(info.join('\n'), /SSL connection \(protocol: TLSv1\.[23]/, `\\conninfo: ${result.stdout}`);
  });

  test('psql sslmode=verify-full against the configured certificate', async () => {
    const result = await tlsPsql(['-A', '-t', '-c', `SELECT count(*) AS n FROM ${TRIAL}`], `host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=${certFile}`);
    assert.equal(result.code, 0, describeChild(result));
    const { body } = await tls.query('alice', `SELECT count(*) AS n FROM ${TRIAL}`);
    assert.deepEqual(lines(result.stdout), [String(body.rows![0]![0])]);
  });

  test('psql sslmode=disable still works from loopback', async () => {
    const result = await tlsPsql(['-A', '-t', '-c', 'SELECT 1', '-c', '\\conninfo'], 'sslmode=disable');
    assert.equal(result.code, 0, describeChild(result));
    const [one, ...info] = lines(result.stdout);
    assert.equal(one, '1');
    assert.doesNotMatch(info.join('\n'), /SSL connection/);
  });

  test('no TLS request ended in an internal error', () => {
    assert.deepEqual(tls.internalErrors, []);
  });
});
