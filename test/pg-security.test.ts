/**
 * The adversarial suite of docs/security.md through the PostgreSQL door (src/pgwire/): the SQL
 * probes of test/security-escapes.test.ts, run through the wire and through HTTP, must reach the
 * same outcome (the same Veil error code, or the same rows); then the wire's own attacks
 * (parameters, multi-statement queries, statements of another session, COPY, settings, the catalog
 * sandbox, authentication, cancel), each checked for what becomes visible and for its audit record
 * (door 'pg'); then the security properties at a realistic size (200,000 rows).
 *
 * A failing test here names a defect of the door; the test states what was expected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { serialize } from 'pg-protocol';
import { VeilHome, type VeilSettings } from '../src/home/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';
import {
  connectPg,
  dataRows,
  differenceFromHttp,
  errorsOf,
  pgOnce,
  pgQuery,
  RawPgClient,
  readCursor,
  sendCancel,
  type AuditRecord,
  type PgAnswer,
  type RawMessage,
} from './support/pg-wire.ts';
import { GroundTruth } from './support/pg-ground-truth.ts';
import { auditMark, auditSince, awaitAudit } from './support/audit-trail.ts';
import { testBackend } from './support/stores.ts';
import { CTE_SCOPE_ESCAPES, ENGINE_ESCAPES, HIDDEN_USES, NON_US_COUNTS, WHOLE_ROW_FORMS } from './support/escape-probes.ts';

const DS = 'drug_xyz.trial_july2020';
const REFERENCE_YEAR = new Date().getUTCFullYear();
const AE = 'drug_xyz.adverse_events';
const HIDDEN_FOR_BOB = ['participant_id', 'full_name', 'email', 'ssn', 'reporter_email'];
/** Column descriptions of columns hidden for bob (their text must not reach him through the catalog). */
const HIDDEN_DESCRIPTION = 'Study participant identifier';

type Server = TestServer & { internalErrors: unknown[] };
let s: Server;
let truth: GroundTruth;

before(async () => {
  s = await startTestServer({ rows: 2000 });
  truth = new GroundTruth(s.home);
  assert.ok(truth.usCount > 0 && truth.nonUsIds.size > 0, 'demo data has US and non-US participants');
});
after(async () => {
  await s.close();
});

function assertNoLeak(text: string, typed: string, context: string): void {
  const leaks = truth.leaksIn(text, typed);
  assert.deepEqual(leaks, [], `protected values leaked through pg (${context}): ${leaks.join(', ')}\n${text.slice(0, 400)}`);
}

function assertNoInternals(text: string, typed: string, context: string): void {
  const found = truth.internalsIn(text, typed);
  assert.deepEqual(found, [], `pg answer reveals internals ${found.join(', ')} (${context}): ${text.slice(0, 400)}`);
}

/** The pg answer carries neither protected values nor internals. */
function assertClean(answer: PgAnswer | string, typed: string, context: string): void {
  const text = typeof answer === 'string' ? answer : answer.text;
  assertNoLeak(text, typed, context);
  assertNoInternals(text, typed, context);
}

function messagesText(messages: readonly RawMessage[]): string {
  return JSON.stringify(messages, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : (v as { type?: string; data?: number[] })?.type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('utf8') : v));
}

/** pg records of a user's statement (door 'pg'), waiting (bounded) for the first one. */
async function pgRecords(mark: number, user: string | null, statement: (text: string) => boolean): Promise<AuditRecord[]> {
  return awaitAudit(s.home, mark, (r) => r.door === 'pg' && r.user === user && statement(r.statement ?? ''));
}

/** Asserts that the wire attack left a record with door 'pg' that is not 'allowed'. */
async function assertRefusalAudited(mark: number, user: string, marker: string, context: string): Promise<AuditRecord> {
  const records = await pgRecords(mark, user, (text) => text.includes(marker));
  const since = records.length >= 1 ? [] : await auditSince(s.home, mark);
  assert.ok(records.length >= 1, `no audit record with door 'pg' for ${user}'s refused ${context} (statement containing ${JSON.stringify(marker)}); records since: ${JSON.stringify(since.map((r) => [r.door, r.user, r.statement?.slice(0, 60), r.decision, r.error_code]))}`);
  for (const r of records) assert.notEqual(r.decision, 'allowed', `${context} is recorded as allowed: ${JSON.stringify(r)}`);
  return records[0]!;
}

/**
 * Runs statements on one session of the user, then a sentinel statement whose record is written
 * after theirs; returns the names of the statements without a pg record (none may be 'allowed').
 */
async function unauditedRefusals(user: string, cases: readonly (readonly [name: string, sql: string, marker: string])[], run: (sql: string) => Promise<void>, finish: () => Promise<void>): Promise<string[]> {
  const mark = await auditMark(s.home);
  const sentinel = `sentinel-${randomBytes(4).toString('hex')}`;
  try {
    for (const [, sql] of cases) await run(sql);
    await run(`SELECT 1 AS sentinel /* ${sentinel} */`);
  } finally {
    await finish();
  }
  assert.equal((await pgRecords(mark, user, (t) => t.includes(sentinel))).length, 1, 'the sentinel statement is audited');
  const records = (await auditSince(s.home, mark)).filter((r) => r.door === 'pg' && r.user === user);
  const missing: string[] = [];
  for (const [name, , marker] of cases) {
    const found = records.filter((r) => (r.statement ?? '').includes(marker));
    if (found.length === 0) missing.push(name);
    for (const r of found) assert.notEqual(r.decision, 'allowed', `${name} recorded as allowed: ${JSON.stringify(r)}`);
  }
  return missing;
}

// =================================================================================================
// 1. The HTTP suite's probes through the wire
// =================================================================================================

/**
 * How the pg door handles a statement, judged from its text (src/pgwire routes on DuckDB's parse):
 * - data: datasets only, through the pipeline exactly like HTTP: the same code or the same rows;
 * - catalog: pg_catalog / information_schema relations, table functions, DESCRIBE / SUMMARIZE and
 *   session functions go to the data-less catalog sandbox, where HTTP answers DATASET_NOT_FOUND or
 *   SQL_NOT_ALLOWED: refused, or harmless;
 * - utility: SET, SHOW, PREPARE, COPY … are answered by the session itself: refused or harmless;
 * - multi: several statements are legal in the simple protocol, each one checked alone;
 * - parameters: placeholders are legal on the wire (bound at Bind): refused without values.
 */
type Route = 'data' | 'catalog' | 'utility' | 'multi' | 'parameters';

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

function routeOf(sql: string): Route {
  const text = stripComments(sql).replace(/'(?:[^']|'')*'/g, "''");
  if (/;\s*\S/.test(text)) return 'multi';
  const first = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  if (['SET', 'RESET', 'SHOW', 'PREPARE', 'EXECUTE', 'COPY', 'DEALLOCATE', 'DECLARE', 'FETCH', 'MOVE', 'CLOSE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'DISCARD', 'LISTEN', 'NOTIFY'].includes(first)) return 'utility';
  if (/(=|\()\s*(\$\d+|\?|\$[a-z_]+)/i.test(text)) return 'parameters';
  if (['DESCRIBE', 'SUMMARIZE'].includes(first)) return 'catalog';
  if (/\b(pg_[a-z_]+|information_schema)\b/i.test(text)) return 'catalog';
  // A table function (FROM range(10), JOIN glob('/*'), …): the sandbox's, refused or harmless there.
  for (const m of text.matchAll(/(?:\bFROM|\bJOIN|,)\s+((?:[a-z_]+\.)*[a-z_]+)\s*\(/gi)) {
    if (!['LATERAL', 'VALUES', 'SELECT'].includes(m[1]!.toUpperCase())) return 'catalog';
  }
  if (/\b(version|current_query|current_schemas?|current_database|current_setting|set_config|to_regclass|has_[a-z_]+_privilege|format_type|obj_description|col_description)\s*\(/i.test(text)) return 'catalog';
  if (/\b(current_user|session_user|current_schema)\b/i.test(text)) return 'catalog';
  return 'data';
}

interface Probe {
  readonly section: string;
  readonly name: string;
  readonly user: string;
  /** __HOME__, __US__ and __RAW_<column>__ (a US participant's raw value) are bound when the probe runs. */
  readonly sql: string;
  /** Extra check of a successful pg answer (over and above the comparison with HTTP). */
  readonly check?: (answer: PgAnswer) => void;
}

/** The table: every probe of the HTTP suite's sections 1–3, with its user(s), and more from sections 4, 6 and 7. */
function generateProbes(): Probe[] {
  const probes: Probe[] = [];
  for (const [name, sql] of NON_US_COUNTS) {
    probes.push({
      section: 'non-US rows',
      name,
      user: 'alice',
      sql,
      check: (a) => {
        assert.equal(a.rows.length, 1, `${name}: one row`);
        assert.equal(Number(a.rows[0]?.[0]), 0, `${name} revealed non-US rows: ${a.text.slice(0, 300)}`);
      },
    });
  }
  for (const [name, sql] of WHOLE_ROW_FORMS) {
    probes.push({
      section: 'whole-row forms',
      name,
      user: 'alice',
      sql,
      check: (a) => assert.ok(!/"(DE|FR|JP|BR|IN)"/.test(JSON.stringify(a.rows)), `${name} shows a non-US country`),
    });
  }
  for (const [name, sql] of HIDDEN_USES) {
    probes.push({
      section: 'hidden columns',
      name,
      user: 'bob',
      sql,
      check: (a) => assert.ok(a.rows.every((r) => r.every((v) => v === null)), `${name} returned data of a hidden column: ${a.text.slice(0, 300)}`),
    });
  }
  for (const [name, sql] of ENGINE_ESCAPES) {
    for (const user of ['alice', 'bob']) probes.push({ section: 'engine escapes', name, user, sql });
  }
  for (const [name, sql] of CTE_SCOPE_ESCAPES) {
    for (const user of ['dave', 'alice']) {
      probes.push({
        section: 'system catalogs through CTE scope confusion',
        name,
        user,
        sql,
        check: (a) => {
          assert.ok(user !== 'dave' || !/trial_july2020|adverse_events/.test(a.text), `${name} reveals dataset names to dave: ${a.text.slice(0, 300)}`);
          assert.ok(!/veil_|unhex|allowed_directories|temp_directory/.test(a.text), `${name} reveals engine internals: ${a.text.slice(0, 300)}`);
        },
      });
    }
  }
  // Existence is private: an invisible dataset answers like a missing one (section 6 of the HTTP suite).
  for (const n of [DS, DS.toUpperCase(), 'drug_xyz.trial_july2099', 'nope_xyz.trial_july2020']) {
    for (const sql of [`SELECT * FROM ${n}`, `SELECT ssn, nosuch FROM ${n} WHERE email = 'x'`, `WITH x AS (SELECT * FROM ${n}) SELECT 1`, `DESCRIBE ${n}`, `SUMMARIZE ${n}`]) {
      probes.push({ section: 'existence', name: sql, user: 'dave', sql, check: (a) => assert.fail(`dave read ${n}: ${a.text.slice(0, 200)}`) });
    }
  }
  // Inference through predicates on masked columns (section 4).
  for (const sql of [
    `SELECT count(*) FROM ${DS} WHERE ssn = '__RAW_ssn__'`,
    `SELECT count(*) FROM ${DS} WHERE participant_id = '__RAW_participant_id__' OR email = '__RAW_email__' OR full_name = '__RAW_full_name__'`,
    `SELECT count(*) FROM ${DS} WHERE ssn < 'A' OR participant_id LIKE 'P%'`,
    `SELECT count(*) FROM ${DS} WHERE zip = '__RAW_zip__' OR date_of_birth = DATE '__RAW_date_of_birth__' AND date_of_birth <> make_date(year(date_of_birth), 1, 1)`,
  ]) {
    probes.push({ section: 'inference', name: sql, user: 'alice', sql, check: (a) => assert.equal(Number(a.rows[0]?.[0]), 0) });
  }
  // The audit log: alice sees her own records only (section 7).
  for (const sql of [
    `SELECT count(*) FROM veil_system.audit_log WHERE "user" IS DISTINCT FROM 'alice'`,
    `WITH a AS (SELECT * FROM veil_system.audit_log) SELECT count(*) FROM a WHERE "user" <> 'alice'`,
    `SELECT count(*) FROM veil_system.audit_log t WHERE to_json(t)->>'user' <> 'alice'`,
  ]) {
    probes.push({ section: 'audit log', name: sql, user: 'alice', sql, check: (a) => assert.equal(Number(a.rows[0]?.[0]), 0) });
  }
  return probes;
}

function bind(sql: string): string {
  const us = truth.rows.find((r) => r.country === 'US')!;
  return sql
    .replaceAll('__HOME__', s.home)
    .replaceAll('__US__', String(truth.usCount))
    .replace(/__RAW_([a-z_]+)__/g, (_m, column: string) => String(us[column as keyof typeof us]));
}

describe('1. the HTTP suite\'s SQL probes through the wire: the same outcome as over HTTP', { concurrency: 4 }, () => {
  for (const probe of generateProbes()) {
    test(`${probe.section}: ${probe.name} (${probe.user})`, async () => {
      const sql = bind(probe.sql);
      const route = routeOf(sql);
      const http = await s.query(probe.user, sql, 100_000);
      for (const extended of [false, true]) {
        const protocol = extended ? 'extended' : 'simple';
        const context = `${probe.user}, ${protocol} protocol, route ${route}: ${sql.slice(0, 200)}`;
        const wire = await pgOnce(s, probe.user, sql, undefined, { extended });
        assertClean(wire, sql, context);
        if (route === 'data') {
          const difference = differenceFromHttp(wire, http);
          assert.equal(difference, null, `pg and HTTP differ (${context}): ${difference}`);
        } else if (!wire.ok) {
          assert.ok(wire.code !== undefined && wire.code !== 'XX000', `refused without a proper SQLSTATE (${context}): ${wire.text}`);
        } else {
          // The catalog sandbox, a session utility (SHOW ALL) or one statement of several answered: harmless.
          if (probe.user === 'dave') assert.ok(!/drug_xyz|trial_july2020|adverse_events/.test(wire.text), `the ${route} answer names an invisible dataset (${context}): ${wire.text.slice(0, 300)}`);
          assert.ok(!wire.text.includes(s.home) && !/root:|allowed_directories|temp_directory/.test(wire.text), `${probe.name} answered with server details (${context}): ${wire.text.slice(0, 300)}`);
        }
        if (wire.ok && (route === 'data' || probe.section !== 'engine escapes')) probe.check?.(wire);
        if (wire.ok && route === 'data' && probe.section === 'engine escapes') assert.fail(`${probe.name}: an engine escape was answered with rows (${context})`);
      }
      // COPY / ATTACH / EXPORT targets were never written.
      for (const file of ['pwn.csv', 'pwn.db', 'export']) assert.ok(!existsSync(path.join(s.home, 'storage', file)), `${file} was written`);
    });
  }
});

describe('1b. what HTTP audits, pg audits', () => {
  test('each statement leaves one record per execution with door pg and the decision and code HTTP recorded', async () => {
    const cases: [string, string][] = [
      ['alice', `SELECT count(*) FROM ${DS} WHERE country <> 'US' /* 1b-a */`],
      ['bob', `SELECT email FROM ${DS} /* 1b-b */`],
      ['alice', `SELECT * FROM read_csv('/etc/passwd') /* 1b-c */`],
      ['dave', `SELECT * FROM ${DS} /* 1b-d */`],
      ['carol', `SELECT * FROM ${DS} /* 1b-e */`],
      ['alice', `SELECT CAST(ssn AS INTEGER) FROM ${DS} /* 1b-f */`],
      ['alice', 'SELEC nonsense /* 1b-g */'],
      ['bob', "SELECT * FROM glob('/*') /* 1b-h */"],
      ['bob', 'SELECT * FROM duckdb_settings() /* 1b-i */'],
      ['bob', `SELECT * FROM ${DS} t, range(3) r /* 1b-j */`],
    ];
    const mark = await auditMark(s.home);
    for (const [user, sql] of cases) {
      await s.query(user, sql);
      await pgOnce(s, user, sql);
      await pgOnce(s, user, sql, undefined, { extended: true });
    }
    const problems: string[] = [];
    for (const [user, sql] of cases) {
      const http = await awaitAudit(s.home, mark, (r) => r.door === 'http' && r.statement === sql);
      const wire = await awaitAudit(s.home, mark, (r) => r.door === 'pg' && r.statement === sql, 40);
      assert.equal(http.length, 1, `one HTTP record: ${sql}`);
      if (wire.length !== 2) problems.push(`${user}: ${sql}: ${wire.length} pg records for 2 executions (HTTP recorded ${http[0]!.decision} ${http[0]!.error_code})`);
      for (const r of wire) {
        if (r.user !== user || r.decision !== http[0]!.decision || r.error_code !== http[0]!.error_code) {
          problems.push(`${user}: ${sql}: pg recorded ${r.user} ${r.decision} ${r.error_code}, HTTP ${http[0]!.user} ${http[0]!.decision} ${http[0]!.error_code}`);
        }
      }
    }
    assert.deepEqual(problems, [], `pg audit records differ from HTTP's:\n${problems.join('\n')}`);
  });
});

// =================================================================================================
// 2. SQL in parameters
// =================================================================================================

describe('2. parameters are bound, never spliced', () => {
  const INJECTIONS = [
    "x' OR 1=1 --",
    "'; SELECT ssn FROM drug_xyz.trial_july2020; --",
    "placebo' UNION SELECT ssn FROM drug_xyz.trial_july2020 --",
    "placebo' OR arm <> '",
    "\\'; SELECT 1; --",
    '$1',
    "placebo'::VARCHAR || (SELECT string_agg(ssn, ',') FROM drug_xyz.trial_july2020) || '",
    "'); ATTACH '/tmp/pwn.db' AS pwn; --",
  ];

  for (const user of ['alice', 'bob']) {
    test(`${user}: an injected value matches nothing and nothing of it runs`, async () => {
      const sql = `SELECT arm FROM ${DS} WHERE arm = $1`;
      const client = await connectPg(s, user);
      try {
        for (const value of INJECTIONS) {
          const answer = await pgQuery(client, sql, [value]);
          assert.ok(answer.ok, `${user}: ${JSON.stringify(value)} → ${answer.text}`);
          assert.deepEqual(answer.rows, [], `${user}: the value ${JSON.stringify(value)} matched rows: it was spliced`);
          assertClean(answer, value, `${user} parameter ${value}`);
        }
        // Binding works: the real value matches what HTTP counts for the same literal.
        const placebo = await pgQuery(client, sql, ['placebo']);
        const http = await s.rows(user, `SELECT count(*) FROM ${DS} WHERE arm = 'placebo'`);
        assert.equal(placebo.rows.length, Number(http[0]?.[0]));
        // A parameter is a value even where text would be SQL.
        const echoed = await pgQuery(client, 'SELECT $1::VARCHAR AS v', [INJECTIONS[1]]);
        assert.deepEqual(echoed.rows, [[INJECTIONS[1]]]);
        // The row filter holds for bound values too.
        const nonUs = await pgQuery(client, `SELECT count(*) FROM ${DS} WHERE country = $1 OR country = $2`, ['DE', 'FR']);
        assert.equal(Number(nonUs.rows[0]?.[0]), user === 'alice' ? 0 : truth.rows.filter((r) => r.country === 'DE' || r.country === 'FR').length);
      } finally {
        await client.end();
      }
    });
  }

  test('raw values as parameters never match masked columns (alice)', async () => {
    const us = truth.rows.filter((r) => r.country === 'US').slice(0, 50);
    const client = await connectPg(s, 'alice');
    try {
      for (const r of us) {
        const a = await pgQuery(client, `SELECT count(*) FROM ${DS} WHERE ssn = $1 OR email = $2 OR participant_id = $3 OR full_name = $4 OR zip = $5`, [r.ssn, r.email, r.participant_id, r.full_name, r.zip]);
        assert.equal(Number(a.rows[0]?.[0]), 0, `raw values of ${r.participant_id} matched`);
      }
    } finally {
      await client.end();
    }
  });

  test('audited as the statement with placeholders (door pg), never with the value spliced in', async () => {
    const mark = await auditMark(s.home);
    const sql = `SELECT arm FROM ${DS} WHERE arm = $1 /* param-audit */`;
    const answer = await pgOnce(s, 'bob', sql, [INJECTIONS[1]]);
    assert.ok(answer.ok);
    const records = await pgRecords(mark, 'bob', (text) => text.includes('param-audit'));
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0]?.statement, sql);
    assert.equal(records[0]?.decision, 'allowed');
    assert.ok(!(await auditSince(s.home, mark)).some((r) => (r.statement ?? '').includes("'; SELECT ssn")), 'a record holds the spliced value');
  });
});

// =================================================================================================
// 3. Several statements in one simple query
// =================================================================================================

describe('3. multi-statement simple queries: each statement checked alone', () => {
  test('bob: SELECT 1; SELECT ssn … → the first answers, the second is refused 42501, no ssn value', async () => {
    const mark = await auditMark(s.home);
    const raw = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    try {
      const messages = await raw.simple(`SELECT 1 AS one /* ms-1 */; SELECT ssn FROM ${DS} /* ms-2 */`);
      assert.deepEqual(dataRows(messages), [['1']]);
      const errors = errorsOf(messages);
      assert.equal(errors.length, 1, messagesText(messages));
      assert.equal(errors[0]?.code, '42501');
      assert.equal(errors[0]?.detail, 'Veil error code COLUMN_ACCESS_DENIED');
      assert.ok(!messages.some((m) => m.name === 'rowDescription' && JSON.stringify(m).includes('"ssn"')), 'a row description names ssn');
      assertClean(messagesText(messages), '', 'bob multi-statement');
      assert.equal(messages.at(-1)?.name, 'readyForQuery');
      // The session is still usable.
      assert.deepEqual(dataRows(await raw.simple('SELECT 2 AS two')), [['2']]);
    } finally {
      raw.close();
    }
    const first = await pgRecords(mark, 'bob', (t) => t.includes('ms-1'));
    const second = await pgRecords(mark, 'bob', (t) => t.includes('ms-2'));
    assert.equal(first[0]?.decision, 'allowed');
    assert.equal(second.length, 1, 'the refused second statement is audited');
    assert.equal(second[0]?.decision, 'denied');
    assert.equal(second[0]?.error_code, 'COLUMN_ACCESS_DENIED');
  });

  test('an error stops the rest of the query string (nothing after it runs)', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    try {
      const messages = await raw.simple(`SELECT ssn FROM ${DS}; SELECT 'after' AS x; SELECT count(*) FROM ${DS}`);
      assert.deepEqual(dataRows(messages), []);
      assert.equal(errorsOf(messages).length, 1);
      const mixed = await raw.simple(`SELECT 1; COPY (SELECT ssn FROM ${DS}) TO STDOUT; SELECT 3`);
      assert.deepEqual(dataRows(mixed), [['1']]);
      assert.ok(!mixed.some((m) => m.name === 'copyData'), 'COPY data was sent');
      assert.equal(errorsOf(mixed)[0]?.code, '42501');
    } finally {
      raw.close();
    }
  });

  test('the extended protocol refuses two statements in one Parse (42601), and nothing runs', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    try {
      raw.send(serialize.parse({ text: `SELECT 1; SELECT ssn FROM ${DS}` }), serialize.bind({}), serialize.execute({}), serialize.sync());
      const messages = await raw.untilReady();
      assert.deepEqual(dataRows(messages), []);
      assert.equal(errorsOf(messages)[0]?.code, '42601');
    } finally {
      raw.close();
    }
  });

  test('alice: the second statement is her masked view, never raw values', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'));
    try {
      const messages = await raw.simple(`SELECT 1; SELECT ssn, email, participant_id, full_name FROM ${DS} WHERE country <> 'US' OR true`);
      assert.deepEqual(errorsOf(messages), []);
      assert.equal(dataRows(messages).length, 1 + truth.usCount);
      assertClean(messagesText(messages), '', 'alice multi-statement');
    } finally {
      raw.close();
    }
  });
});

// =================================================================================================
// 4. Prepared statements belong to their connection
// =================================================================================================

describe('4. prepared statements and portals are per connection, re-checked for their session\'s user', () => {
  test('the same statement name on bob\'s connection is bob\'s statement: bob\'s policies apply', async () => {
    const alice = await connectPg(s, 'alice');
    const bob = await connectPg(s, 'bob');
    try {
      const ssn = await pgQuery(alice, `SELECT ssn FROM ${DS} LIMIT 3`, undefined, { name: 'shared_ssn' });
      assert.ok(ssn.ok);
      for (const [v] of ssn.rows) assert.match(String(v), /^XXX-XX-\d{4}$/);
      const denied = await pgQuery(bob, `SELECT ssn FROM ${DS} LIMIT 3`, undefined, { name: 'shared_ssn' });
      assert.equal(denied.ok, false);
      assert.equal(denied.veilCode, 'COLUMN_ACCESS_DENIED');
      // Counting: each connection's statement of the same name and text answers for its own user.
      const aliceCount = await pgQuery(alice, `SELECT count(*) FROM ${DS}`, undefined, { name: 'shared_count' });
      const bobCount = await pgQuery(bob, `SELECT count(*) FROM ${DS}`, undefined, { name: 'shared_count' });
      assert.equal(Number(aliceCount.rows[0]?.[0]), truth.usCount);
      assert.equal(Number(bobCount.rows[0]?.[0]), truth.rows.length);
      // Executed again (pg reuses the parsed statement): still each user's own answer.
      assert.equal(Number((await pgQuery(alice, `SELECT count(*) FROM ${DS}`, undefined, { name: 'shared_count' })).rows[0]?.[0]), truth.usCount);
      assert.equal(Number((await pgQuery(bob, `SELECT count(*) FROM ${DS}`, undefined, { name: 'shared_count' })).rows[0]?.[0]), truth.rows.length);
    } finally {
      await alice.end();
      await bob.end();
    }
  });

  test('raw protocol: Bind / Describe / Execute of a name bob never parsed fail (26000, 34000) and nothing is returned', async () => {
    const alice = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'));
    const bob = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    try {
      alice.send(serialize.parse({ name: 'alice_stmt', text: `SELECT ssn, email FROM ${DS}` }), serialize.sync());
      const parsed = await alice.untilReady();
      assert.deepEqual(errorsOf(parsed), []);
      assert.ok(parsed.some((m) => m.name === 'parseComplete'));

      bob.send(serialize.bind({ statement: 'alice_stmt', portal: 'p1' }), serialize.execute({ portal: 'p1' }), serialize.sync());
      const bound = await bob.untilReady();
      assert.deepEqual(dataRows(bound), []);
      assert.equal(errorsOf(bound)[0]?.code, '26000', messagesText(bound));

      bob.send(serialize.describe({ type: 'S', name: 'alice_stmt' }), serialize.sync());
      const described = await bob.untilReady();
      assert.equal(errorsOf(described)[0]?.code, '26000');
      assert.ok(!described.some((m) => m.name === 'rowDescription'), 'bob got the row description of alice\'s statement');

      bob.send(serialize.bind({ statement: '' }), serialize.execute({}), serialize.sync());
      const unnamed = await bob.untilReady();
      assert.equal(errorsOf(unnamed)[0]?.code, '26000', 'the unnamed statement of a fresh session does not exist');

      bob.send(serialize.execute({ portal: 'never_bound' }), serialize.sync());
      const portal = await bob.untilReady();
      assert.equal(errorsOf(portal)[0]?.code, '34000');
      assertClean(messagesText([...bound, ...described, ...unnamed, ...portal]), '', 'bob binding alice\'s names');

      // alice's own statement still executes for her, masked.
      alice.send(serialize.bind({ statement: 'alice_stmt' }), serialize.execute({ rows: 5 }), serialize.sync());
      const own = await alice.untilReady();
      assert.equal(dataRows(own).length, 5);
      for (const [ssn, email] of dataRows(own)) {
        assert.match(String(ssn), /^XXX-XX-/);
        assert.match(String(email), /^XXXXX@/);
      }
    } finally {
      alice.close();
      bob.close();
    }
  });

  test('Describe of bob\'s statement names only his columns; cursors go through the pipeline too', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    try {
      raw.send(serialize.parse({ name: 'star', text: `SELECT * FROM ${DS}` }), serialize.describe({ type: 'S', name: 'star' }), serialize.sync());
      const described = await raw.untilReady();
      const description = described.find((m) => m.name === 'rowDescription');
      const names = ((description?.['fields'] ?? []) as { name: string }[]).map((f) => f.name);
      assert.deepEqual(names, ['date_of_birth', 'zip', 'country', 'site_id', 'arm', 'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at']);
      const refused = await raw.simple(`BEGIN; DECLARE c CURSOR FOR SELECT ssn FROM ${DS}`);
      assert.equal(errorsOf(refused)[0]?.detail, 'Veil error code COLUMN_ACCESS_DENIED');
      await raw.simple('ROLLBACK');
      const fetched = await raw.simple(`BEGIN; DECLARE c CURSOR FOR SELECT * FROM ${DS}; FETCH 5 FROM c; FETCH 5 FROM c; CLOSE c; COMMIT`);
      assert.deepEqual(errorsOf(fetched), []);
      assert.equal(dataRows(fetched).length, 10);
      for (const m of fetched.filter((x) => x.name === 'rowDescription')) {
        for (const hidden of HIDDEN_FOR_BOB) assert.ok(!JSON.stringify(m).includes(`"${hidden}"`), `a cursor's row description names ${hidden}`);
      }
      assertClean(messagesText(fetched), '', 'bob cursor');
    } finally {
      raw.close();
    }
  });

  test('messages outside the supported protocol are refused and reveal nothing (function call, unknown type)', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'));
    try {
      // FunctionCall: function OID 2 (any), no argument formats, no arguments, text result.
      const body = Buffer.alloc(4 + 2 + 2 + 2);
      body.writeInt32BE(2, 0);
      const functionCall = Buffer.concat([Buffer.from('F'), Buffer.from([0, 0, 0, 4 + body.length]), body]);
      raw.send(functionCall, serialize.sync());
      const call = await raw.untilReady();
      assert.equal(errorsOf(call)[0]?.code, '0A000', messagesText(call));
      const unknown = Buffer.concat([Buffer.from('z'), Buffer.from([0, 0, 0, 4])]);
      raw.send(unknown, serialize.sync());
      const odd = await raw.untilReady();
      assert.ok(errorsOf(odd).length === 1 || raw.closed, messagesText(odd));
      assertClean(messagesText([...call, ...odd]), '', 'protocol oddities');
    } finally {
      raw.close();
    }
  });

  test('a prepared statement is re-checked at each execution: a user removed from his group loses access in an open session', async () => {
    const admin = (route: string, body: unknown): Promise<Response> =>
      fetch(`${s.url}${route}`, { method: 'PUT', headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await admin('/v1/users/frank', { groups: ['research'] })).status, 200);
    const raw = await RawPgClient.connect(s.pgPort, 'frank', s.token('frank'));
    const open = await connectPg(s, 'frank');
    try {
      raw.send(serialize.parse({ name: 'count_all', text: `SELECT count(*) FROM ${DS}` }), serialize.bind({ statement: 'count_all' }), serialize.execute({}), serialize.sync());
      assert.deepEqual(dataRows(await raw.untilReady()), [[String(truth.rows.length)]]);
      assert.equal((await admin('/v1/users/frank', { groups: [] })).status, 200);
      // A new connection and HTTP see the change at once.
      const fresh = await pgOnce(s, 'frank', `SELECT count(*) FROM ${DS}`);
      assert.equal(fresh.veilCode, 'DATASET_NOT_FOUND');
      // The open session must too: for its prepared statement …
      raw.send(serialize.bind({ statement: 'count_all' }), serialize.execute({}), serialize.sync());
      const again = await raw.untilReady();
      assert.deepEqual(dataRows(again), [], `frank's open session still read the dataset after losing his group (prepared statement): ${messagesText(again).slice(0, 300)}`);
      // … and for a new statement.
      const later = await pgQuery(open, `SELECT count(*) FROM ${DS}`);
      assert.equal(later.veilCode, 'DATASET_NOT_FOUND', `frank's open session still read the dataset after losing his group (new statement): ${later.text}`);
    } finally {
      raw.close();
      await open.end();
      await admin('/v1/users/frank', { groups: [] });
    }
  });
});

// =================================================================================================
// 5. COPY
// =================================================================================================

describe('5. COPY: only COPY (SELECT …) TO STDOUT through the pipeline; never files, programs or input', () => {
  const tag = randomBytes(6).toString('hex');
  const target = `/tmp/veil-pg-copy-${tag}`;
  const attempts: [string, string][] = [
    ['COPY FROM STDIN', `COPY ${DS} FROM STDIN /* copy-1 */`],
    ['COPY query TO file', `COPY (SELECT 1) TO '${target}-a' /* copy-2 */`],
    ['COPY query TO PROGRAM', `COPY (SELECT 1) TO PROGRAM 'touch ${target}-b' /* copy-3 */`],
    ['COPY table TO PROGRAM id', `COPY ${DS} TO PROGRAM 'id' /* copy-4 */`],
    ['COPY table TO STDOUT', `COPY ${DS} TO STDOUT /* copy-5 */`],
    ['COPY query TO file with DuckDB options', `COPY (SELECT * FROM ${DS}) TO '${target}-c' (FORMAT csv) /* copy-6 */`],
    ['COPY FROM file', `COPY ${DS} FROM '/etc/passwd' /* copy-7 */`],
    ['COPY TO STDOUT in binary', `COPY (SELECT 1) TO STDOUT (FORMAT binary) /* copy-8 */`],
    ['nested COPY to a file', `COPY (COPY (SELECT 1) TO '${target}-d' /* copy-9 */) TO STDOUT`],
    ['cursor over a COPY to a file', `DECLARE c CURSOR FOR COPY (SELECT 1) TO '${target}-e' /* copy-10 */`],
    ['COPY of an ATTACH', `COPY (ATTACH '${target}-f.db' AS pwn /* copy-11 */) TO STDOUT`],
    ['quoted STDOUT', `COPY (SELECT 1) TO "STDOUT" /* copy-12 */`],
  ];

  for (const user of ['bob', 'alice']) {
    test(`${user}: every other COPY is refused (0A000 or a pipeline refusal), no COPY IN starts and no file is written`, async () => {
      const raw = await RawPgClient.connect(s.pgPort, user, s.token(user));
      try {
        for (const [name, sql] of attempts) {
          const messages = await raw.simple(sql);
          const errors = errorsOf(messages);
          assert.equal(errors.length, 1, `${name}: ${messagesText(messages).slice(0, 300)}`);
          assert.ok(['0A000', '42501', '42601'].includes(errors[0]!.code), `${name}: ${errors[0]!.code} ${errors[0]!.message}`);
          assert.ok(!messages.some((m) => m.name === 'copyInResponse' || m.name === 'copyData'), `${name} started a copy`);
          assertClean(messagesText(messages), sql, name);
        }
        for (const suffix of ['-a', '-b', '-c', '-d', '-e', '-f.db']) assert.ok(!existsSync(`${target}${suffix}`), `${target}${suffix} was written`);
        // Data sent as if a COPY IN had started is refused; the session stays usable.
        raw.send(serialize.copyData(Buffer.from('P9999999,Mallory\n')), serialize.copyDone(), serialize.sync());
        const stray = await raw.untilReady();
        assert.equal(errorsOf(stray)[0]?.code, '0A000', messagesText(stray));
        assert.equal(dataRows(await raw.simple(`SELECT count(*) FROM ${DS}`)).length, 1);
      } finally {
        raw.close();
      }
    });
  }

  test('COPY (SELECT …) TO STDOUT goes through the pipeline: bob refused a hidden column, alice gets masked values only', async () => {
    const bob = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    const alice = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'));
    try {
      const refused = await bob.simple(`COPY (SELECT ssn FROM ${DS}) TO STDOUT`);
      assert.equal(errorsOf(refused)[0]?.detail, 'Veil error code COLUMN_ACCESS_DENIED');
      assert.ok(!refused.some((m) => m.name === 'copyData'));
      const copied = await alice.simple(`COPY (SELECT * FROM ${DS}) TO STDOUT (FORMAT csv, HEADER)`);
      assert.deepEqual(errorsOf(copied), []);
      const text = copied.filter((m) => m.name === 'copyData').map((m) => (m['chunk'] as Buffer).toString('utf8')).join('');
      assert.equal(text.trimEnd().split('\n').length, 1 + truth.usCount);
      assertClean(text, '', 'alice COPY TO STDOUT');
      for (const country of ['DE', 'FR', 'JP', 'BR', 'IN']) assert.ok(!text.includes(`,${country},`), `COPY shows ${country}`);
    } finally {
      bob.close();
      alice.close();
    }
  });

  test('every refused COPY is audited with door pg', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'bob', s.token('bob'));
    const cases = attempts.map(([name, sql]) => {
      // The marker is the statement's trailing comment (the file targets may contain "copy-" too).
      const marker = /\/\* (copy-\d+) \*\//.exec(sql)![1]!.replace('copy-', 'copy-audit-');
      return [name, sql.replace(/\/\* copy-(\d+) \*\//, '/* copy-audit-$1 */'), `${marker} `] as const;
    });
    const missing = await unauditedRefusals('bob', cases, async (sql) => void (await raw.simple(sql)), async () => raw.close());
    assert.deepEqual(missing, [], `refused COPY statements without an audit record (door pg): ${missing.join('; ')}`);
  });
});

// =================================================================================================
// 6. Engine settings and statements
// =================================================================================================

describe('6. engine settings cannot be changed through the wire', () => {
  const attempts: [string, string][] = [
    ['SET enable_external_access', 'SET enable_external_access = true /* set-1 */'],
    ['SET threads', 'SET threads = 1 /* set-2 */'],
    ['SET memory_limit', "SET memory_limit = '1GB' /* set-3 */"],
    ['SET GLOBAL', 'SET GLOBAL enable_external_access = true /* set-4 */'],
    ['SET lock_configuration', 'SET lock_configuration = false /* set-5 */'],
    ['SET allowed_directories', "SET allowed_directories = ['/'] /* set-6 */"],
    ['RESET lock_configuration', 'RESET lock_configuration /* set-7 */'],
    ['SET VARIABLE', "SET VARIABLE region = 'DE' /* set-8 */"],
    ['SET SESSION AUTHORIZATION', 'SET SESSION AUTHORIZATION erin /* set-9 */'],
    ['SET ROLE', 'SET ROLE erin /* set-10 */'],
    ['SET session_authorization', "SET session_authorization = 'erin' /* set-11 */"],
    ['PRAGMA', 'PRAGMA enable_external_access /* set-12 */'],
    ['PRAGMA threads', 'PRAGMA threads = 1 /* set-13 */'],
    ['ATTACH', `ATTACH '/tmp/veil-pg-attach-${randomBytes(4).toString('hex')}.db' AS pwn /* set-14 */`],
    ['INSTALL', 'INSTALL httpfs /* set-15 */'],
    ['LOAD', 'LOAD httpfs /* set-16 */'],
    ['LOAD x', 'LOAD x /* set-17 */'],
    ['set_config()', "SELECT set_config('threads', '1', false) /* set-18 */"],
    ['CALL', "CALL enable_logging() /* set-19 */"],
    ['PREPARE', 'PREPARE p AS SELECT 1 /* set-20 */'],
    ['DETACH', 'DETACH memory /* set-21 */'],
    ['USE', 'USE veil_internal /* set-22 */'],
  ];

  test('each is refused; then a normal query still works and read_csv is still refused', async () => {
    const client = await connectPg(s, 'alice');
    try {
      for (const [name, sql] of attempts) {
        const answer = await pgQuery(client, sql);
        assert.equal(answer.ok, false, `${name} was accepted`);
        assert.ok(answer.code !== undefined && answer.code !== 'XX000', `${name}: ${answer.text}`);
        assertClean(answer, sql, name);
      }
      assert.equal(Number((await pgQuery(client, `SELECT count(*) FROM ${DS}`)).rows[0]?.[0]), truth.usCount);
      assert.equal(Number((await pgQuery(client, `SELECT count(*) FROM ${DS} WHERE country <> 'US'`)).rows[0]?.[0]), 0);
      const file = await pgQuery(client, "SELECT * FROM read_csv('/etc/passwd')");
      assert.equal(file.code, '42501');
      assert.ok(!/root:/.test(file.text));
      const show = await pgQuery(client, 'SHOW threads');
      assert.equal(show.ok, false, `SHOW threads answered: ${show.text}`);
      // Whoever the session claimed to become, it is alice (the data checks above prove it; SHOW must not say erin).
      assert.notDeepEqual((await pgQuery(client, 'SHOW session_authorization')).rows, [['erin']]);
    } finally {
      await client.end();
    }
  });

  test('search_path cannot reach internal schemas', async () => {
    const client = await connectPg(s, 'alice');
    try {
      for (const path_ of ['veil_internal', 'veil_internal, drug_xyz', 'memory.veil_internal', 'drug_xyz']) {
        await pgQuery(client, `SET search_path = ${path_}`);
        for (const sql of ['SELECT * FROM src__drug_xyz__trial_july2020', 'SELECT * FROM audit_records', `SELECT count(*) FROM trial_july2020 WHERE country <> 'US'`]) {
          const answer = await pgQuery(client, sql);
          assertClean(answer, sql, `search_path ${path_}`);
          if (answer.ok) assert.deepEqual(answer.rows, [['0']], `${sql} with search_path ${path_}: ${answer.text}`);
          else assert.ok(['42P01', '42501', '0A000'].includes(answer.code ?? ''), `${sql}: ${answer.text}`);
        }
      }
    } finally {
      await client.end();
    }
  });

  test('each refused attempt is audited with door pg', async () => {
    const client = await connectPg(s, 'bob');
    const cases = attempts.map(([name, sql]) => {
      const marker = /set-\d+/.exec(sql)![0].replace('set-', 'set-audit-');
      return [name, sql.replace('/* set-', '/* set-audit-'), `${marker} `] as const;
    });
    const missing = await unauditedRefusals('bob', cases, async (sql) => void (await pgQuery(client, sql)), () => client.end());
    assert.deepEqual(missing, [], `refused statements without an audit record (door pg): ${missing.join('; ')}`);
  });
});

// =================================================================================================
// 7. The catalog shows only what the caller may see
// =================================================================================================

describe('7. catalog queries reveal no invisible dataset and no hidden column', () => {
  const CATALOG_QUERIES = [
    'SELECT * FROM pg_catalog.pg_class',
    'SELECT * FROM pg_catalog.pg_attribute',
    'SELECT * FROM information_schema.columns',
    'SELECT * FROM information_schema.tables',
    'SELECT * FROM information_schema.schemata',
    'SELECT * FROM information_schema.views',
    'SELECT * FROM pg_catalog.pg_description',
    'SELECT * FROM pg_catalog.pg_tables',
    'SELECT * FROM pg_catalog.pg_views',
    'SELECT * FROM pg_catalog.pg_namespace',
    'SELECT * FROM pg_catalog.pg_stat_user_tables',
    'SELECT * FROM pg_catalog.pg_type',
    'SELECT * FROM pg_catalog.pg_proc',
    'SELECT * FROM pg_catalog.pg_settings',
    'SELECT * FROM pg_catalog.pg_roles',
    'SELECT * FROM pg_catalog.pg_user',
    'SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum), obj_description(c.oid) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid',
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')",
  ];

  /** What HTTP lists for the user (with the system datasets) and the columns describe shows as visible. */
  async function httpView(user: string): Promise<{ datasets: string[]; visibleColumns: Map<string, string[]>; hiddenColumns: string[] }> {
    const list = (await (await s.get(user, '/v1/datasets?include_system=true')).json()) as { datasets: { name: string }[] };
    const visibleColumns = new Map<string, string[]>();
    const hiddenColumns: string[] = [];
    for (const { name } of list.datasets) {
      const describe = (await (await s.get(user, `/v1/datasets/${name}`)).json()) as { columns?: { name: string; access: string }[] };
      visibleColumns.set(name, (describe.columns ?? []).filter((c) => c.access !== 'hidden').map((c) => c.name));
      hiddenColumns.push(...(describe.columns ?? []).filter((c) => c.access === 'hidden').map((c) => c.name));
    }
    return { datasets: list.datasets.map((d) => d.name), visibleColumns, hiddenColumns };
  }

  test('dave: no catalog query names drug_xyz or any of its datasets or columns; the listing equals HTTP\'s', async () => {
    const view = await httpView('dave');
    assert.ok(!view.datasets.some((d) => d.startsWith('drug_xyz.')));
    const client = await connectPg(s, 'dave');
    try {
      for (const sql of CATALOG_QUERIES) {
        const answer = await pgQuery(client, sql);
        assert.ok(answer.ok, `${sql}: ${answer.text}`);
        assert.ok(!/drug_xyz|trial_july2020|adverse_events|participant_id|reporter_email|full_name|"ssn"|Phase III|Adverse events reported/.test(answer.text), `dave's ${sql} reveals the study: ${answer.text.slice(0, 300)}`);
        assertClean(answer, sql, `dave ${sql}`);
      }
      const tables = await pgQuery(client, "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
      assert.deepEqual(tables.rows.map((r) => r[0]), [...view.datasets].sort());
    } finally {
      await client.end();
    }
  });

  test('bob: no catalog query names a column hidden for him; the columns equal HTTP describe\'s visible ones', async () => {
    const view = await httpView('bob');
    assert.ok(view.hiddenColumns.includes('ssn'));
    const client = await connectPg(s, 'bob');
    try {
      for (const sql of CATALOG_QUERIES) {
        const answer = await pgQuery(client, sql);
        assert.ok(answer.ok, `${sql}: ${answer.text}`);
        const cells = new Set(answer.rows.flat());
        for (const hidden of HIDDEN_FOR_BOB) assert.ok(!cells.has(hidden), `bob's ${sql} names the hidden column ${hidden}`);
        assert.ok(!answer.text.includes(HIDDEN_DESCRIPTION), `bob's ${sql} shows the description of a hidden column`);
        assertClean(answer, sql, `bob ${sql}`);
      }
      for (const [dataset, visible] of view.visibleColumns) {
        const [schema, table] = dataset.split('.');
        const columns = await pgQuery(client, `SELECT column_name FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = '${table}' ORDER BY ordinal_position`);
        assert.deepEqual(columns.rows.map((r) => r[0]), visible, `information_schema.columns of ${dataset}`);
        const attributes = await pgQuery(client, `SELECT attname, attnum FROM pg_catalog.pg_attribute WHERE attrelid = '${dataset}'::regclass AND attnum > 0 ORDER BY attnum`);
        assert.deepEqual(attributes.rows.map((r) => r[0]), visible, `pg_attribute of ${dataset}`);
        // Numbered 1..n: no gap tells where a hidden column sits.
        assert.deepEqual(attributes.rows.map((r) => Number(r[1])), visible.map((_, i) => i + 1), `attnum of ${dataset} has gaps`);
      }
    } finally {
      await client.end();
    }
  });

  test('alice: table statistics do not tell how many rows the row filter hides', async () => {
    const client = await connectPg(s, 'alice');
    try {
      const stats = await pgQuery(client, "SELECT c.reltuples, c.relpages, s.n_live_tup FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'trial_july2020'");
      assert.ok(stats.ok, stats.text);
      for (const v of stats.rows.flat()) assert.notEqual(Number(v), truth.rows.length, `a statistic equals the unfiltered row count: ${stats.text}`);
    } finally {
      await client.end();
    }
  });

  const NAME_PROBES = (n: string): string[] => [
    `SELECT '${n}'::regclass`,
    `SELECT '${n}'::regclass::oid FROM pg_catalog.pg_class LIMIT 1`,
    `SELECT has_table_privilege('${n}', 'SELECT')`,
    `SELECT to_regclass('${n}')`,
    `SELECT to_regclass('${n}') FROM pg_catalog.pg_class LIMIT 1`,
    `SELECT format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = '${n}'::regclass`,
    `SELECT col_description('${n}'::regclass, 1)`,
    `SELECT obj_description('${n}'::regclass, 'pg_class')`,
    `SELECT count(*) FROM information_schema.columns WHERE table_schema || '.' || table_name = '${n.toLowerCase()}'`,
    `SELECT has_column_privilege('${n}', 'ssn', 'SELECT')`,
  ];

  for (const [real, missing] of [[DS, 'drug_xyz.trial_july2099'], [AE, 'drug_xyz.adverse_eventz']] as const) {
    test(`dave: every name-resolving catalog function answers for ${real} exactly as for ${missing}`, async () => {
      const client = await connectPg(s, 'dave');
      try {
        const realProbes = NAME_PROBES(real);
        const missingProbes = NAME_PROBES(missing);
        for (let i = 0; i < realProbes.length; i++) {
          const a = await pgQuery(client, realProbes[i]!);
          const b = await pgQuery(client, missingProbes[i]!);
          const norm = (x: PgAnswer, name: string): string => x.text.split(name).join('<NAME>');
          assert.equal(norm(a, real), norm(b, missing), `${realProbes[i]}: the invisible dataset answers differently from a missing one`);
          assert.ok(!a.ok || !/^t$|^\d{3,}$/.test(String(a.rows[0]?.[0] ?? '')), `${realProbes[i]} resolves the invisible dataset: ${a.text}`);
        }
      } finally {
        await client.end();
      }
    });
  }

  test('bob: a hidden column answers the privilege and description functions exactly like a missing one', async () => {
    const client = await connectPg(s, 'bob');
    try {
      for (const [hidden, missing] of [['ssn', 'nosuch'], ['email', 'emaiz'], ['participant_id', 'participant_ix']] as const) {
        const a = await pgQuery(client, `SELECT has_column_privilege('${DS}', '${hidden}', 'SELECT')`);
        const b = await pgQuery(client, `SELECT has_column_privilege('${DS}', '${missing}', 'SELECT')`);
        assert.equal(a.text.split(hidden).join('<C>'), b.text.split(missing).join('<C>'), `has_column_privilege tells ${hidden} from a missing column`);
      }
      const descriptions = await pgQuery(client, `SELECT n, col_description('${DS}'::regclass, n) FROM (SELECT unnest(range(1, 20)) AS n) ORDER BY n`);
      if (descriptions.ok) assert.ok(!descriptions.text.includes(HIDDEN_DESCRIPTION), 'col_description shows a hidden column\'s description');
    } finally {
      await client.end();
    }
  });

  test('has_table_privilege agrees with the policy (correctness, not a leak): carol may describe the trial, not SELECT it', async () => {
    const carol = await pgOnce(s, 'carol', `SELECT has_table_privilege('${DS}', 'SELECT')`);
    assert.deepEqual(carol.rows, [['f']], `has_table_privilege('${DS}', 'SELECT') for carol, whose SELECT is refused ACCESS_DENIED: ${carol.text}`);
    const bob = await pgOnce(s, 'bob', `SELECT has_table_privilege('${DS}', 'SELECT')`);
    assert.deepEqual(bob.rows, [['t']]);
  });

  test('has_column_privilege agrees with the policy (correctness, not a leak): bob may not SELECT a hidden column', async () => {
    const bob = await pgOnce(s, 'bob', `SELECT has_column_privilege('${DS}', 'ssn', 'SELECT')`);
    assert.ok(!bob.ok || bob.rows[0]?.[0] === 'f', `has_column_privilege('${DS}', 'ssn', 'SELECT') for bob, for whom ssn is hidden (a SELECT of it is refused COLUMN_ACCESS_DENIED): ${bob.text}`);
  });

  test('a catalog query combined with a dataset is refused (mixed), in every shape', async () => {
    const client = await connectPg(s, 'bob');
    try {
      for (const sql of [
        `SELECT c.relname, t.arm FROM pg_catalog.pg_class c JOIN ${DS} t ON true`,
        `SELECT * FROM ${DS} WHERE arm IN (SELECT relname FROM pg_catalog.pg_class)`,
        `SELECT (SELECT count(*) FROM pg_class), count(*) FROM ${DS}`,
        `WITH pg_class AS (SELECT ssn FROM ${DS}) SELECT * FROM pg_class`,
        `SELECT * FROM information_schema.columns c, LATERAL (SELECT arm FROM ${DS} LIMIT 1) x`,
        `SELECT relname FROM pg_catalog.pg_class UNION ALL SELECT arm FROM ${DS}`,
        `SELECT * FROM pg_catalog.pg_class WHERE EXISTS (SELECT 1 FROM ${DS} WHERE outcome_score > 50)`,
      ]) {
        const answer = await pgQuery(client, sql);
        assert.equal(answer.ok, false, `${sql} was answered: ${answer.text.slice(0, 300)}`);
        assert.ok(['0A000', '42501'].includes(answer.code ?? ''), `${sql}: ${answer.text}`);
        assertClean(answer, sql, sql);
      }
    } finally {
      await client.end();
    }
  });

  test('a CTE named like a catalog relation is no catalog: the statement is bob\'s data query, answered as over HTTP', async () => {
    for (const sql of [`WITH pg_x AS (SELECT arm FROM ${DS}) SELECT * FROM pg_x`, `WITH pg_class AS (SELECT arm, zip FROM ${DS}) SELECT * FROM pg_class`, `WITH pg_class AS (SELECT ssn FROM ${DS}) SELECT * FROM pg_class`]) {
      const wire = await pgOnce(s, 'bob', sql);
      const http = await s.query('bob', sql, 100_000);
      assert.equal(differenceFromHttp(wire, http), null, sql);
      assertClean(wire, sql, sql);
    }
  });

  test('dave: every statement form answers for the invisible dataset exactly as for a missing one (pg)', async () => {
    const forms = (n: string): string[] => [
      `SELECT * FROM ${n}`,
      `SELECT ssn, nosuch FROM ${n} WHERE email = 'x'`,
      `WITH x AS (SELECT * FROM ${n}) SELECT 1`,
      `DESCRIBE ${n}`,
      `SUMMARIZE ${n}`,
      `SELECT * FROM ${n} t JOIN ${AE} a USING (participant_id)`,
      `COPY (SELECT * FROM ${n}) TO STDOUT`,
      `DECLARE c CURSOR FOR SELECT * FROM ${n}`,
    ];
    for (const [real, missing] of [[DS, 'drug_xyz.trial_july2099'], [DS.toUpperCase(), 'DRUG_XYZ.TRIAL_JULY2099'], [DS, 'nope_xyz.trial_july2020']] as const) {
      const a = forms(real);
      const b = forms(missing);
      for (let i = 0; i < a.length; i++) {
        for (const extended of [false, true]) {
          if (extended && /^(COPY|DECLARE)/.test(a[i]!)) continue;
          const x = await pgOnce(s, 'dave', a[i]!, undefined, { extended });
          const y = await pgOnce(s, 'dave', b[i]!, undefined, { extended });
          assert.equal(x.ok, false, `dave: ${a[i]} answered`);
          const norm = (t: string, n: string): string => t.split(n).join('<N>').split(n.toLowerCase()).join('<N>');
          assert.equal(norm(x.text, real), norm(y.text, missing), `dave: ${a[i]} vs ${b[i]} (${extended ? 'extended' : 'simple'})`);
        }
      }
    }
  });

  test('parity with HTTP (not a leak): DESCRIBE and SUMMARIZE of a dataset answer over pg as over HTTP', async () => {
    for (const [user, sql] of [['alice', `DESCRIBE ${DS}`], ['alice', `SUMMARIZE ${DS}`], ['bob', `DESCRIBE ${DS}`], ['alice', `SUMMARIZE SELECT * FROM ${DS}`]] as const) {
      const wire = await pgOnce(s, user, sql);
      const http = await s.query(user, sql, 100_000);
      assertClean(wire, sql, sql);
      assert.equal(differenceFromHttp(wire, http), null, `${user}: ${sql}`);
    }
  });

  test('a refused mixed catalog/data statement is audited with door pg', async () => {
    const mark = await auditMark(s.home);
    const sql = `SELECT c.relname, t.arm FROM pg_catalog.pg_class c JOIN ${DS} t ON true /* mixed-audit */`;
    const answer = await pgOnce(s, 'bob', sql);
    assert.equal(answer.ok, false);
    await assertRefusalAudited(mark, 'bob', 'mixed-audit', 'mixed catalog/data statement');
  });

  test('catalog queries are audited with door pg (allowed ones with their row count)', async () => {
    const mark = await auditMark(s.home);
    const sql = 'SELECT relname FROM pg_catalog.pg_class /* catalog-audit */';
    const answer = await pgOnce(s, 'dave', sql);
    assert.ok(answer.ok);
    const records = await pgRecords(mark, 'dave', (t) => t.includes('catalog-audit'));
    assert.equal(records.length, 1);
    assert.equal(records[0]?.decision, 'allowed');
    assert.equal(records[0]?.rows_returned, answer.rows.length);
  });
});

// =================================================================================================
// 8. The catalog sandbox cannot be escaped
// =================================================================================================

describe('8. catalog sandbox escapes: refused or harmless', () => {
  const postgresSettings = (): VeilSettings => new VeilHome(s.home).loadSettings();
  const probes = (): [string, string][] => [
    ['read_csv', "SELECT * FROM read_csv('/etc/passwd')"],
    ['read_csv beside pg_class', "SELECT c.relname, f.* FROM pg_catalog.pg_class c, read_csv('/etc/passwd') f"],
    ['read_text beside pg_class', "SELECT * FROM pg_catalog.pg_class c, read_text('/etc/passwd') f"],
    ['read_blob beside information_schema', "SELECT * FROM information_schema.tables t, read_blob('/etc/passwd') f"],
    ['read_csv of the trial beside pg_class', `SELECT * FROM pg_catalog.pg_class c, read_csv('${s.home}/storage/clinical-trials/drug-xyz/trial-july2020/data.csv') f`],
    ['replacement scan beside pg_class', "SELECT * FROM pg_catalog.pg_class c, '/etc/passwd' f"],
    ['duckdb_settings()', 'SELECT * FROM duckdb_settings()'],
    ['duckdb_settings() beside pg_class', 'SELECT * FROM pg_catalog.pg_class c, duckdb_settings() d'],
    ['duckdb_databases()', 'SELECT * FROM duckdb_databases()'],
    ['duckdb_databases() beside pg_class', 'SELECT * FROM pg_catalog.pg_class c, duckdb_databases() d'],
    ['duckdb_tables() beside pg_class', 'SELECT * FROM pg_catalog.pg_class c, duckdb_tables() d'],
    ['glob beside pg_class', "SELECT c.relname, g.* FROM pg_catalog.pg_class c, glob('/*') g"],
    ['glob scalar in a catalog query', "SELECT relname, (SELECT count(*) FROM glob('/*')) FROM pg_catalog.pg_class"],
    ['sqlite_scan of the audit store beside pg_class', `SELECT * FROM pg_catalog.pg_class c, sqlite_scan('${s.home}/audit.db', 'audit_log') a`],
    // On the PostgreSQL backend the audit trail is a schema of that server.
    ...(testBackend() === 'postgres' ? [['postgres_scan of the audit store beside pg_class', `SELECT * FROM pg_catalog.pg_class c, postgres_scan('${postgresSettings().postgresUrl}', '${postgresSettings().postgresSchema}', 'audit_log') a`] as [string, string]] : []),
    ['current_setting(home_directory)', "SELECT current_setting('home_directory')"],
    ['current_setting(temp_directory)', "SELECT current_setting('temp_directory')"],
    ['current_setting(allowed_directories)', "SELECT current_setting('allowed_directories')"],
    ['current_setting(memory_limit) in a catalog query', "SELECT current_setting('memory_limit') FROM pg_catalog.pg_class LIMIT 1"],
    ['getenv in a catalog query', "SELECT getenv('HOME') FROM pg_catalog.pg_class LIMIT 1"],
    ['pg_read_file', "SELECT pg_read_file('/etc/passwd')"],
    ['pg_ls_dir', "SELECT pg_ls_dir('/')"],
    ['pg_settings paths', "SELECT name, setting FROM pg_catalog.pg_settings WHERE setting LIKE '%/%'"],
    ['pg_proc of Veil macros', "SELECT proname, prosrc, prosqlbody FROM pg_catalog.pg_proc WHERE proname LIKE 'veil%'"],
    ['pg_get_viewdef of the audit log', "SELECT pg_get_viewdef('veil_system.audit_log'::regclass)"],
    ['views definitions', 'SELECT definition FROM pg_catalog.pg_views WHERE definition IS NOT NULL'],
    ['query() in a catalog query', "SELECT * FROM pg_catalog.pg_class c, query('SELECT 1') q"],
    ['ATTACH after a catalog query', "SELECT 1 FROM pg_catalog.pg_class LIMIT 1; ATTACH '/tmp/veil-pg-sandbox.db' AS x"],
    ['SET in a catalog-looking statement', 'SELECT * FROM pg_catalog.pg_class; SET enable_external_access = true'],
    ['enable_external_access through set_config', "SELECT set_config('enable_external_access', 'true', false) FROM pg_catalog.pg_class LIMIT 1"],
    ['a CTE shadowing pg_settings with engine settings', "WITH pg_settings AS (SELECT * FROM duckdb_settings()) SELECT * FROM pg_settings"],
  ];

  for (const user of ['alice', 'dave']) {
    test(`${user}: no file content, no server path, no engine setting`, async () => {
      const client = await connectPg(s, user);
      try {
        for (const [name, sql] of probes()) {
          const answer = await pgQuery(client, sql);
          assertClean(answer, sql, `${user} ${name}`);
          assert.ok(!/root:x?:0:0|daemon:|nologin/.test(answer.text), `${name} read /etc/passwd: ${answer.text.slice(0, 300)}`);
          if (!sql.includes(s.home)) assert.ok(!answer.text.includes(s.home), `${name} shows the server's home`);
          assert.ok(!/\/tmp\/veil-test-|\/home\/|\/root\b/.test(answer.text), `${name} shows a server path: ${answer.text.slice(0, 300)}`);
          assert.ok(!/allowed_directories|temp_directory|enable_external_access|lock_configuration/.test(answer.text.replace(sql, '')) || !answer.ok, `${name} shows engine settings: ${answer.text.slice(0, 300)}`);
          if (!answer.ok) assert.ok(answer.code !== 'XX000', `${name}: internal error`);
        }
        assert.ok(!existsSync('/tmp/veil-pg-sandbox.db'), 'ATTACH created a file');
        // Still a working, locked session.
        assert.equal((await pgQuery(client, "SELECT * FROM read_csv('/etc/passwd')")).code, '42501');
      } finally {
        await client.end();
      }
    });
  }

  test('catalog sandbox refusals are audited with door pg', async () => {
    const cases = [
      ['read_csv beside pg_class', "SELECT * FROM pg_catalog.pg_class c, read_csv('/etc/passwd') f /* sandbox-audit-1 */", 'sandbox-audit-1'],
      ['duckdb_settings beside pg_class', 'SELECT * FROM pg_catalog.pg_class c, duckdb_settings() d /* sandbox-audit-2 */', 'sandbox-audit-2'],
      ['glob beside pg_class', "SELECT * FROM pg_catalog.pg_class c, glob('/*') g /* sandbox-audit-3 */", 'sandbox-audit-3'],
      ['current_setting(home_directory)', "SELECT current_setting('home_directory') /* sandbox-audit-4 */", 'sandbox-audit-4'],
      ['mixed catalog and dataset', `SELECT c.relname, t.arm FROM pg_catalog.pg_class c JOIN ${DS} t ON true /* sandbox-audit-5 */`, 'sandbox-audit-5'],
    ] as const;
    const client = await connectPg(s, 'alice');
    const missing = await unauditedRefusals(
      'alice',
      cases,
      async (sql) => {
        const answer = await pgQuery(client, sql);
        if (!sql.includes('sentinel')) assert.equal(answer.ok, false, sql);
      },
      () => client.end(),
    );
    assert.deepEqual(missing, [], `refused catalog statements without an audit record (door pg): ${missing.join('; ')}`);
  });
});

// =================================================================================================
// 9. Authentication
// =================================================================================================

describe('9. authentication: the token decides who the session is', () => {
  async function refusedConnection(user: string, password: string): Promise<{ code: string | undefined; message: string }> {
    try {
      const client = await connectPg(s, user, { password });
      await client.end();
      return { code: undefined, message: 'connected' };
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { code, message };
    }
  }

  test('a startup user that differs from the token\'s user is refused (28P01), without echoing the token', async () => {
    const mark = await auditMark(s.home);
    const erinToken = s.token('erin');
    for (const [user, password] of [['alice', erinToken], ['erin', s.token('alice')], ['Erin', erinToken], ['erin ', erinToken]] as const) {
      const result = await refusedConnection(user, password);
      assert.equal(result.code, '28P01', `${JSON.stringify(user)} with another user's token: ${result.message}`);
      for (const part of password.split('.')) if (part.length >= 8) assert.ok(!result.message.includes(part), 'the error echoes the token');
    }
    const records = await awaitAudit(s.home, mark, (r) => r.door === 'pg' && r.decision === 'denied');
    assert.ok(records.length >= 4, `refused connections are audited with door pg: ${JSON.stringify(records)}`);
    for (const r of records) {
      assert.notEqual(r.user, 'erin', 'a refused connection is recorded as the token\'s user having connected');
      assert.ok(!JSON.stringify(r).includes(erinToken.split('.')[2]!), 'the token is in the audit record');
    }
  });

  test('garbage, expired, forged and unknown-user tokens are refused', async () => {
    const cases: [string, string, string][] = [
      ['garbage', 'alice', 'not-a-token'],
      ['empty-looking', 'alice', ' '],
      ['expired', 'alice', s.runtime.issuer.issue('alice', 1, Date.now() - 3_600_000)],
      ['another signature', 'alice', `${s.token('alice').split('.').slice(0, 2).join('.')}.${randomBytes(32).toString('base64url')}`],
      ['unknown user', 'mallory', s.token('mallory')],
    ];
    for (const [name, user, password] of cases) {
      const result = await refusedConnection(user, password);
      assert.ok(result.code === '28P01' || result.code === '28000', `${name}: ${result.code} ${result.message}`);
      if (password.length > 10) assert.ok(!result.message.includes(password), `${name}: the error echoes the credential`);
    }
  });

  test('startup parameters cannot change who the session is', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'), {
      options: '-c session_authorization=erin -c role=erin',
      session_authorization: 'erin',
      role: 'erin',
      is_superuser: 'on',
      search_path: 'veil_internal',
    });
    try {
      assert.notDeepEqual(dataRows(await raw.simple('SHOW session_authorization')), [['erin']]);
      assert.deepEqual(dataRows(await raw.simple(`SELECT count(*) FROM ${DS} WHERE country <> 'US'`)), [['0']]);
      const ssn = dataRows(await raw.simple(`SELECT ssn FROM ${DS} LIMIT 3`));
      for (const [v] of ssn) assert.match(String(v), /^XXX-XX-/);
    } finally {
      raw.close();
    }
  });

  test('control characters in application_name reach the audit record verbatim, as one record', async () => {
    const mark = await auditMark(s.home);
    const application = 'evil\r\n2020-01-01 user=erin decision=allowed\t"x"';
    const client = await connectPg(s, 'alice', { applicationName: application });
    try {
      await pgQuery(client, 'SELECT 1 AS app_probe');
    } finally {
      await client.end();
    }
    const records = await pgRecords(mark, 'alice', (t) => t.includes('app_probe'));
    assert.equal(records.length, 1);
    // PostgreSQL truncates application_name to 63 bytes; what is kept is kept verbatim.
    assert.ok(application.startsWith(records[0]!.client_application ?? '\u0000'), JSON.stringify(records[0]));
    assert.equal((await auditSince(s.home, mark)).filter((r) => r.user === 'erin').length, 0);
  });

  test('a revoked API token is refused at connect, and an open session of that token stops reading', async () => {
    const put = await fetch(`${s.url}/v1/users/etl-bot`, { method: 'PUT', headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ groups: ['research'] }) });
    assert.equal(put.status, 200);
    const created = await s.post('erin', '/v1/tokens', { user: 'etl-bot', label: 'pg revocation' });
    assert.equal(created.status, 201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    const open = await connectPg(s, 'etl-bot', { password: token });
    try {
      assert.deepEqual((await pgQuery(open, `SELECT count(*) FROM ${DS}`)).rows, [[String(truth.rows.length)]]);
      const revoked = await fetch(`${s.url}/v1/tokens/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('erin')}` } });
      assert.equal(revoked.status, 200);
      const again = await refusedConnection('etl-bot', token);
      assert.equal(again.code, '28P01', `a revoked API token connected: ${again.message}`);
      assert.ok(!again.message.includes(token.split('_').slice(3).join('_')), 'the error echoes the token secret');
      // HTTP refuses the revoked token on the very next request; the open pg session must too.
      const after = await pgQuery(open, `SELECT count(*) FROM ${DS}`);
      assert.equal(after.ok, false, `the open session of a revoked API token still reads data: ${after.text}`);
    } finally {
      await open.end().catch(() => undefined);
    }
  });
});

// =================================================================================================
// 10. Cancel and statement timeout
// =================================================================================================

describe('10. CancelRequest: only the right key cancels, and only its own session', () => {
  let t: Server;
  const HEAVY = `SELECT count(*) FROM ${DS} a, ${DS} b, ${DS} c WHERE a.dose_mg + b.dose_mg + c.dose_mg < 0`;

  before(async () => {
    t = await startTestServer({ rows: 2000, prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'statement_timeout_ms: 4000\n') });
  });
  after(async () => {
    await t.close();
  });

  /** Runs the heavy query on a session, sending a CancelRequest every interval until it ends (bounded). */
  async function runWhileCancelling(client: pg.Client, cancel: () => Promise<void>, marker: string): Promise<PgAnswer> {
    let settled = false;
    const pending = pgQuery(client, `${HEAVY} /* ${marker} */`).then((answer) => {
      settled = true;
      return answer;
    });
    for (let i = 0; i < 400 && !settled; i++) {
      await cancel();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return pending;
  }

  const key = (client: pg.Client): { pid: number; secret: number } => {
    const c = client as unknown as { processID: number; secretKey: number };
    return { pid: c.processID, secret: c.secretKey };
  };

  test('a wrong secret key, or another session\'s key, cancels nothing: the query ends by the statement timeout', async () => {
    const bob = await connectPg(t, 'bob');
    const alice = await connectPg(t, 'alice');
    try {
      const b = key(bob);
      const a = key(alice);
      let flip = 0;
      const answer = await runWhileCancelling(
        bob,
        () => (flip++ % 2 === 0 ? sendCancel(t.pgPort, b.pid, (b.secret ^ 0x5a5a5a5) || 1) : sendCancel(t.pgPort, b.pid, a.secret)),
        'wrong-key',
      );
      assert.equal(answer.code, '57014', answer.text);
      assert.equal(answer.veilCode, 'QUERY_TIMEOUT', `the query was cancelled by a CancelRequest with a wrong key: ${answer.text}`);
      assert.deepEqual((await pgQuery(bob, 'SELECT 1 AS still')).rows, [['1']]);
    } finally {
      await bob.end();
      await alice.end();
    }
  });

  test('the right key cancels its own session\'s query (57014, user request), not a query of another session', async () => {
    const bob = await connectPg(t, 'bob');
    const alice = await connectPg(t, 'alice');
    try {
      const b = key(bob);
      const aliceRun = pgQuery(alice, `${HEAVY} /* other-session */`);
      const answer = await runWhileCancelling(bob, () => sendCancel(t.pgPort, b.pid, b.secret), 'right-key');
      assert.equal(answer.code, '57014', answer.text);
      assert.match(answer.message, /canceling statement due to user request/);
      assert.ok(answer.veilCode === undefined || answer.veilCode === 'QUERY_CANCELLED', `ended by ${answer.veilCode}, not by the cancel`);
      const other = await aliceRun;
      assert.equal(other.veilCode, 'QUERY_TIMEOUT', `alice's query was not meant to be cancelled: ${other.text}`);
      assert.deepEqual((await pgQuery(bob, 'SELECT 1 AS still')).rows, [['1']]);
    } finally {
      await bob.end();
      await alice.end();
    }
  });

  test('cancelled and timed-out queries are audited with door pg, not as allowed', async () => {
    for (const m of ['wrong-key', 'right-key', 'other-session']) await awaitAudit(t.home, 0, (r) => r.door === 'pg' && (r.statement ?? '').includes(m));
    const records = await auditSince(t.home, 0);
    const by = (m: string): AuditRecord | undefined => records.find((r) => r.door === 'pg' && (r.statement ?? '').includes(m));
    for (const m of ['wrong-key', 'right-key', 'other-session']) {
      assert.ok(by(m), `no pg record of the ${m} query`);
      assert.notEqual(by(m)?.decision, 'allowed', `${m} recorded as allowed: ${JSON.stringify(by(m))}`);
    }
    assert.equal(by('wrong-key')?.error_code, 'QUERY_TIMEOUT');
  });

  test('the cancel server had no internal errors', () => {
    assert.deepEqual(t.internalErrors.map(String), []);
  });
});

// =================================================================================================
// 11. At a realistic size
// =================================================================================================

describe('11. 200,000 rows: streamed in batches, nothing hidden appears, masks hold, the barrier holds', () => {
  let big: Server;
  let bigTruth: GroundTruth;

  before(async () => {
    big = await startTestServer({ rows: 200_000 });
    bigTruth = new GroundTruth(big.home);
  });
  after(async () => {
    await big.close();
  });

  test('bob\'s full scan through pg-cursor (10,000 a batch): no hidden column, HTTP\'s count, no raw value', async () => {
    const count = await big.rows('bob', `SELECT count(*) FROM ${DS}`);
    assert.equal(Number(count[0]?.[0]), 200_000);
    // 1,000 raw rows spread over the file: none of their protected values may appear in bob's scan.
    const step = Math.floor(bigTruth.rows.length / 1000);
    const sample = Array.from({ length: 1000 }, (_, i) => i * step);
    const rawValues = new Set<string>();
    for (const i of sample) {
      const r = bigTruth.rows[i]!;
      for (const v of [r.participant_id, r.full_name, r.email, r.ssn, r.zip]) rawValues.add(v);
      if (!r.date_of_birth.endsWith('-01-01')) rawValues.add(r.date_of_birth);
    }
    // Rows stream in no defined order (no ORDER BY; the engine does not keep file order): every
    // streamed row must be the masked form of a distinct raw row, compared as multisets over all
    // 200,000 rows on the columns bob sees in a form computable from the raw file.
    const restricted = ['036', '059', '063', '102', '203', '205', '369', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'];
    const expected = new Map<string, number>();
    for (const r of bigTruth.rows) {
      const year = Number(r.date_of_birth.slice(0, 4));
      const shownYear = REFERENCE_YEAR - year > 89 ? REFERENCE_YEAR - 90 : year;
      const zip3 = restricted.includes(r.zip.slice(0, 3)) ? '000' : r.zip.slice(0, 3);
      const score = r.consent_research === 'true' ? String(Number(r.outcome_score)) : 'null';
      const key = JSON.stringify([zip3, `${shownYear}-01-01`, r.country, score]);
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const client = await connectPg(big, 'bob');
    let seen = 0;
    let mismatched = 0;
    const leaked: string[] = [];
    try {
      const { rows, fields } = await readCursor(client, `SELECT * FROM ${DS}`, 10_000, (batch, columns) => {
        const names = columns.map((c) => c.name);
        const zip = names.indexOf('zip');
        const dob = names.indexOf('date_of_birth');
        const country = names.indexOf('country');
        const score = names.indexOf('outcome_score');
        for (const row of batch) {
          for (const v of row) if (v !== null && rawValues.has(v) && leaked.length < 5) leaked.push(v);
          const shown = row[score];
          const key = JSON.stringify([row[zip], row[dob], row[country], shown === null || shown === undefined ? 'null' : String(Number(shown))]);
          const left = expected.get(key) ?? 0;
          if (left === 0) mismatched++;
          else expected.set(key, left - 1);
          seen++;
        }
      });
      assert.equal(rows, Number(count[0]?.[0]), 'pg streamed as many rows as HTTP counts');
      const names = fields.map((f) => f.name);
      for (const hidden of HIDDEN_FOR_BOB) assert.ok(!names.includes(hidden), `the row description names ${hidden}`);
      assert.deepEqual(names, ['date_of_birth', 'zip', 'country', 'site_id', 'arm', 'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at']);
    } finally {
      await client.end();
    }
    assert.deepEqual(leaked, [], `raw values of the sample appear in bob's scan: ${leaked.join(', ')}`);
    assert.equal(seen, 200_000);
    assert.equal(mismatched, 0, `${mismatched} of the 200,000 streamed rows are not the masked form of a distinct raw row`);
    // The raw CSV really holds those values (the check above is not vacuous).
    const csv = readFileSync(path.join(big.home, 'storage/clinical-trials/drug-xyz/trial-july2020/data.csv'), 'utf8');
    assert.ok([...rawValues].slice(0, 20).every((v) => csv.includes(v)));
  });

  test('alice over pg at this size: the error oracle answers alike for hidden rows and for none; counts match HTTP', async () => {
    const client = await connectPg(big, 'alice');
    try {
      const probes = [
        (c: string) => `SELECT count(*) FROM ${DS} WHERE hamming(CASE WHEN ${c} AND dose_mg >= 100 THEN 'xx' ELSE 'x' END, 'x') >= 0`,
        (c: string) => `SELECT count(*) FROM ${DS} WHERE CAST(CASE WHEN ${c} THEN site_id ELSE '1' END AS INTEGER) IS NOT NULL`,
      ];
      for (const probe of probes) {
        const hidden = await pgQuery(client, probe("country = 'DE'"));
        const nowhere = await pgQuery(client, probe("country = 'ZZ'"));
        assert.ok(hidden.ok, `${probe("country = 'DE'")}: ${hidden.text}`);
        assert.deepEqual(hidden.rows, nowhere.rows);
        // The same probe with parameters instead of literals.
        const bound = await pgQuery(client, probe('country = $1'), ['DE']);
        assert.deepEqual(bound.rows, nowhere.rows, `bound parameter: ${bound.text}`);
      }
      assert.deepEqual((await pgQuery(client, `SELECT count(*) FROM ${DS}`)).rows, [[String(bigTruth.usCount)]]);
    } finally {
      await client.end();
    }
  });

  test('the 200,000-row server had no internal errors', () => {
    assert.deepEqual(big.internalErrors.map(String), []);
  });
});

test('no pg request of this suite ended in an internal error', () => {
  assert.deepEqual(s.internalErrors.map(String), [], s.internalErrors.map((e) => (e as Error).stack ?? String(e)).join('\n\n'));
});
