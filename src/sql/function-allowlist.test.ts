import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ALLOWED_FUNCTIONS, isAllowedFunction } from './function-allowlist.ts';

/**
 * For every operator on the allowlist: an expression whose serialized AST
 * contains a FUNCTION node with exactly that function_name.
 */
const OPERATOR_EXAMPLES: Readonly<Record<string, string>> = {
  '+': 'a + b',
  '-': 'a - b',
  '*': 'a * b',
  '/': 'a / b',
  '//': 'a // b',
  '%': 'a % b',
  '**': 'a ** b',
  '^': 'a ^ b',
  '@': '@a',
  '!__postfix': 'a!',
  '&': 'a & b',
  '|': 'a | b',
  '~': '~a',
  '<<': 'a << b',
  '>>': 'a >> b',
  '||': 'a || b',
  '^@': 'a ^@ b',
  '~~': 'a LIKE b',
  '!~~': 'a NOT LIKE b',
  '~~*': 'a ILIKE b',
  '!~~*': 'a NOT ILIKE b',
  '~~~': 'a GLOB b',
  '@>': 'a @> b',
  '<@': 'a <@ b',
  '&&': 'a && b',
  '<->': 'a <-> b',
  '<=>': 'a <=> b',
  '->>': "a ->> '$.x'",
};

/** Names that must never be allowed (threat model: files, state, SQL text, logs, errors, sequences, stats). */
const FORBIDDEN = [
  // files
  'read_csv', 'read_csv_auto', 'read_parquet', 'read_json', 'read_json_auto',
  'read_ndjson', 'read_text', 'read_blob', 'read_duckdb', 'glob', 'sniff_csv',
  'parquet_scan', 'parquet_metadata', 'parquet_schema', 'parquet_file_metadata',
  'parquet_kv_metadata',
  // SQL text / plans
  'query', 'query_table', 'json_execute_serialized_sql', 'json_serialize_sql',
  'json_deserialize_sql', 'json_serialize_plan',
  // settings / variables / catalog / session / system state
  'current_setting', 'getvariable', 'getenv', 'current_query',
  'current_query_id', 'current_schema', 'current_schemas', 'current_database',
  'current_catalog', 'current_user', 'current_role', 'user', 'session_user',
  'current_connection_id', 'current_transaction_id', 'in_search_path',
  'duckdb_functions', 'duckdb_settings', 'duckdb_tables', 'duckdb_secrets',
  'pragma_table_info', 'pragma_version', 'which_secret', 'txid_current',
  'get_block_size', 'vector_type', 'alias', 'get_type', 'make_type',
  'sql_auto_complete', 'checkpoint', 'force_checkpoint',
  // sequences, RNG seeding, errors, logs, stats, sleeping
  'nextval', 'currval', 'setseed', 'error', 'write_log',
  'parse_duckdb_log_message', 'stats', 'sleep_ms', 'pg_sleep',
  // pg_catalog compatibility helpers
  'pg_typeof', 'pg_get_viewdef', 'pg_get_constraintdef', 'pg_size_pretty',
  'has_table_privilege', 'has_column_privilege', 'has_schema_privilege',
  'col_description', 'obj_description', 'shobj_description',
  'format_pg_type', 'format_type', 'map_to_pg_oid',
  // enum helpers (they reference catalog types)
  'enum_range', 'enum_range_boundary', 'enum_code', 'enum_first', 'enum_last',
  // aggregate-state plumbing
  'finalize', 'combine', 'export_state',
  // test / internal
  'test_all_types', 'test_vector_types', 'unpivot_list', 'sum_no_overflow',
  '__internal_compress_string_ubigint', 'icu_sort_key', 'icu_collate_de',
];

/** Catalog functions whose names start with these are all forbidden. */
const FORBIDDEN_PREFIX = /^(read_|duckdb_|pragma_|parquet_|pg_|has_.*_privilege$|test_|icu_|enum_|__internal|current_(setting|query|schema|database|catalog|user|role|connection|transaction)|json_(serialize|deserialize|execute))/;

/** Test requirement (4). */
const NEVER_ALLOWLISTED = /^(read_|duckdb_|pragma_|parquet_|glob|sniff|query|current_setting|getvariable)/;

/**
 * Allowlisted names that are not registered as scalar/aggregate/macro
 * functions: `unnest` is a table function that the binder special-cases when
 * it appears in a select list.
 */
const SPECIAL_CASED = new Set(['unnest']);

/** Aggregates in the catalog that are not allowlisted but are still harmless if reached through list_aggregate(l, 'name'). */
const HARMLESS_UNLISTED_AGGREGATES = new Set(['sum_no_overflow']);

let instance: DuckDBInstance;
let conn: DuckDBConnection;
/** lower-case function name -> set of function_type values */
const catalog = new Map<string, Set<string>>();

async function functionNamesIn(sql: string): Promise<string[]> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const cell = reader.getRowsJson()[0]?.[0];
  assert.equal(typeof cell, 'string');
  const ast: unknown = JSON.parse(cell as string);
  const names: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) walk(child);
    } else if (node !== null && typeof node === 'object') {
      const rec = node as Record<string, unknown>;
      if ((rec['class'] === 'FUNCTION' || rec['class'] === 'WINDOW') && typeof rec['function_name'] === 'string') {
        names.push(rec['function_name']);
      }
      for (const child of Object.values(rec)) walk(child);
    }
  };
  const root = ast as Record<string, unknown>;
  assert.notEqual(root['error'], true, `failed to parse ${sql}: ${String(root['error_message'])}`);
  walk(root['statements']);
  return names;
}

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  const version = (await conn.runAndReadAll('SELECT version()')).getRowsJson()[0]?.[0];
  assert.match(String(version), /^v1\.5\./, 'allowlist was reviewed against DuckDB v1.5.6; re-review it for other minor versions');
  const reader = await conn.runAndReadAll(
    'SELECT DISTINCT lower(function_name), function_type FROM duckdb_functions()',
  );
  for (const [name, type] of reader.getRowsJson()) {
    assert.equal(typeof name, 'string');
    assert.equal(typeof type, 'string');
    const types = catalog.get(name as string) ?? new Set<string>();
    types.add(type as string);
    catalog.set(name as string, types);
  }
});

after(() => {
  conn?.closeSync();
  instance?.closeSync();
});

describe('ALLOWED_FUNCTIONS', () => {
  test('every name is stored lower-case (ASCII)', () => {
    for (const name of ALLOWED_FUNCTIONS) {
      assert.equal(name, name.replace(/[A-Z]/g, (c) => c.toLowerCase()), name);
      assert.match(name, /^[\x21-\x7e]+$/, name);
    }
  });

  test('every name exists as a scalar/aggregate/macro in duckdb_functions() (catches typos)', () => {
    const missing: string[] = [];
    for (const name of ALLOWED_FUNCTIONS) {
      const types = catalog.get(name);
      if (SPECIAL_CASED.has(name)) {
        assert.ok(types, `${name} should exist in duckdb_functions()`);
        continue;
      }
      if (!types || !(types.has('scalar') || types.has('aggregate') || types.has('macro'))) {
        missing.push(`${name} (${types ? [...types].join(',') : 'absent'})`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('every operator name is what DuckDB actually emits for its syntax', async () => {
    const operators = [...ALLOWED_FUNCTIONS].filter((n) => !/^[a-z_]/.test(n) || n === '!__postfix');
    assert.ok(operators.length > 20);
    for (const op of operators) {
      const example = OPERATOR_EXAMPLES[op];
      assert.ok(example !== undefined, `no example query for operator ${op}`);
      const names = await functionNamesIn(`SELECT ${example} FROM t`);
      assert.ok(names.includes(op), `${example} serialized as [${names.join(', ')}], expected ${op}`);
    }
  });

  test('special-cased unnest is serialized as a FUNCTION node in a select list', async () => {
    assert.deepEqual(await functionNamesIn('SELECT unnest(a) FROM t'), ['unnest']);
  });

  test('none of the forbidden names is allowed', () => {
    for (const name of FORBIDDEN) {
      assert.equal(isAllowedFunction(name), false, name);
      assert.equal(isAllowedFunction(name.toUpperCase()), false, name.toUpperCase());
    }
  });

  test('no catalog function with a forbidden prefix is allowed', () => {
    const forbiddenInCatalog = [...catalog.keys()].filter((n) => FORBIDDEN_PREFIX.test(n));
    assert.ok(forbiddenInCatalog.length > 100, 'prefix pattern should match many catalog functions');
    for (const name of forbiddenInCatalog) assert.equal(isAllowedFunction(name), false, name);
  });

  test('no table-only, pragma or table-macro function is allowed (except special cases)', () => {
    for (const name of ALLOWED_FUNCTIONS) {
      if (SPECIAL_CASED.has(name)) continue;
      const types = catalog.get(name);
      if (!types) continue; // reported by the existence test
      const callable = types.has('scalar') || types.has('aggregate') || types.has('macro');
      assert.ok(callable, `${name} is only a ${[...types].join('/')} function`);
    }
  });

  test('no allowlisted name matches the never-allowlisted prefixes', () => {
    for (const name of ALLOWED_FUNCTIONS) assert.doesNotMatch(name, NEVER_ALLOWLISTED, name);
  });

  test('every catalog aggregate is reviewed (list_aggregate takes an aggregate name as a string)', () => {
    const unreviewed = [...catalog.entries()]
      .filter(([name, types]) => types.has('aggregate') && !ALLOWED_FUNCTIONS.has(name) && !HARMLESS_UNLISTED_AGGREGATES.has(name))
      .map(([name]) => name);
    assert.deepEqual(unreviewed, []);
  });

  test('the set cannot be modified', () => {
    assert.throws(() => (ALLOWED_FUNCTIONS as Set<string>).add('read_csv'));
    assert.throws(() => (ALLOWED_FUNCTIONS as Set<string>).delete('sum'));
    assert.throws(() => (ALLOWED_FUNCTIONS as Set<string>).clear());
    assert.equal(isAllowedFunction('read_csv'), false);
    assert.equal(isAllowedFunction('sum'), true);
  });
});

describe('isAllowedFunction', () => {
  test('is case-insensitive', () => {
    for (const name of ['upper', 'UPPER', 'Upper', 'uPpEr']) assert.equal(isAllowedFunction(name), true, name);
    for (const name of ['count_star', 'COUNT_STAR', 'Row_Number', 'FORMATREADABLESIZE', 'formatReadableSize', 'List_Transform']) {
      assert.equal(isAllowedFunction(name), true, name);
    }
    for (const name of ['READ_CSV', 'Read_Parquet', 'GetVariable', 'CURRENT_SETTING', 'Query']) {
      assert.equal(isAllowedFunction(name), false, name);
    }
  });

  test('folds ASCII only, like DuckDB', () => {
    // U+212A KELVIN SIGN lower-cases to "k" in JavaScript but not in DuckDB.
    assert.equal(isAllowedFunction('\u212Aurtosis'), false);
    assert.equal(isAllowedFunction('kurtosis'), true);
    assert.equal(isAllowedFunction(''), false);
    assert.equal(isAllowedFunction(' sum'), false);
  });

  test('accepts the function names produced by typical analytical queries', async () => {
    const queries = [
      'SELECT count(*), count(DISTINCT a), sum(b) FILTER (WHERE b > 0), avg(c), min(d), max(d) FROM t GROUP BY ALL',
      "SELECT date_trunc('month', ts), EXTRACT(year FROM ts), ts AT TIME ZONE 'UTC', strftime(ts, '%Y'), ts + INTERVAL 1 DAY, now(), today() FROM t",
      "SELECT upper(s), lower(s), s || 'x', s LIKE 'a%', s ILIKE 'a%', s NOT LIKE 'a%' ESCAPE '!', s SIMILAR TO 'a.*', regexp_extract(s, 'a(b)', 1), lpad(s, 5, '0'), format('{}', s), string_split(s, ',') FROM t",
      'SELECT row_number() OVER w, rank() OVER w, lag(a, 1) OVER w, sum(a) OVER w, first_value(a) OVER w, ntile(4) OVER w FROM t WINDOW w AS (ORDER BY a)',
      'SELECT list_transform(l, x -> x + 1), list_filter(l, lambda x: x > 1), [1, 2, 3], {\'k\': 1}, l[1], l[1:2], list_sum(l), unnest(l) FROM t',
      "SELECT j ->> '$.a', j -> 'a', json_extract(j, '$.b'), md5(s), sha256(s), hash(s), nullif(a, 0), greatest(a, b), coalesce(a, b) FROM t",
      'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a), median(a), quantile_cont(a, 0.9), string_agg(s, \',\' ORDER BY s), list(a ORDER BY a), arg_max(a, b), approx_count_distinct(a) FROM t',
    ];
    for (const sql of queries) {
      const names = await functionNamesIn(sql);
      assert.ok(names.length > 0);
      for (const name of names) assert.equal(isAllowedFunction(name), true, `${name} from: ${sql}`);
    }
  });

  test('rejects the function names produced by dangerous queries', async () => {
    const queries: [string, string][] = [
      ["SELECT current_setting('home_directory')", 'current_setting'],
      ["SELECT getvariable('x')", 'getvariable'],
      ['SELECT current_schema()', 'current_schema'],
      ["SELECT json_execute_serialized_sql('{}')", 'json_execute_serialized_sql'],
      ["SELECT nextval('seq')", 'nextval'],
      ["SELECT error('boom')", 'error'],
      ["SELECT write_log('x')", 'write_log'],
      ['SELECT stats(a) FROM t', 'stats'],
      ['SELECT setseed(0.5)', 'setseed'],
      ["SELECT a.read_csv() FROM t", 'read_csv'],
      ['SELECT pg_catalog.pg_typeof(a) FROM t', 'pg_typeof'],
    ];
    for (const [sql, expected] of queries) {
      const names = await functionNamesIn(sql);
      assert.ok(names.includes(expected), `${sql} -> [${names.join(', ')}]`);
      assert.equal(isAllowedFunction(expected), false, expected);
    }
  });
});
