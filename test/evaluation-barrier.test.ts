/**
 * docs/security.md, invariant 5 and "The evaluation barrier", proven at a realistic size.
 *
 * A row filter must hold before any expression the user wrote can observe a row. DuckDB merges user
 * predicates with the row filter, and after a few dozen chunks its adaptive filter evaluates them
 * first, on rows the policy removes; "error or no error" then becomes a one-bit oracle on hidden
 * rows. Small tables never trigger it, so everything here runs on 240,000 rows (CSV and Parquet,
 * four engine threads).
 *
 * The probes are generated, not hand-picked: for every allowlisted function and the casts between
 * dataset types, test/support/failing-calls.ts finds arguments that make the call fail at run time
 * and proves the pair on DuckDB. A probe puts the failing argument behind a condition that selects
 * hidden rows only (`country = 'DE'` for alice, who sees US rows) and compares the answer with the
 * same probe whose condition selects no row at all. They must be identical, in every position a
 * predicate can take (WHERE, JOIN, HAVING, QUALIFY, subqueries, CTEs, set operations, …). Predicates
 * over no column (constants, random()) are compared between a dataset with hidden rows and an empty
 * one, for a user who sees none of them. A canary shows that the same probe does leak on the same
 * data without the barrier, so this file fails if the barrier stops holding, not only if it breaks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { VeilError } from '../src/errors/index.ts';
import { principalOf, type Principal } from '../src/identity/index.ts';
import { validatePolicy } from '../src/policy/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import type { AuditRecord } from '../src/audit/audit-types.ts';
import { pipelineOutcome } from './support/pipeline.ts';
import { discoverFailingCalls, duckDbTrials, type Discovery, type FailingCall } from './support/failing-calls.ts';

const ROWS = 240_000;
const CSV = 'drug_xyz.trial_july2020';
const PARQUET = 'drug_xyz.trial_parquet';
const EMPTY = 'drug_xyz.trial_empty';
const SOURCES = [CSV, PARQUET] as const;
/** alice sees country = 'US' only: this selects hidden rows and nothing she can see. */
const HIDDEN = "country = 'DE'";
const NOWHERE = "country = 'ZZ'";
/** The same with a function in it: DuckDB's adaptive filter then tries the user's predicate first sooner. */
const HIDDEN_BY_FUNCTION: readonly [string, string] = ["substr(country, 1, 2) = 'DE'", "substr(country, 1, 2) = 'ZZ'"];
/** Calls per query: a failing call anywhere in the batch makes the whole probe fail. */
const BATCH = 16;

let home: string;
let runtime: VeilRuntime;
let alice: Principal;
/** alice's group with region XX: she may read the datasets and sees none of their rows. */
let zed: Principal;
let discovery: Discovery;
/** The generated calls Veil's checker lets through (set by the first test of 'generated probes'). */
let accepted: readonly FailingCall[] = [];

type Outcome = { readonly rows: unknown[][] } | { readonly error: string };

async function outcome(principal: Principal, sql: string): Promise<Outcome> {
  const started = performance.now();
  try {
    const result = await pipelineOutcome(runtime.queries, principal, sql);
    // The message is not compared: two failures of the same kind are the same answer.
    return 'rows' in result ? result : { error: result.error };
  } finally {
    const ms = performance.now() - started;
    if (ms > 3000) process.stderr.write(`slow probe (${Math.round(ms)} ms): ${sql}\n`);
  }
}

function trail(count: number, userOf: (i: number) => string): AuditRecord[] {
  return Array.from({ length: count }, (_, i): AuditRecord => {
    const user = userOf(i);
    return {
      event_time: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
      request_id: `${user}-${i}`,
      user,
      groups: [user === 'alice' ? 'data_science' : 'research'],
      client_application: 'probe',
      client_address: '127.0.0.1',
      door: 'http',
      statement:
        user === 'bob'
          ? `SELECT count(*) FROM ${CSV} WHERE ssn = '${String(100 + (i % 800)).padStart(3, '0')}-${String((i % 90) + 10)}-${String(1000 + i).slice(-4)}'`
          : `SELECT count(*) FROM ${CSV}`,
      statement_type: 'query',
      datasets: [CSV],
      columns: [`${CSV}.ssn`],
      policies: ['research-read'],
      decision: 'allowed',
      rows_returned: i % 3,
      bytes_returned: 100 + i,
      duration_ms: 1 + (i % 50),
      error_code: null,
    };
  });
}

/** DuckDB's physical plan of what a statement runs as for alice, and its shape without constants. */
async function planOf(sql: string): Promise<string> {
  const prepared = await runtime.queries.prepare(alice, sql);
  const rows = await runtime.engine.runInternal<[string, string]>(`EXPLAIN ${prepared.sql}`);
  return rows.map((r) => r[1]).join('\n');
}
const planShape = (text: string): string => text.replace(/'[^']*'/g, "'?'").replace(/-?\d+(\.\d+)?/g, '?');

/** The call with its switchable argument behind a condition: bad where it holds, good elsewhere. */
function guarded(call: FailingCall, condition: string): string {
  return call.template.replace('$ARG', `CASE WHEN ${condition} THEN ${call.bad} ELSE ${call.good} END`);
}

/** A predicate that is true (or NULL) wherever the call succeeds, and raises its error where it fails. */
function predicate(calls: readonly FailingCall[], condition: string): string {
  return calls.map((call) => `CAST(${guarded(call, condition)} AS VARCHAR) IS DISTINCT FROM '~'`).join(' AND ');
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

async function assertSameAnswer(principal: Principal, query: (condition: string) => string, label: string, conditions: readonly [string, string] = [HIDDEN, NOWHERE]): Promise<Outcome> {
  const hidden = await outcome(principal, query(conditions[0]));
  const nowhere = await outcome(principal, query(conditions[1]));
  assert.deepEqual(hidden, nowhere, `${label}: the answer depends on rows the policy hides\n${query(conditions[0])}`);
  return hidden;
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-barrier-'));
  // The CSV dataset is read as CSV (the canary's shape); Parquet is covered by its own dataset.
  writeFileSync(path.join(home, 'config.yaml'), 'engine_threads: 4\ncolumnar_cache: false\n');
  runtime = await openRuntime(home);
  await setupDemo(runtime, ROWS);
  // The same rows as Parquet (small row groups: many chunks, statistics per group), and an empty copy.
  const probeDir = path.join(runtime.home.storageRoot, 'probe');
  mkdirSync(probeDir, { recursive: true });
  const source = 'veil_internal."src__drug_xyz__trial_july2020"';
  await runtime.engine.runInternal(`COPY (SELECT * FROM ${source}) TO '${path.join(probeDir, 'trial.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 20000)`);
  await runtime.engine.runInternal(`COPY (SELECT * FROM ${source} LIMIT 0) TO '${path.join(probeDir, 'empty.parquet')}' (FORMAT parquet)`);
  const csv = await runtime.catalog.datasets.get(CSV);
  const columnTags = Object.fromEntries(csv.columns.map((c) => [c.name, [...c.tags]]));
  await runtime.catalog.register({ name: PARQUET, location: 'probe/trial.parquet', format: 'parquet', columnTags });
  await runtime.catalog.register({ name: EMPTY, location: 'probe/empty.parquet', format: 'parquet', columnTags });
  await runtime.users.put({ name: 'zed', groups: ['data_science'], attributes: { region: 'XX' } });
  await runtime.policies.apply([
    validatePolicy({
      name: 'probe-own-region',
      effect: 'restrict',
      subjects: { groups: ['data_science'] },
      resources: [{ dataset: PARQUET }, { dataset: EMPTY }],
      // Spans two columns, so DuckDB cannot turn it into a filter inside the Parquet reader: it is
      // evaluated beside user predicates, where the adaptive filter may reorder them.
      row_filter: "country = user_attribute('region') OR site_id = 'none'",
    }),
  ]);
  alice = principalOf(await runtime.users.get('alice'));
  zed = principalOf(await runtime.users.get('zed'));
  // A large trail: bob searched for SSNs 200,000 times; alice's own 500 requests are interleaved
  // with his, as requests of several users are (so no block of the table holds only bob's).
  await runtime.audit.recordMany(trail(200_500, (i) => (i % 401 === 0 ? 'alice' : 'bob')));

  // Discovery runs on its own DuckDB (it needs duckdb_functions(), which user queries never reach).
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '512MB' });
  const connection = await instance.connect();
  const run = async (sql: string): Promise<unknown[][]> => (await connection.runAndReadAll(sql)).getRowsJson();
  try {
    discovery = await discoverFailingCalls(duckDbTrials(run), run);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});

after(async () => {
  await runtime?.close();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

describe('generated probes', () => {
  test('the generator finds failing calls for the known primitives and for well over a hundred functions and casts', (t) => {
    const names = new Set(discovery.calls.map((c) => c.name));
    const casts = discovery.calls.filter((c) => c.name.startsWith('CAST(')).length;
    t.diagnostic(`failing calls: ${discovery.calls.length - casts} functions, ${casts} casts; no failing arguments found for ${discovery.neverFailing.length} functions`);
    for (const known of ['hamming', 'mismatches', 'substr', 'json_extract', 'regexp_matches', 'make_date', 'strptime', 'to_days', '+', 'abs', 'CAST(VARCHAR AS INTEGER)', 'CAST(VARCHAR AS DATE)']) {
      assert.ok(names.has(known), `no failing call found for ${known}: the generator lost coverage`);
    }
    assert.ok(discovery.calls.length >= 140, `only ${discovery.calls.length} failing calls found`);
  });

  test('canary: without the barrier, the row filter alone does leak at this size', async () => {
    // The policy's row filter in a plain subquery, exactly the shape Veil used before the barrier.
    const hamming = discovery.calls.find((c) => c.name === 'hamming')!;
    const unguarded = (condition: string): string =>
      `SELECT count(*) FROM (SELECT * FROM veil_internal."src__drug_xyz__trial_july2020" WHERE country = 'US') WHERE ${predicate([hamming], condition)}`;
    const hidden = await runtime.engine.runInternal(unguarded(HIDDEN)).then(() => 'answered', (error: unknown) => `failed: ${String(error)}`);
    const nowhere = await runtime.engine.runInternal(unguarded(NOWHERE)).then(() => 'answered', (error: unknown) => `failed: ${String(error)}`);
    assert.equal(nowhere, 'answered');
    assert.match(hidden, /^failed/, 'the probe no longer reproduces the leak on an unguarded scan: find a stronger probe before trusting this file');
  });

  test('Veil accepts the generated probes (a call it refuses cannot probe anything, but the known primitives must not be among them)', async () => {
    const refused: string[] = [];
    for (const call of discovery.calls) {
      try {
        await runtime.queries.prepare(alice, `SELECT count(*) FROM ${CSV} WHERE ${predicate([call], HIDDEN)}`);
      } catch (error) {
        if (!(error instanceof VeilError)) throw error;
        refused.push(`${call.name} (${error.code})`);
      }
    }
    accepted = discovery.calls.filter((c) => !refused.some((r) => r.startsWith(`${c.name} (`)));
    assert.ok(accepted.length >= 130, `only ${accepted.length} probes accepted; refused: ${refused.join(', ')}`);
    for (const known of ['hamming', 'CAST(VARCHAR AS INTEGER)', 'make_date']) assert.ok(accepted.some((c) => c.name === known), `${known} refused`);
  });

  for (const dataset of SOURCES) {
    test(`${dataset}: every generated failing call, behind a condition on hidden rows, answers as if that condition matched nothing`, async () => {
      for (const conditions of [[HIDDEN, NOWHERE], HIDDEN_BY_FUNCTION] as const) {
        for (const batch of batches(accepted, BATCH)) {
          const answer = await assertSameAnswer(alice, (condition) => `SELECT count(*) FROM ${dataset} WHERE ${predicate(batch, condition)}`, batch.map((c) => c.name).join(', '), conditions);
          assert.ok('rows' in answer, `the probe itself failed on visible rows: ${JSON.stringify(answer)}`);
        }
      }
    });
  }
});

describe('every position a user expression can take', () => {
  // A few primitives of different kinds: a string function, a cast, arithmetic.
  const picks = (): FailingCall[] => ['hamming', 'CAST(VARCHAR AS INTEGER)', 'make_date'].map((name) => discovery.calls.find((c) => c.name === name)!);
  const shapes: Record<string, (ds: string, p: string, e: string) => string> = {
    where: (ds, p) => `SELECT count(*) FROM ${ds} WHERE ${p}`,
    'where, thresholds of the reported attack': (ds, _p, e) => `SELECT count(*) FROM ${ds} WHERE CAST(${e} AS VARCHAR) IS DISTINCT FROM '~' AND dose_mg >= 0`,
    'where, OR': (ds, p) => `SELECT count(*) FROM ${ds} WHERE arm = 'nothing' OR (${p})`,
    'select list': (ds, _p, e) => `SELECT count(${e}) FROM ${ds}`,
    'join on': (ds, p) => `SELECT count(*) FROM ${ds} t JOIN drug_xyz.adverse_events a ON a.participant_id = t.participant_id AND ${p.replaceAll('country', 't.country')}`,
    'left join on': (ds, p) => `SELECT count(*) FROM drug_xyz.adverse_events a LEFT JOIN ${ds} t ON a.participant_id = t.participant_id AND ${p.replaceAll('country', 't.country')}`,
    'cross join where': (ds, p) => `SELECT count(*) FROM ${ds} t, (SELECT 1 AS one) o WHERE o.one = 1 AND ${p.replaceAll('country', 't.country')}`,
    'group by expression': (ds, _p, e) => `SELECT count(*) FROM (SELECT ${e} AS k FROM ${ds} GROUP BY k)`,
    'having on a group key': (ds, p) => `SELECT count(*) FROM (SELECT country, dose_mg, count(*) FROM ${ds} GROUP BY country, dose_mg HAVING ${p})`,
    'aggregate filter': (ds, p) => `SELECT count(*) FILTER (WHERE ${p}) FROM ${ds}`,
    qualify: (ds, p) => `SELECT count(*) FROM (SELECT country, dose_mg FROM ${ds} QUALIFY row_number() OVER (PARTITION BY country, dose_mg) = 1 AND ${p})`,
    'window partition': (ds, _p, e) => `SELECT count(*) FROM (SELECT count(*) OVER (PARTITION BY ${e}) FROM ${ds})`,
    'order by': (ds, _p, e) => `SELECT participant_id FROM ${ds} ORDER BY ${e}, participant_id LIMIT 3`,
    'in subquery': (ds, p) => `SELECT count(*) FROM ${ds} WHERE participant_id IN (SELECT participant_id FROM ${ds} WHERE ${p})`,
    'correlated exists': (ds, p) => `SELECT count(*) FROM ${ds} a WHERE EXISTS (SELECT 1 FROM ${ds} b WHERE b.participant_id = a.participant_id AND ${p.replaceAll('country', 'b.country')})`,
    'scalar subquery': (ds, p) => `SELECT (SELECT count(*) FROM ${ds} WHERE ${p})`,
    cte: (ds, p) => `WITH x AS (SELECT * FROM ${ds}) SELECT count(*) FROM x WHERE ${p}`,
    'materialized cte': (ds, p) => `WITH x AS MATERIALIZED (SELECT * FROM ${ds}) SELECT count(*) FROM x WHERE ${p}`,
    'derived table': (ds, p) => `SELECT count(*) FROM (SELECT country, dose_mg, site_id FROM ${ds}) WHERE ${p}`,
    'union all': (ds, p) => `SELECT count(*) FROM (SELECT country FROM ${ds} UNION ALL SELECT country FROM ${ds}) WHERE ${p}`,
    intersect: (ds, p) => `SELECT count(*) FROM (SELECT country FROM ${ds} INTERSECT SELECT country FROM ${ds} WHERE ${p})`,
    lateral: (ds, _p, e) => `SELECT count(*) FROM ${ds} t, LATERAL (SELECT ${e.replaceAll('country', 't.country')} AS v) l WHERE CAST(l.v AS VARCHAR) IS DISTINCT FROM '~'`,
    'self join': (ds, p) => `SELECT count(*) FROM ${ds} a JOIN ${ds} b ON a.participant_id = b.participant_id WHERE ${p.replaceAll('country', 'a.country')}`,
    'from-first': (ds, p) => `FROM ${ds} SELECT count(*) WHERE ${p}`,
    distinct: (ds, p) => `SELECT count(*) FROM (SELECT DISTINCT country, arm FROM ${ds}) WHERE ${p}`,
    sample: (ds, p) => `SELECT count(*) > 0 FROM ${ds} USING SAMPLE 50 PERCENT (bernoulli) WHERE ${p}`,
  };
  for (const dataset of SOURCES) {
    for (const [shape, sql] of Object.entries(shapes)) {
      test(`${dataset}: ${shape}`, async () => {
        for (const call of picks()) {
          await assertSameAnswer(alice, (condition) => sql(dataset, predicate([call], condition), guarded(call, condition)), `${call.name} in ${shape}`);
        }
      });
    }
  }
});

describe('predicates over no column at all', () => {
  // zed sees no row of either dataset; trial_parquet has 240,000 hidden rows, trial_empty none.
  const floating: Record<string, (ds: string, call: FailingCall) => string> = {
    'constant beside a column predicate': (ds, call) => `SELECT count(*) FROM ${ds} WHERE dose_mg > 0 AND CAST(${call.template.replace('$ARG', call.bad)} AS VARCHAR) IS DISTINCT FROM '~'`,
    volatile: (ds, call) => `SELECT count(*) FROM ${ds} WHERE CAST(${call.template.replace('$ARG', `CASE WHEN random() < 2 THEN ${call.bad} ELSE ${call.good} END`)} AS VARCHAR) IS DISTINCT FROM '~'`,
    'constant column of a derived table': (ds, call) => `SELECT count(*) FROM (SELECT ${call.bad} AS c FROM ${ds}) WHERE CAST(${call.template.replace('$ARG', 'c')} AS VARCHAR) IS DISTINCT FROM '~'`,
    'constant group key': (ds, call) => `SELECT count(*) FROM (SELECT ${call.bad} AS c FROM ${ds} GROUP BY c HAVING CAST(${call.template.replace('$ARG', 'c')} AS VARCHAR) IS DISTINCT FROM '~')`,
  };
  for (const [shape, sql] of Object.entries(floating)) {
    test(`${shape}: a dataset whose rows are all hidden answers exactly like an empty one`, async () => {
      const picks = ['hamming', 'CAST(VARCHAR AS INTEGER)', 'make_date'].map((n) => accepted.find((c) => c.name === n)!);
      for (const call of picks) {
        for (const dataset of SOURCES) {
          const withHiddenRows = await outcome(zed, sql(dataset, call));
          const empty = await outcome(zed, sql(EMPTY, call));
          assert.deepEqual(withHiddenRows, empty, `${call.name}: ${sql(dataset, call)}`);
        }
      }
    });
  }
  test('every generated call as a constant: a dataset whose rows are all hidden answers exactly like an empty one', async () => {
    const constant = (calls: readonly FailingCall[]): string => calls.map((c) => `CAST(${c.template.replace('$ARG', c.bad)} AS VARCHAR) IS DISTINCT FROM '~'`).join(' AND ');
    for (const batch of batches(accepted, BATCH)) {
      for (const dataset of SOURCES) {
        const withHiddenRows = await outcome(zed, `SELECT count(*) FROM ${dataset} WHERE ${constant(batch)}`);
        const empty = await outcome(zed, `SELECT count(*) FROM ${EMPTY} WHERE ${constant(batch)}`);
        assert.deepEqual(withHiddenRows, empty, batch.map((c) => c.name).join(', '));
      }
    }
  });
});

describe('veil_system.audit_log with a trail of 200,000 records of another user', () => {
  const AUDIT = 'veil_system.audit_log';
  // On two columns, and on one (a single-column predicate can become a filter inside the table scan).
  const BOB: readonly [string, string] = [`"user" = 'bob'`, `"user" = 'nobody'`];
  const SSN: readonly [string, string] = [`statement LIKE '%ssn%'`, `statement LIKE '%no such text%'`];
  // A function in the condition makes the user's predicate the one DuckDB's adaptive filter tries first.
  const PREFIX: readonly [string, string] = [`substr(statement, 1, 60) > 'SELECT count(*) FROM ${CSV} WHERE ssn = ''5'`, `substr(statement, 1, 60) = 'no such text'`];
  test('alice sees only her own records', async () => {
    assert.deepEqual(await outcome(alice, `SELECT count(*), count(DISTINCT "user") FROM ${AUDIT} WHERE client_application = 'probe'`), { rows: [['500', '1']] });
  });
  test('every generated failing call, behind a condition on bob\'s records, answers as if that condition matched nothing', async () => {
    for (const conditions of [BOB, SSN, PREFIX]) {
      for (const batch of batches(accepted, BATCH)) {
        const answer = await assertSameAnswer(alice, (condition) => `SELECT count(*) FROM ${AUDIT} WHERE ${predicate(batch, condition)}`, batch.map((c) => c.name).join(', '), conditions);
        assert.ok('rows' in answer, JSON.stringify(answer));
      }
    }
  });
  test('the reported attack: rebuilding the text of bob\'s statements by binary search learns nothing', async () => {
    const probe = (condition: string): string =>
      `SELECT count(*) FROM ${AUDIT} WHERE hamming(CASE WHEN ${condition} AND statement >= 'SELECT count(*) FROM ${CSV} WHERE ssn = ''4' THEN 'xx' ELSE 'x' END, 'x') >= 0`;
    await assertSameAnswer(alice, probe, 'statement prefix', BOB);
    const single = (condition: string): string => `SELECT count(*) FROM ${AUDIT} WHERE hamming(CASE WHEN ${condition} THEN 'xx' ELSE 'x' END, 'x') >= 0`;
    for (const prefix of ['1', '4', '7']) await assertSameAnswer(alice, single, 'one column', [`substr(statement, 1, 60) >= 'SELECT count(*) FROM ${CSV} WHERE ssn = ''${prefix}'`, SSN[1]]);
    for (const shape of ['GROUP BY door HAVING', 'QUALIFY row_number() OVER (PARTITION BY door) = 1 AND']) {
      const q = (condition: string): string =>
        `SELECT count(*) FROM (SELECT door FROM ${AUDIT} ${shape.startsWith('GROUP') ? 'GROUP BY door, "user" HAVING' : shape} hamming(CASE WHEN ${condition} THEN 'xx' ELSE 'x' END, 'x') >= 0)`;
      await assertSameAnswer(alice, q, shape, BOB);
    }
  });
  test('a predicate over audit columns is planned the same whatever the statistics of all records say', async () => {
    const a = await planOf(`SELECT count(*) FROM ${AUDIT} WHERE duration_ms < -1`);
    const b = await planOf(`SELECT count(*) FROM ${AUDIT} WHERE duration_ms < 40`);
    assert.doesNotMatch(a, /EMPTY_RESULT/);
    assert.equal(planShape(a), planShape(b));
  });
});

describe('statistics of hidden rows', () => {
  test('a predicate is planned the same whatever the statistics of all rows say about it', async () => {
    // Parquet statistics cover every row, hidden ones included. Without the barrier DuckDB answers
    // `dose_mg < -1` from them with an empty plan (no scan) but must scan for `dose_mg < 50`: the
    // plan, and so the time, would follow the minimum and maximum of rows alice cannot see.
    for (const [column, outside, inside] of [
      ['dose_mg', '-1', '50'],
      ['enrolled_at', "TIMESTAMP '1900-01-01'", "TIMESTAMP '2020-07-15'"],
    ] as const) {
      const a = await planOf(`SELECT count(*) FROM ${PARQUET} WHERE ${column} < ${outside}`);
      const b = await planOf(`SELECT count(*) FROM ${PARQUET} WHERE ${column} < ${inside}`);
      assert.doesNotMatch(a, /EMPTY_RESULT/, `${column}: answered from statistics of rows alice cannot see`);
      assert.equal(planShape(a), planShape(b), `${column}: the plan depends on statistics of hidden rows`);
    }
  });
});
