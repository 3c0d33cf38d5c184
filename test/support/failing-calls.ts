/**
 * Finds, for every function a user query may call (src/sql/function-allowlist.ts) and for the
 * casts between the types datasets use, arguments that make the call fail at run time, and a
 * neighbour that does not: `f(…, good, …)` succeeds and `f(…, bad, …)` raises an error that is not
 * a binder error. Such a pair is the raw material of the error oracle of docs/security.md ("The
 * evaluation barrier"): `f(…, CASE WHEN <condition on hidden rows> THEN bad ELSE good END, …)`
 * fails if, and only if, the engine evaluates it on a row the condition selects.
 *
 * Nothing here is hand-picked per function: signatures come from duckdb_functions(), arguments from
 * per-type pools of edge values, and every pair is proven on a real DuckDB in the exact shape the
 * probes use (the call fails on the one row the condition selects, and succeeds when it selects
 * none). New functions on the allowlist get probes without anyone writing them.
 */
import { ALLOWED_FUNCTIONS } from '../../src/sql/index.ts';

export interface FailingCall {
  /** The allowlisted function (or `CAST(<from> AS <to>)`) the call exercises. */
  readonly name: string;
  /** SQL of the call with `$ARG` where the switchable argument goes. */
  readonly template: string;
  /** An argument with which the call succeeds. */
  readonly good: string;
  /** An argument with which the call fails at run time. */
  readonly bad: string;
}

export interface Discovery {
  readonly calls: readonly FailingCall[];
  /** Allowlisted names for which no pool value made any overload fail (they may simply never fail). */
  readonly neverFailing: readonly string[];
}

/** SQL literals per type: ordinary values first (good baselines), edge values after. */
const POOLS: Record<string, readonly string[]> = {
  VARCHAR: [
    "'x'", "'abc'", "'1'", "''", "'xx'", "'-1'", "'0'", "'2020-01-01'", "'2020-13-45'", "'{\"a\": 1}'", "'{'", "'[1,2]'",
    "'%'", "'\\'", "'('", "'a b'", "'$.a'", "'%Y-%m-%d'", "'%Q'", "'zzz'", "'99999999999999999999'", "'ff'", "'=='", "'abc='",
    "'ä'", "'1 day'", "'UTC'", "'Nowhere/City'", "'year'", "'nonsense'", "'00000000-0000-0000-0000-000000000001'", "'10:00:00'",
  ],
  // No valid-but-huge counts (2^31 - 1, 10^9): lpad, repeat or bitstring would build gigabyte strings
  // before anything fails. Out-of-range extremes fail fast and stay.
  BIGINT: ['1', '2', '0', '-1', '10', '64', '1000', '9223372036854775807', '(-9223372036854775807 - 1)', '-100'],
  INTEGER: ['CAST(1 AS INTEGER)', 'CAST(2 AS INTEGER)', 'CAST(0 AS INTEGER)', 'CAST(-1 AS INTEGER)', 'CAST(-2147483648 AS INTEGER)', 'CAST(100 AS INTEGER)'],
  SMALLINT: ['CAST(1 AS SMALLINT)', 'CAST(0 AS SMALLINT)', 'CAST(32767 AS SMALLINT)', 'CAST(-32768 AS SMALLINT)'],
  TINYINT: ['CAST(1 AS TINYINT)', 'CAST(0 AS TINYINT)', 'CAST(127 AS TINYINT)', 'CAST(-128 AS TINYINT)'],
  UBIGINT: ['CAST(1 AS UBIGINT)', 'CAST(0 AS UBIGINT)', 'CAST(18446744073709551615 AS UBIGINT)'],
  UINTEGER: ['CAST(1 AS UINTEGER)', 'CAST(0 AS UINTEGER)', 'CAST(4294967295 AS UINTEGER)'],
  USMALLINT: ['CAST(1 AS USMALLINT)', 'CAST(0 AS USMALLINT)', 'CAST(65535 AS USMALLINT)'],
  UTINYINT: ['CAST(1 AS UTINYINT)', 'CAST(0 AS UTINYINT)', 'CAST(255 AS UTINYINT)'],
  HUGEINT: ['CAST(1 AS HUGEINT)', 'CAST(0 AS HUGEINT)', 'CAST(-1 AS HUGEINT)', 'CAST(170141183460469231731687303715884105727 AS HUGEINT)'],
  UHUGEINT: ['CAST(1 AS UHUGEINT)', 'CAST(0 AS UHUGEINT)'],
  DOUBLE: ['CAST(1.5 AS DOUBLE)', 'CAST(2 AS DOUBLE)', 'CAST(0 AS DOUBLE)', 'CAST(-1 AS DOUBLE)', 'CAST(0.5 AS DOUBLE)', 'CAST(1e308 AS DOUBLE)', 'CAST(-1e308 AS DOUBLE)', "CAST('nan' AS DOUBLE)", "CAST('inf' AS DOUBLE)", 'CAST(1e20 AS DOUBLE)'],
  FLOAT: ['CAST(1.5 AS FLOAT)', 'CAST(0 AS FLOAT)', 'CAST(-1 AS FLOAT)', 'CAST(3e38 AS FLOAT)', "CAST('nan' AS FLOAT)"],
  DECIMAL: ['CAST(1.5 AS DECIMAL(18,3))', 'CAST(0 AS DECIMAL(18,3))', 'CAST(-1 AS DECIMAL(18,3))', 'CAST(999999999999999.999 AS DECIMAL(18,3))'],
  BOOLEAN: ['true', 'false'],
  DATE: ["DATE '2020-01-01'", "DATE '0001-01-01'", "DATE '5877641-06-25'", "CAST('infinity' AS DATE)"],
  TIMESTAMP: ["TIMESTAMP '2020-01-01 10:00:00'", "TIMESTAMP '0001-01-01 00:00:00'", "TIMESTAMP '294246-12-31 23:59:59'", "CAST('infinity' AS TIMESTAMP)"],
  'TIMESTAMP WITH TIME ZONE': ["TIMESTAMPTZ '2020-01-01 10:00:00+00'", "TIMESTAMPTZ '294246-12-31 23:59:59+00'", "CAST('infinity' AS TIMESTAMPTZ)"],
  TIME: ["TIME '10:00:00'", "TIME '23:59:59'"],
  INTERVAL: ["INTERVAL '1 day'", "INTERVAL '1 month'", "INTERVAL '100000000 years'", "INTERVAL '-100000000 years'"],
  BLOB: ["CAST('a' AS BLOB)", "CAST('' AS BLOB)", "'\\xFF\\xFE'::BLOB"],
  UUID: ["CAST('00000000-0000-0000-0000-000000000001' AS UUID)"],
  JSON: ["CAST('{\"a\": 1}' AS JSON)", "CAST('[1, 2]' AS JSON)", "CAST('1' AS JSON)"],
  BIT: ["CAST('101' AS BIT)", "CAST('1' AS BIT)"],
  'VARCHAR[]': ["['a', 'b']", "CAST([] AS VARCHAR[])", "['x']", "['%', '(']"],
  'BIGINT[]': ['[1, 2, 3]', 'CAST([] AS BIGINT[])', '[0]', '[9223372036854775807, 1]'],
  'DOUBLE[]': ['[1.0, 2.0]', 'CAST([] AS DOUBLE[])', '[1.0]'],
  'FLOAT[]': ['CAST([1.0, 2.0] AS FLOAT[])', 'CAST([1.0] AS FLOAT[])'],
  'INTEGER[]': ['CAST([1, 2] AS INTEGER[])', 'CAST([] AS INTEGER[])'],
};

/** Concrete stand-ins for generic parameter types in duckdb_functions(). */
const GENERIC: Record<string, readonly string[]> = {
  ANY: ['VARCHAR', 'BIGINT', 'DOUBLE', 'BIGINT[]'],
  T: ['BIGINT', 'VARCHAR'],
  'T[]': ['BIGINT[]', 'VARCHAR[]'],
  'ANY[]': ['BIGINT[]', 'VARCHAR[]'],
  'INTEGER_LITERAL': ['BIGINT'],
  'STRING_LITERAL': ['VARCHAR'],
};

/** Target types of the casts probed, with the source types whose pools are tried. */
const CAST_TARGETS = [
  'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
  'FLOAT', 'DOUBLE', 'DECIMAL(4,1)', 'DECIMAL(18,3)', 'BOOLEAN', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE',
  'INTERVAL', 'UUID', 'BLOB', 'BIT', 'JSON', 'VARCHAR[]', 'BIGINT[]', 'STRUCT(a BIGINT)', 'MAP(VARCHAR, BIGINT)',
];
const CAST_SOURCES = ['VARCHAR', 'BIGINT', 'HUGEINT', 'DOUBLE', 'DECIMAL', 'DATE', 'TIMESTAMP', 'INTERVAL', 'BLOB', 'JSON', 'VARCHAR[]'];

const MAX_OVERLOADS_PER_FUNCTION = 24;
const COMMON_TYPES = ['BIGINT', 'VARCHAR', 'DOUBLE', 'INTEGER', 'DATE', 'TIMESTAMP', 'BIGINT[]', 'VARCHAR[]', 'DECIMAL', 'INTERVAL', 'BOOLEAN', 'JSON'];
const MAX_BASELINES_PER_OVERLOAD = 24;
const WORKING_BASELINES = 3;

/** Evaluates SQL expressions (no tables); tells which ones fail when evaluated. */
export interface ExpressionTrials {
  /** For each expression: true if evaluating it raises an error (at bind, fold or run time). */
  fails(expressions: readonly string[]): Promise<boolean[]>;
  /** Whether a whole statement runs without error. */
  runs(sql: string): Promise<boolean>;
  /** The error a statement raises, or undefined if it runs. */
  error(sql: string): Promise<string | undefined>;
}

/**
 * Trials on a plain DuckDB connection. Expressions are tried many at a time inside TRY(): a NULL
 * says the expression failed; a batch that fails as a whole (an error at bind time) is retried one
 * expression at a time.
 */
export function duckDbTrials(run: (sql: string) => Promise<unknown[][]>): ExpressionTrials {
  const error = async (sql: string): Promise<string | undefined> => {
    try {
      await run(sql);
      return undefined;
    } catch (e) {
      return String((e as Error).message);
    }
  };
  const runs = async (sql: string): Promise<boolean> => (await error(sql)) === undefined;
  return {
    runs,
    error,
    async fails(expressions) {
      if (expressions.length === 0) return [];
      const select = expressions.map((e, i) => `TRY(CASE WHEN (${e}) IS NULL THEN 1 ELSE 0 END) AS c${i}`).join(', ');
      try {
        const [row] = await run(`SELECT ${select}`);
        return expressions.map((_, i) => row?.[i] === null);
      } catch {
        const result: boolean[] = [];
        for (const e of expressions) result.push(!(await runs(`SELECT ${e}`)));
        return result;
      }
    },
  };
}

/** Discovers failing calls for every allowlisted scalar function and for every cast between CAST_SOURCES and CAST_TARGETS. */
export async function discoverFailingCalls(trials: ExpressionTrials, run: (sql: string) => Promise<unknown[][]>): Promise<Discovery> {
  /** The probe shape on three rows: fails when the condition selects a row, succeeds when it selects none. */
  const proven = async (template: string, good: string, bad: string): Promise<boolean> => {
    const probe = (condition: string): string =>
      `SELECT count(*) FROM range(3) AS t(i) WHERE CAST(${template.replace('$ARG', `CASE WHEN ${condition} THEN ${bad} ELSE ${good} END`)} AS VARCHAR) <> '~'`;
    const failure = await trials.error(probe('i = 1'));
    // Running out of memory or time is a failure too, but a probe that allocates gigabytes is no test to run on 200,000 rows.
    return failure !== undefined && !/out of memory|memory limit|interrupt/i.test(failure) && (await trials.runs(probe('i = 99')));
  };

  const signatures = (await run(
    `SELECT function_name, parameter_types, varargs FROM duckdb_functions()
     WHERE function_type IN ('scalar', 'macro') ORDER BY function_name, len(parameter_types), parameter_types::VARCHAR`,
  )) as [string, (string | null)[], string | null][];
  const overloads = new Map<string, string[][]>();
  for (const [name, types, varargs] of signatures) {
    if (!ALLOWED_FUNCTIONS.has(name)) continue;
    const list = overloads.get(name) ?? [];
    const concrete = varargs === null ? types : [...types, varargs];
    list.push(concrete.map((t) => (t === null || t === 'NULL' || t === '' ? 'ANY' : t)));
    overloads.set(name, list);
  }

  const calls: FailingCall[] = [];
  const neverFailing: string[] = [];
  for (const name of [...overloads.keys()].sort()) {
    const found = await findForFunction(name, overloads.get(name) ?? [], trials, proven);
    if (found === undefined) neverFailing.push(name);
    else calls.push(found);
  }
  for (const target of CAST_TARGETS) {
    for (const source of CAST_SOURCES) {
      const pool = POOLS[source] ?? [];
      const template = `CAST($ARG AS ${target})`;
      const failing = await trials.fails(pool.map((v) => template.replace('$ARG', v)));
      const good = pool.find((_, i) => failing[i] === false);
      if (good === undefined) continue;
      const bad = await firstProven(pool.filter((_, i) => failing[i] === true), (b) => proven(template, good, b));
      if (bad !== undefined) calls.push({ name: `CAST(${source} AS ${target})`, template, good, bad });
    }
  }
  return { calls, neverFailing };
}

async function findForFunction(
  name: string,
  signatures: readonly string[][],
  trials: ExpressionTrials,
  proven: (template: string, good: string, bad: string) => Promise<boolean>,
): Promise<FailingCall | undefined> {
  const callee = /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
  const call = (args: readonly string[]): string => `${callee}(${args.join(', ')})`;
  for (const types of expandGenerics(signatures).slice(0, MAX_OVERLOADS_PER_FUNCTION)) {
    const pools = types.map((t) => POOLS[t] ?? POOLS[t.replace(/\(.*\)$/, '')]);
    if (pools.some((p) => p === undefined || p.length === 0)) continue;
    const concretePools = pools as readonly (readonly string[])[];
    const candidates = baselines(concretePools).map((tuple) => tuple.map((i, k) => concretePools[k]![i]!));
    const failing = await trials.fails(candidates.map(call));
    // A few working baselines: overflow needs a large value already in another position (x * 2^62).
    for (const baseline of candidates.filter((_, i) => failing[i] === false).slice(0, WORKING_BASELINES)) {
      for (let position = 0; position < baseline.length; position++) {
        const template = call(baseline.map((a, k) => (k === position ? '$ARG' : a)));
        const pool = concretePools[position]!;
        const switched = await trials.fails(pool.map((v) => template.replace('$ARG', v)));
        const good = baseline[position]!;
        const bad = await firstProven(pool.filter((v, i) => switched[i] === true && v !== good), (b) => proven(template, good, b));
        if (bad !== undefined) return { name, template, good, bad };
      }
    }
  }
  return undefined;
}

async function firstProven(candidates: readonly string[], proof: (candidate: string) => Promise<boolean>): Promise<string | undefined> {
  for (const candidate of candidates) if (await proof(candidate)) return candidate;
  return undefined;
}

function expandGenerics(signatures: readonly string[][]): string[][] {
  const result: string[][] = [];
  const seen = new Set<string>();
  for (const types of signatures) {
    if (types.some((t) => t.includes('LAMBDA'))) continue;
    let variants: string[][] = [[]];
    for (const t of types) {
      const options = GENERIC[t] ?? [t];
      variants = variants.flatMap((prefix) => options.map((o) => [...prefix, o])).slice(0, 16);
    }
    for (const v of variants) {
      const key = v.join('|');
      if (!seen.has(key)) {
        seen.add(key);
        result.push(v);
      }
    }
  }
  // common types first (an overflow in BIGINT arithmetic is found before the HUGEINT overloads are tried)
  const rank = (types: readonly string[]): number => types.reduce((sum, t) => sum + (COMMON_TYPES.indexOf(t) + 1 || COMMON_TYPES.length + 1), 0) / Math.max(1, types.length);
  return result.sort((a, b) => rank(a) - rank(b) || a.length - b.length);
}

/** Baseline index tuples: every value of each position with the others on their first value, then a few uniform ones. */
function baselines(pools: readonly (readonly string[])[]): number[][] {
  const result: number[][] = [pools.map(() => 0)];
  for (let k = 0; k < pools.length; k++) {
    for (let v = 1; v < (pools[k]?.length ?? 0); v++) result.push(pools.map((_, j) => (j === k ? v : 0)));
  }
  for (let v = 1; v < 4; v++) result.push(pools.map((p) => Math.min(v, p.length - 1)));
  return result.slice(0, MAX_BASELINES_PER_OVERLOAD);
}
