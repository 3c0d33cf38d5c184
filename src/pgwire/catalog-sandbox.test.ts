import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogSandboxEngine, chunkRowsJson, type Json } from '../engine/index.ts';
import { InvalidSqlError, NotFoundError, QueryTimeoutError, SqlNotAllowedError, VeilError } from '../errors/index.ts';
import { CatalogSandbox, type CatalogSession, type CatalogSnapshot } from './catalog-sandbox.ts';
import { DBEAVER, METABASE, PGJDBC, PGJDBC_TYPE_LOOKUP, PSQL, PSQL_OTHER, type ClientQuery } from './pg-catalog-client-queries.ts';
import { CATALOG_RELATIONS } from './pg-catalog-relations.ts';
import { formatPgType, pgColumnType, PG_SCALAR_TYPES, PG_TYPES } from './pg-types.ts';

/**
 * The catalog sandbox against the SQL real clients send (pg-catalog-client-queries.ts), on a real
 * DuckDB. What a caller may not see is simply absent from the snapshot it is opened with; the
 * tests check that nothing else shows up anywhere, and that nothing outside the sandbox is reachable.
 */

/** The full catalog, before policies: `secret` is a hidden database, `ssn` and `internal_notes` hidden columns. */
const FULL: CatalogSnapshot = {
  schemas: [
    { name: 'drug_xyz', description: 'Drug XYZ trials' },
    { name: 'oncology', description: '' },
    { name: 'secret', description: 'hidden database' },
  ],
  tables: [
    {
      schema: 'drug_xyz', name: 'trial_july2020', description: 'July 2020 trial',
      columns: [
        { name: 'patient_id', type: 'INTEGER', description: '' },
        { name: 'name', type: 'VARCHAR', description: '' },
        { name: 'dose', type: 'DECIMAL(10,2)', description: 'dose in mg' },
        { name: 'visit', type: 'DATE', description: '' },
        { name: 'tags', type: 'VARCHAR[]', description: '' },
        { name: 'ssn', type: 'VARCHAR', description: 'social security number' },
      ],
    },
    { schema: 'drug_xyz', name: 'sites', description: '', columns: [{ name: 'site_id', type: 'BIGINT', description: '' }, { name: 'city', type: 'VARCHAR', description: '' }] },
    {
      schema: 'oncology', name: 'cases', description: '',
      columns: [
        { name: 'case_id', type: 'INTEGER', description: '' }, { name: 'created', type: 'TIMESTAMP', description: '' },
        { name: 'flag', type: 'BOOLEAN', description: '' }, { name: 'score', type: 'DOUBLE', description: '' },
        { name: 'internal_notes', type: 'VARCHAR', description: 'hidden notes' },
      ],
    },
    { schema: 'drug_xyz', name: 'secret_adverse_events', description: 'hidden table', columns: [{ name: 'event', type: 'VARCHAR', description: '' }] },
    { schema: 'secret', name: 'payroll', description: '', columns: [{ name: 'salary', type: 'DOUBLE', description: '' }] },
  ],
};
const HIDDEN = ['secret', 'ssn', 'internal_notes', 'payroll', 'salary', 'social security', 'hidden'];

/** What the caller sees: the policy layer's output, which the door hands to the sandbox. */
const VISIBLE: CatalogSnapshot = {
  schemas: FULL.schemas.filter((s) => s.name !== 'secret'),
  tables: FULL.tables
    .filter((t) => t.schema !== 'secret' && t.name !== 'secret_adverse_events')
    .map((t) => ({ ...t, columns: t.columns.filter((c) => c.name !== 'ssn' && c.name !== 'internal_notes') })),
};

function session(overrides: Partial<Omit<CatalogSession, 'setting'>> & { settings?: Record<string, string> } = {}): CatalogSession {
  const settings = overrides.settings ?? {};
  return {
    user: overrides.user ?? 'alice',
    database: overrides.database ?? 'veil',
    searchPath: overrides.searchPath ?? ['"$user"', 'public'],
    serverVersion: overrides.serverVersion ?? '15.0 (Veil 0.1.0)',
    setting: (name) => settings[name],
  };
}

let sandbox: CatalogSandbox;
let openMs = 0;

before(async () => {
  const started = performance.now();
  sandbox = await CatalogSandbox.open(VISIBLE);
  openMs = performance.now() - started;
});
after(async () => {
  await sandbox.close();
  await CatalogSandbox.discardSpare();
});

interface Result {
  readonly columns: string[];
  readonly rows: Json[][];
}

async function query(sql: string, params: readonly (string | null)[] = [], s: CatalogSession = session(), target: CatalogSandbox = sandbox): Promise<Result> {
  const stream = await target.run(sql, params, s, { timeoutMs: 10_000 });
  const rows: Json[][] = [];
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) rows.push(...chunkRowsJson(chunk));
  } finally {
    stream.close();
  }
  return { columns: stream.columns.map((c) => c.name), rows };
}

const run = (q: ClientQuery, s?: CatalogSession): Promise<Result> => query(q.sql, q.params, s);

async function rejects(sql: string, expected: new (...args: never[]) => VeilError = VeilError): Promise<VeilError> {
  try {
    await query(sql);
  } catch (error) {
    assert.ok(error instanceof expected, `${sql}: expected ${expected.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected a rejection: ${sql}`);
}

async function oidOf(relation: string): Promise<number> {
  const { rows } = await query(`SELECT '${relation}'::regclass::oid`);
  return Number(rows[0]?.[0]);
}

test('open() builds the sandbox quickly (target well under 100 ms for ~50 tables)', async () => {
  const tables = Array.from({ length: 50 }, (_, i) => ({
    schema: `db${i % 5}`, name: `dataset_${i}`, description: `dataset ${i}`,
    columns: Array.from({ length: 10 }, (__, k) => ({ name: `c${k}`, type: ['INTEGER', 'VARCHAR', 'DECIMAL(12,3)', 'DATE', 'TIMESTAMP'][k % 5] ?? 'VARCHAR', description: '' })),
  }));
  const snapshot: CatalogSnapshot = { schemas: Array.from({ length: 5 }, (_, i) => ({ name: `db${i}`, description: '' })), tables };
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Give the background preparation of the next sandbox's emulated catalog time to finish.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = performance.now();
    const big = await CatalogSandbox.open(snapshot);
    times.push(performance.now() - started);
    const { rows } = await query(`SELECT count(*) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'db%'`, [], session(), big);
    assert.equal(Number(rows[0]?.[0]), 500);
    await big.close();
  }
  const queryStarted = performance.now();
  for (let i = 0; i < 20; i++) await run(PGJDBC.getTables);
  const perQuery = (performance.now() - queryStarted) / 20;
  console.log(`open(): cold ${openMs.toFixed(0)} ms (includes the once-per-process catalog description), 50 tables with a prepared spare ${times.map((t) => t.toFixed(0)).join('/')} ms; JDBC getTables ${perQuery.toFixed(1)} ms`);
  assert.ok(Math.min(...times) < 1000, `open() took ${times.join(', ')} ms`);
});

test('psql \\dn lists exactly the visible schemas; \\dnS adds pg_catalog and information_schema', async () => {
  assert.deepEqual((await query(PSQL.dn)).rows, [['drug_xyz', 'alice'], ['oncology', 'alice']]);
  assert.deepEqual((await query(PSQL.dnS)).rows.map((r) => r[0]), ['drug_xyz', 'information_schema', 'oncology', 'pg_catalog']);
});

test('psql \\dt *.* lists the visible tables (and pg_catalog\'s, as PostgreSQL does)', async () => {
  const { columns, rows } = await query(PSQL.dtAll);
  assert.deepEqual(columns, ['Schema', 'Name', 'Type', 'Owner']);
  assert.deepEqual(rows.filter((r) => r[0] !== 'pg_catalog'), [
    ['drug_xyz', 'sites', 'table', 'alice'],
    ['drug_xyz', 'trial_july2020', 'table', 'alice'],
    ['oncology', 'cases', 'table', 'alice'],
  ]);
  assert.ok(rows.some((r) => r[0] === 'pg_catalog' && r[1] === 'pg_class'));
});

test('psql \\dt and \\d follow search_path and pg_table_is_visible', async () => {
  assert.deepEqual((await query(PSQL.dt)).rows, []);
  const onPath = session({ searchPath: ['drug_xyz'] });
  assert.deepEqual((await query(PSQL.dt, [], onPath)).rows.map((r) => r[1]), ['sites', 'trial_july2020']);
  assert.deepEqual((await query(PSQL.d, [], onPath)).rows.map((r) => r[1]), ['sites', 'trial_july2020']);
});

test('psql \\d drug_xyz.trial_july2020: every query runs; columns with PostgreSQL type names', async () => {
  const lookup = await query(PSQL.dTableLookup);
  assert.equal(lookup.rows.length, 1);
  const [oid, schema, name] = lookup.rows[0] ?? [];
  assert.deepEqual([schema, name], ['drug_xyz', 'trial_july2020']);
  const withOid = (sql: string): string => sql.replaceAll("'16387'", `'${String(oid)}'`);
  const header = await query(withOid(PSQL.dTableHeader));
  assert.equal(header.rows[0]?.[1], 'r');
  const columns = await query(withOid(PSQL.dColumns));
  assert.deepEqual(columns.rows.map((r) => [r[0], r[1], r[3]]), [
    ['patient_id', 'integer', false],
    ['name', 'text', false],
    ['dose', 'numeric(10,2)', false],
    ['visit', 'date', false],
    ['tags', 'text[]', false],
  ]);
  for (const sql of [PSQL.dPolicies, PSQL.dStatistics, PSQL.dPublications, PSQL.dInheritsParents, PSQL.dInheritsChildren]) {
    assert.deepEqual((await query(withOid(sql))).rows, []);
  }
  const plus = await query(withOid(PSQL.dPlusColumns));
  assert.equal(plus.columns.at(-1), 'col_description');
  assert.deepEqual(plus.rows.map((r) => r.at(-1)), [null, null, 'dose in mg', null, null]);
  assert.equal((await query(withOid(PSQL.dPlusTableHeader))).rows[0]?.at(-1), 'heap');
});

test('psql \\dt+ and \\l show descriptions and the startup database', async () => {
  const { rows } = await query(PSQL.dtPlusPattern);
  assert.deepEqual(rows.map((r) => [r[1], r.at(-1)]), [['sites', null], ['trial_july2020', 'July 2020 trial']]);
  assert.deepEqual((await query(PSQL.l)).rows.map((r) => r.slice(0, 3)), [['veil', 'alice', 'UTF8']]);
});

test('psql\'s other describe commands (\\df, \\dv, \\di, \\dT, \\du, \\dx, \\dp, \\dd, \\dL, \\dO, …) run', async () => {
  const oid = await oidOf('pg_catalog.pg_class');
  for (const sql of PSQL_OTHER) await query(sql.replaceAll("'16387'", `'${oid}'`));
  const roles = await query(PSQL_OTHER.find((sql) => sql.includes('r.rolname')) ?? '');
  assert.equal(roles.rows[0]?.[0], 'alice');
});

test('pgJDBC getCatalogs/getSchemas/getTables with parameters bound', async () => {
  assert.deepEqual((await run(PGJDBC.getCatalogs)).rows, [['veil']]);
  assert.deepEqual((await run(PGJDBC.getSchemas)).rows, [['drug_xyz', 'veil'], ['information_schema', 'veil'], ['oncology', 'veil'], ['pg_catalog', 'veil']]);
  assert.deepEqual((await run(PGJDBC.getSchemasPattern)).rows, [['drug_xyz', 'veil']]);
  const tables = await run(PGJDBC.getTables);
  assert.deepEqual(tables.columns.slice(0, 5), ['TABLE_CAT', 'TABLE_SCHEM', 'TABLE_NAME', 'TABLE_TYPE', 'REMARKS']);
  assert.deepEqual(tables.rows.map((r) => r.slice(0, 5)), [
    ['veil', 'drug_xyz', 'sites', 'TABLE', null],
    ['veil', 'drug_xyz', 'trial_july2020', 'TABLE', 'July 2020 trial'],
  ]);
  // A metadata pattern with an escaped underscore (Metabase escapes them) matches literally.
  const escaped = await query(PGJDBC.getTables.sql, ['drug\\_xyz', 'trial\\_july2020']);
  assert.deepEqual(escaped.rows.map((r) => r[2]), ['trial_july2020']);
  const all = await run(PGJDBC.getTablesAll);
  assert.deepEqual(all.rows.filter((r) => r[3] === 'TABLE').map((r) => `${String(r[1])}.${String(r[2])}`), ['drug_xyz.sites', 'drug_xyz.trial_july2020', 'oncology.cases']);
  assert.ok(all.rows.some((r) => r[3] === 'SYSTEM TABLE' && r[2] === 'pg_class'));
});

test('pgJDBC getColumns: the visible columns with the OIDs and modifiers results are announced with', async () => {
  const { columns, rows } = await run(PGJDBC.getColumns);
  const at = (name: string): number => columns.indexOf(name);
  assert.deepEqual(rows.map((r) => [r[at('attname')], r[at('atttypid')], r[at('atttypmod')], r[at('attnum')], r[at('description')]]), [
    ['patient_id', PG_SCALAR_TYPES.int4.oid, -1, '1', null],
    ['name', PG_SCALAR_TYPES.text.oid, -1, '2', null],
    ['dose', PG_SCALAR_TYPES.numeric.oid, ((10 << 16) | 2) + 4, '3', 'dose in mg'],
    ['visit', PG_SCALAR_TYPES.date.oid, -1, '4', null],
    ['tags', 1009, -1, '5', null],
  ]);
  // The same mapping as the data path: the sandbox's own (empty) table announces the same types.
  const data = await sandbox.describe('SELECT * FROM drug_xyz.trial_july2020', session());
  assert.deepEqual(data.columns.map((c) => [pgColumnType(c).type.oid, pgColumnType(c).modifier]), rows.map((r) => [r[at('atttypid')], r[at('atttypmod')]]));
});

test('pgJDBC getPrimaryKeys, getImportedKeys, getIndexInfo and max_index_keys run (no keys, no indexes)', async () => {
  assert.deepEqual((await run(PGJDBC.getPrimaryKeys)).rows, []);
  assert.deepEqual((await run(PGJDBC.getImportedKeys)).rows, []);
  assert.deepEqual((await run(PGJDBC.getIndexInfo)).rows, []);
  assert.deepEqual((await run(PGJDBC.maxIndexKeys)).rows, [['32']]);
  assert.deepEqual((await run(PGJDBC.currentCatalog)).columns, ['current_catalog']);
});

test('pgJDBC type lookups answer the OIDs of int4, _int4 and friends', async () => {
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.oidByName)).rows, [[23, 'int4']]);
  assert.deepEqual((await query(PGJDBC_TYPE_LOOKUP.oidByName.sql, ['_int4'])).rows, [[1007, '_int4']]);
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.arrayOidByName)).rows, [[1007, '_int4']]);
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.oidByQualifiedName)).rows, [[1700, 'numeric']]);
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.sqlTypeByOid)).rows, [[true, 'b', '_int4', 1007]]);
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.typeNameByOid)).rows, [[true, 'pg_catalog', 'numeric']]);
  assert.deepEqual((await run(PGJDBC_TYPE_LOOKUP.arrayDelimiter)).rows, [[',']]);
  const arrays = await run(PGJDBC.getTypeInfoArrays);
  assert.ok(arrays.rows.some((r) => r[2] === '_int4' && r[0] === true && r[3] === 1007));
  assert.ok(arrays.rows.some((r) => r[2] === 'int4' && r[0] === false));
  const types = await run(PGJDBC.getTypeInfoTypes);
  for (const type of PG_TYPES) assert.ok(types.rows.some((r) => r[0] === type.name && r[1] === type.oid), type.name);
});

test('SELECT pg_catalog.version() is PostgreSQL 15 as SQLAlchemy parses it', async () => {
  const { columns, rows } = await query('select pg_catalog.version()');
  assert.deepEqual(columns, ['version']);
  assert.match(String(rows[0]?.[0]), /^PostgreSQL 15\.0 \(Veil 0\.1\.0\) on /);
  assert.match(String(rows[0]?.[0]), /PostgreSQL (\d+)\.(\d+)/);
});

test('DBeaver: every query runs; pg_namespace with descriptions through \'pg_namespace\'::regclass', async () => {
  for (const sql of DBEAVER) await query(sql);
  const namespaces = await query(DBEAVER[1] ?? '');
  assert.deepEqual(namespaces.rows.map((r) => [r[2], r.at(-1)]), [['drug_xyz', 'Drug XYZ trials'], ['information_schema', null], ['oncology', null], ['pg_catalog', null]]);
  assert.deepEqual((await query('SELECT current_schema(),session_user')).rows, [[null, 'alice']]);
  assert.deepEqual((await query('SHOW search_path')).rows, [['"$user", public']]);
  assert.deepEqual((await query(`SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'`)).rows.map((r) => r.slice(0, 2)), [['standard_conforming_strings', 'on']]);
});

test('Metabase: every query runs; tables, privileges and column descriptions come back', async () => {
  for (const q of METABASE) await run(q);
  const privileges = await run(METABASE[2] ?? { sql: '', params: [] });
  assert.deepEqual(privileges.columns, ['role', 'schema', 'table', 'update', 'select', 'insert', 'delete']);
  assert.deepEqual(
    privileges.rows.map((r) => [r[1], r[2], r[3], r[4], r[5], r[6]]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    [['oncology', 'cases', false, true, false, false], ['drug_xyz', 'sites', false, true, false, false], ['drug_xyz', 'trial_july2020', false, true, false, false]],
  );
  const fields = await run(METABASE[6] ?? { sql: '', params: [] });
  assert.deepEqual(fields.rows.filter((r) => r[4] === 'trial_july2020').map((r) => [r[0], r[1], r[2], r[6]]), [
    ['patient_id', 'int4', 0, null], ['name', 'text', 1, null], ['dose', 'numeric', 2, 'dose in mg'], ['visit', 'date', 3, null], ['tags', '_text', 4, null],
  ]);
  assert.deepEqual((await run(METABASE[0] ?? { sql: '', params: [] })).rows, [['read committed']]);
  const timezone = await query('show timezone', [], session({ settings: { TimeZone: 'Europe/Paris' } }));
  assert.deepEqual(timezone, { columns: ['TimeZone'], rows: [['Europe/Paris']] });
});

test('SQLAlchemy 2 reflection: fully qualified column references, ANY(ARRAY[…]), json_build_object, regclass::text', async () => {
  const tables = await query(`SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = $1 ORDER BY 1`, ['drug_xyz']);
  assert.deepEqual(tables.rows, [['sites'], ['trial_july2020']]);
  const columns = await query(`SELECT pg_catalog.pg_attribute.attname AS name, pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) AS format_type, (SELECT pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1 FROM pg_catalog.pg_attrdef WHERE pg_catalog.pg_attrdef.adrelid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = pg_catalog.pg_attribute.attnum AND pg_catalog.pg_attribute.atthasdef) AS "default", pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS generated, (SELECT json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', pg_catalog.pg_sequence.seqstart) AS json_build_object_1 FROM pg_catalog.pg_sequence WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) AS identity_options FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = $1 AND pg_catalog.pg_class.relname IN ($2) ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum`, ['drug_xyz', 'trial_july2020']);
  assert.deepEqual(columns.rows.map((r) => [r[0], r[1], r[5]]), [['patient_id', 'integer', null], ['name', 'text', null], ['dose', 'numeric(10,2)', 'dose in mg'], ['visit', 'date', null], ['tags', 'text[]', null]]);
});

test('information_schema: schemata, tables and columns with PostgreSQL data_type names', async () => {
  const columns = await query(`SELECT column_name, ordinal_position, is_nullable, data_type, udt_name, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = 'drug_xyz' AND table_name = 'trial_july2020' ORDER BY ordinal_position`);
  assert.deepEqual(columns.rows, [
    ['patient_id', 1, 'YES', 'integer', 'int4', 32, 0],
    ['name', 2, 'YES', 'text', 'text', null, null],
    ['dose', 3, 'YES', 'numeric', 'numeric', 10, 2],
    ['visit', 4, 'YES', 'date', 'date', null, null],
    ['tags', 5, 'YES', 'ARRAY', '_text', null, null],
  ]);
  const tables = await query(`SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 2, 3`);
  assert.deepEqual(tables.rows, [['veil', 'drug_xyz', 'sites', 'BASE TABLE'], ['veil', 'drug_xyz', 'trial_july2020', 'BASE TABLE'], ['veil', 'oncology', 'cases', 'BASE TABLE']]);
  assert.deepEqual((await query(`SELECT schema_name FROM information_schema.schemata ORDER BY 1`)).rows.map((r) => r[0]), ['drug_xyz', 'information_schema', 'oncology', 'pg_catalog']);
});

test('a hidden schema, table or column never appears in any catalog relation or function', async () => {
  const dumps: string[] = [];
  for (const relation of CATALOG_RELATIONS) {
    const { rows } = await query(`SELECT * FROM ${relation.schema}.${relation.name}`);
    dumps.push(JSON.stringify(rows));
  }
  const everything = dumps.join('\n').toLowerCase();
  for (const word of HIDDEN) assert.ok(!everything.includes(word), `"${word}" leaked into the catalog`);
  await rejects(`SELECT 'secret.payroll'::regclass`, NotFoundError);
  await rejects(`SELECT 'drug_xyz.secret_adverse_events'::regclass`, NotFoundError);
  await rejects(`SELECT * FROM secret.payroll`, NotFoundError);
  await rejects(`SELECT ssn FROM drug_xyz.trial_july2020`, VeilError);
  assert.deepEqual((await query(`SELECT has_table_privilege('alice', 'drug_xyz.trial_july2020', 'select'), to_regclass('secret.payroll'), has_schema_privilege(to_regnamespace('secret')::int, 'usage')`)).rows, [[true, null, false]]);
});

test('reg* casts: regclass by name (qualified or along the path), catalog relations, oid → name', async () => {
  const trial = await oidOf('drug_xyz.trial_july2020');
  assert.equal(await oidOf('pg_namespace'), 2615);
  assert.equal(await oidOf('pg_catalog.pg_class'), 1259);
  assert.equal(await oidOf('information_schema.columns'), 13295);
  const { rows } = await query(`SELECT oid FROM pg_catalog.pg_class WHERE relname = 'trial_july2020'`);
  assert.equal(rows[0]?.[0], trial);
  // ::oid is DuckDB's BIGINT.
  assert.deepEqual((await query(`SELECT 'trial_july2020'::regclass::oid`, [], session({ searchPath: ['drug_xyz'] }))).rows, [[String(trial)]]);
  assert.deepEqual((await query(`SELECT '"drug_xyz"."trial_july2020"'::regclass = ${trial}`)).rows, [[true]]);
  assert.deepEqual((await query(`SELECT c.oid::regclass FROM pg_class c WHERE c.oid IN (${trial}, 1259) ORDER BY 1`)).rows, [['drug_xyz.trial_july2020'], ['pg_class']]);
  assert.equal(Number((await query(`SELECT $1::regclass::oid`, ['drug_xyz.sites'])).rows[0]?.[0]), await oidOf('drug_xyz.sites'));
  assert.deepEqual((await query(`SELECT 'int4'::regtype, 'integer'::regtype, 'text[]'::regtype, 23::regtype, 'pg_catalog'::regnamespace, 11::regnamespace`)).rows, [[23, 23, 1009, 'integer', 11, 'pg_catalog']]);
  assert.deepEqual((await query(`SELECT typname FROM pg_type WHERE typinput = 'pg_catalog.array_in'::regproc AND oid = 1007`)).rows, [['_int4']]);
  await rejects(`SELECT 'no_such_table'::regclass`, NotFoundError);
});

test('format_type agrees with formatPgType for every type results are announced with', async () => {
  for (const type of PG_TYPES) {
    const { rows } = await query(`SELECT format_type(${type.oid}, NULL), pg_catalog.format_type(${type.oid}, -1)`);
    const expected = formatPgType({ type, modifier: -1 });
    assert.deepEqual(rows, [[expected, expected]], type.name);
  }
  assert.deepEqual((await query(`SELECT format_type(1700, ${((12 << 16) | 3) + 4}), format_type(999999, -1), format_type(NULL, -1)`)).rows, [['numeric(12,3)', '???', null]]);
});

test('session functions and settings are the session\'s', async () => {
  const s = session({ user: 'bob', database: 'analytics', searchPath: ['oncology', 'drug_xyz'], settings: { application_name: 'psql', DateStyle: 'ISO, DMY', backend_pid: '4242' } });
  const { columns, rows } = await query(
    `SELECT current_database(), current_catalog, current_schema(), current_schemas(false), current_schemas(true), current_user, session_user, user,
            current_setting('application_name'), current_setting('datestyle'), current_setting('server_version_num'), pg_backend_pid(), pg_is_in_recovery(),
            pg_get_userbyid(10), quote_ident('Mixed Case'), quote_ident('select'), quote_ident('plain'), pg_encoding_to_char(6), array_upper(ARRAY[4,5,6], 1), array_lower(ARRAY[]::int[], 1)`,
    [], s);
  assert.deepEqual(columns.slice(0, 9), ['current_database', 'current_catalog', 'current_schema', 'current_schemas', 'current_schemas', 'current_user', 'session_user', 'user', 'current_setting']);
  assert.deepEqual(rows, [[
    'analytics', 'analytics', 'oncology', ['oncology', 'drug_xyz'], ['pg_catalog', 'oncology', 'drug_xyz'], 'bob', 'bob', 'bob',
    'psql', 'ISO, DMY', '150000', 4242, false, 'bob', '"Mixed Case"', '"select"', 'plain', 'UTF8', 3, null,
  ]]);
  assert.deepEqual((await query(`SELECT setting FROM pg_settings WHERE name = 'server_version'`, [], s)).rows, [['15.0 (Veil 0.1.0)']]);
  assert.deepEqual((await query(`SELECT rolname FROM pg_roles UNION ALL SELECT usename FROM pg_user`, [], s)).rows, [['bob'], ['bob']]);
  await rejects(`SELECT current_setting('no_such_setting')`);
  assert.deepEqual((await query(`SELECT current_setting('no_such_setting', true)`)).rows, [[null]]);
  // An unqualified name resolves along search_path (pg_catalog first), as in PostgreSQL.
  assert.deepEqual((await query(`SELECT count(*) FROM cases`, [], s)).rows, [['0']]);
});

test('PostgreSQL-only syntax: OPERATOR(pg_catalog.~), ::pg_catalog.text, COLLATE pg_catalog.default, arrays, _pg_expandarray, format()', async () => {
  assert.deepEqual((await query(`SELECT relname FROM pg_catalog.pg_class WHERE relname OPERATOR(pg_catalog.~) '^(sites)$' COLLATE pg_catalog.default`)).rows, [['sites']]);
  assert.deepEqual((await query(`SELECT 'pg_class'::pg_catalog.regclass::pg_catalog.text, 'x'::pg_catalog.name`)).rows, [['pg_class', 'x']]);
  assert.deepEqual((await query(`SELECT 'pg_catalog' ~ '^pg_', 'PG_X' ~* '^pg_', 'pg' !~ 'x'`)).rows, [[true, true, true]]);
  assert.deepEqual((await query(`SELECT '{a,"b c",NULL}'::text[], 1 = ANY('{1,2}'::int[])`)).rows, [[['a', 'b c', null], true]]);
  assert.deepEqual((await query(`SELECT (information_schema._pg_expandarray(ARRAY[10,20])).n, (information_schema._pg_expandarray(ARRAY[10,20])).x`)).rows, [[1, 10], [2, 20]]);
  assert.deepEqual((await query(`SELECT format('%I.%I = %L, %s%%', 'drug_xyz', 'Trial', 'it''s', NULL)`)).rows, [[`drug_xyz."Trial" = 'it''s', %`]]);
  // DuckDB's generate_series is BIGINT (PostgreSQL's follows its arguments): text '1', not 1.
  assert.deepEqual((await query(`SELECT s FROM pg_catalog.generate_series(1, 3) s`)).rows, [['1'], ['2'], ['3']]);
  assert.deepEqual((await query(`SELECT obj_description(${await oidOf('drug_xyz.trial_july2020')}, 'pg_class'), col_description('drug_xyz.trial_july2020'::regclass, 3)`)).rows, [['July 2020 trial', 'dose in mg']]);
});

test('describe: result columns and parameter type OIDs without running', async () => {
  const shape = await sandbox.describe(PGJDBC.getTables.sql, session());
  assert.deepEqual(shape.columns.slice(0, 4).map((c) => c.name), ['TABLE_CAT', 'TABLE_SCHEM', 'TABLE_NAME', 'TABLE_TYPE']);
  assert.deepEqual(shape.parameterTypeOids, [PG_SCALAR_TYPES.text.oid, PG_SCALAR_TYPES.text.oid]);
  const typed = await sandbox.describe(`SELECT oid FROM pg_type WHERE oid = $1 AND typname = $2 AND typisdefined = $3 LIMIT $4`, session());
  assert.deepEqual(typed.parameterTypeOids, [PG_SCALAR_TYPES.int4.oid, PG_SCALAR_TYPES.text.oid, PG_SCALAR_TYPES.bool.oid, PG_SCALAR_TYPES.int8.oid]);
  assert.deepEqual((await sandbox.describe('SELECT $1', session())).parameterTypeOids, [PG_SCALAR_TYPES.text.oid]);
  assert.deepEqual((await sandbox.describe('SELECT 1', session())).parameterTypeOids, []);
});

test('parameters are bound with the types DuckDB inferred; bad input gets PostgreSQL\'s message', async () => {
  assert.deepEqual((await query(`select $1::int4[] as a, $2::text as b`, ['{1,2}', 'x'])).rows, [[[1, 2], 'x']]);
  assert.deepEqual((await query(`SELECT typname FROM pg_type WHERE oid = $1`, ['23'])).rows, [['int4']]);
  assert.deepEqual((await query(`SELECT typname FROM pg_type WHERE oid = $1`, [null])).rows, []);
  const error = await query(`SELECT typname FROM pg_type WHERE oid = $1`, ['abc']).catch((e: unknown) => e);
  assert.ok(error instanceof VeilError);
  assert.match(error.message, /invalid input syntax for type integer: "abc"/);
});

test('only SELECT: files, COPY, ATTACH, SET, PRAGMA, INSTALL and DuckDB\'s own catalog are refused', async () => {
  await rejects(`SELECT * FROM read_csv('/etc/passwd')`, SqlNotAllowedError);
  await rejects(`SELECT * FROM read_text('/etc/passwd')`, SqlNotAllowedError);
  await rejects(`SELECT * FROM '/etc/passwd'`, NotFoundError);
  await rejects(`COPY (SELECT 1) TO '/tmp/veil-sandbox-escape.csv'`, SqlNotAllowedError);
  await rejects(`ATTACH '/tmp/veil-sandbox-escape.db' AS x`, SqlNotAllowedError);
  await rejects(`SET enable_external_access = true`, SqlNotAllowedError);
  await rejects(`PRAGMA version`, SqlNotAllowedError);
  await rejects(`INSTALL httpfs`, SqlNotAllowedError);
  await rejects(`CREATE TABLE x (a INT)`, SqlNotAllowedError);
  await rejects(`SELECT 1; SELECT 2`, SqlNotAllowedError);
  await rejects(`SELECT * FROM duckdb_settings()`, SqlNotAllowedError);
  await rejects(`SELECT * FROM duckdb_tables`, NotFoundError);
  await rejects(`SELECT * FROM system.main.duckdb_tables`, NotFoundError);
  await rejects(`SELECT * FROM main.duckdb_tables`, NotFoundError);
  await rejects(`SELECT * FROM veil_pg.pgcat.veil_settings`, NotFoundError);
  await rejects(`SELECT * FROM pg_catalog.veil_settings`, NotFoundError);
  await rejects(`SELECT current_setting('memory_limit')`);
  await rejects(`SELECT main.system.f()`, NotFoundError);
  await rejects(`SELCT 1`, InvalidSqlError);
  await rejects(``, InvalidSqlError);
});

test('defence in depth: the sandbox engine itself cannot read files, attach databases or change settings', async () => {
  const engine = await CatalogSandboxEngine.open(async (loader) => loader.run('CREATE TABLE t (a INTEGER)'));
  try {
    for (const sql of [
      `SELECT * FROM read_text('/etc/passwd')`,
      `SELECT * FROM read_csv('/etc/passwd')`,
      `COPY t TO '/tmp/veil-sandbox-escape.csv'`,
      `ATTACH '/tmp/veil-sandbox-escape.db' AS x`,
      `SET enable_external_access = true`,
      `SET lock_configuration = false`,
      `INSTALL httpfs`,
    ]) {
      const error = await engine.stream(sql, [], { timeoutMs: 5000 }).then(async (stream) => {
        try {
          while ((await stream.nextChunk()) !== null) { /* drain */ }
        } finally {
          stream.close();
        }
      }).catch((e: unknown) => e);
      assert.ok(error instanceof VeilError, `${sql} was allowed`);
    }
  } finally {
    await engine.close();
  }
});

test('errors name pg_catalog, never the emulation\'s internal schema', async () => {
  const error = await rejects(`SELECT no_such_column FROM pg_catalog.pg_class`);
  assert.doesNotMatch(error.message, /veil_pg|pgcat|infoschema/);
});

test('a runaway catalog query stops at its statement timeout; an abort interrupts it', async () => {
  const started = performance.now();
  const error = await sandbox
    .run(`SELECT count(*) FROM range(1000000000000) a`, [], session(), { timeoutMs: 200 })
    .then(async (stream) => {
      try {
        while ((await stream.nextChunk()) !== null) { /* drain */ }
      } finally {
        stream.close();
      }
    })
    .catch((e: unknown) => e);
  assert.ok(error instanceof QueryTimeoutError, String(error));
  assert.ok(performance.now() - started < 5000);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const aborted = await sandbox
    .run(`SELECT count(*) FROM range(1000000000000) a`, [], session(), { timeoutMs: 60_000, signal: controller.signal })
    .then(async (stream) => {
      try {
        while ((await stream.nextChunk()) !== null) { /* drain */ }
      } finally {
        stream.close();
      }
    })
    .catch((e: unknown) => e);
  assert.ok(aborted instanceof VeilError, String(aborted));
});

test('a snapshot with a reserved or odd name, an unknown type or a CTE named like a catalog table still works', async () => {
  const odd = await CatalogSandbox.open({
    schemas: [{ name: 'pg_catalog', description: '' }, { name: 'main', description: 'main db' }],
    tables: [
      { schema: 'main', name: 'weird', description: '', columns: [{ name: 'g', type: 'NO_SUCH_TYPE', description: '' }, { name: 'x', type: "INTEGER); SELECT 'x", description: '' }] },
      { schema: 'main', name: 'empty', description: '', columns: [] },
    ],
  });
  try {
    assert.deepEqual((await query(`SELECT nspname FROM pg_namespace ORDER BY 1`, [], session(), odd)).rows, [['information_schema'], ['main'], ['pg_catalog']]);
    assert.deepEqual((await query(`SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'main.weird'::regclass ORDER BY attnum`, [], session(), odd)).rows, [['g', 'text'], ['x', 'text']]);
    assert.deepEqual((await query(`SELECT relnatts FROM pg_class WHERE relname = 'empty'`, [], session(), odd)).rows, [[0]]);
    assert.deepEqual((await query(`WITH pg_class AS (SELECT 1 AS relname) SELECT relname FROM pg_class`, [], session(), odd)).rows, [[1]]);
    assert.deepEqual((await query(`WITH t AS (SELECT relname FROM pg_class WHERE relname = 'weird') SELECT * FROM t`, [], session(), odd)).rows, [['weird']]);
  } finally {
    await odd.close();
  }
});
