import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogSandboxEngine } from '../engine/index.ts';
import { parseLosslessJson } from '../util/lossless-json.ts';
import { rewritePgSyntax } from './pg-catalog-prepass.ts';
import { statementTarget, usesCatalogFunctions, type StatementTarget } from './statement-target.ts';
import { DBEAVER, METABASE, PGJDBC, PSQL, PSQL_OTHER } from './pg-catalog-client-queries.ts';

/** Routing of parsed statements (DuckDB's own parser, as the door uses it) between the catalog sandbox and the data pipeline. */
let parser: CatalogSandboxEngine;

before(async () => {
  parser = await CatalogSandboxEngine.open(async () => {});
});
after(async () => {
  await parser.close();
});

async function parse(sql: string): Promise<unknown> {
  const document = parseLosslessJson(await parser.serializeSql(rewritePgSyntax(sql)));
  assert.ok(typeof document === 'object' && document !== null && !Array.isArray(document) && (document as Record<string, unknown>)['error'] === false, sql);
  return document;
}

async function target(sql: string): Promise<StatementTarget> {
  return statementTarget(await parse(sql));
}

test('no table at all is none; whether it needs the sandbox is what usesCatalogFunctions says', async () => {
  for (const [sql, catalogOnly] of [
    ['SELECT 1', false],
    ['SELECT 1 + 1', false],
    ["SELECT lower('A'), now()", false],
    ['SELECT version()', true],
    ['select pg_catalog.version()', true],
    ['SELECT current_schema(), session_user', true],
    ['SELECT current_user', true],
    ['select current_catalog', true],
    ["SELECT current_setting('server_version_num')", true],
    ["SELECT 'pg_class'::regclass", true],
    ['SELECT pg_backend_pid()', true],
    ["SELECT has_table_privilege('x', 'select')", true],
    ['SELECT pg_catalog.format_type(23, -1)', true],
  ] as const) {
    const ast = await parse(sql);
    assert.equal(statementTarget(ast), 'none', sql);
    assert.equal(usesCatalogFunctions(ast), catalogOnly, sql);
  }
});

test('pg_catalog and information_schema relations, qualified or not, are catalog', async () => {
  assert.equal(await target('SELECT * FROM pg_catalog.pg_class'), 'catalog');
  assert.equal(await target('SELECT * FROM pg_class'), 'catalog');
  assert.equal(await target('SELECT * FROM "pg_catalog"."pg_namespace" n'), 'catalog');
  assert.equal(await target('SELECT * FROM information_schema.tables'), 'catalog');
  assert.equal(await target('SELECT * FROM veil.information_schema.columns'), 'catalog');
  assert.equal(await target('SELECT * FROM generate_series(1, 3)'), 'catalog');
  assert.equal(await target('SELECT string_agg(word, \',\') FROM pg_catalog.pg_get_keywords()'), 'catalog');
  // SHOW of a setting is answered by the session before routing; DESCRIBE/SUMMARIZE of a dataset
  // (the same syntax node) goes to the pipeline, as over HTTP.
  assert.equal(await target('DESCRIBE drug_xyz.trial_july2020'), 'data');
  assert.equal(await target('SUMMARIZE drug_xyz.trial_july2020'), 'data');
});

test('datasets are data; a join or subquery of a dataset with pg_class is mixed', async () => {
  assert.equal(await target('SELECT * FROM drug_xyz.trial_july2020'), 'data');
  assert.equal(await target('SELECT * FROM drug_xyz.trial_july2020 t JOIN drug_xyz.sites s ON true'), 'data');
  assert.equal(await target('SELECT * FROM drug_xyz.trial_july2020 t JOIN pg_catalog.pg_class c ON c.relname = t.name'), 'mixed');
  assert.equal(await target('SELECT * FROM drug_xyz.trial_july2020 WHERE name IN (SELECT relname FROM pg_class)'), 'mixed');
  assert.equal(await target('SELECT (SELECT count(*) FROM drug_xyz.sites) FROM pg_namespace'), 'mixed');
  assert.equal(await target('SELECT * FROM pg_type UNION ALL SELECT * FROM drug_xyz.sites'), 'mixed');
  assert.equal(await target('SELECT * FROM trial_july2020'), 'data');
});

test('a CTE is not a table, even when named like a catalog relation; its body counts', async () => {
  assert.equal(await target('WITH pg_class AS (SELECT * FROM drug_xyz.trial_july2020) SELECT * FROM pg_class'), 'data');
  assert.equal(await target('WITH t AS (SELECT * FROM pg_class) SELECT * FROM t'), 'catalog');
  assert.equal(await target('WITH pg_type AS (SELECT 1 AS x) SELECT * FROM pg_type'), 'none');
  // A non-recursive CTE's body does not see the CTE itself: this pg_class is the catalog's.
  assert.equal(await target('WITH pg_class AS (SELECT * FROM pg_class) SELECT * FROM pg_class'), 'catalog');
  assert.equal(await target('WITH RECURSIVE pg_type(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM pg_type WHERE n < 3) SELECT * FROM pg_type'), 'none');
  assert.equal(await target('WITH a AS (SELECT 1 AS x), pg_attribute AS (SELECT * FROM a) SELECT * FROM pg_attribute JOIN drug_xyz.sites ON true'), 'data');
  assert.equal(await target('SELECT * FROM (WITH pg_class AS (SELECT 1) SELECT * FROM pg_class) q, pg_class'), 'catalog');
});

test('every catalog query of psql, pgJDBC, DBeaver and Metabase goes to the sandbox', async () => {
  const statements = [
    ...Object.values(PSQL),
    ...PSQL_OTHER,
    ...Object.values(PGJDBC).map((q) => q.sql),
    ...DBEAVER,
    ...METABASE.map((q) => q.sql),
  ];
  // SHOW of a setting never reaches routing: the session answers it (pg-statements.ts).
  for (const sql of statements.filter((q) => !/^\s*SHOW\b/i.test(q))) {
    const ast = await parse(sql);
    const where = statementTarget(ast);
    assert.ok(where === 'catalog' || (where === 'none' && usesCatalogFunctions(ast)), `${where}: ${sql.slice(0, 120)}`);
  }
});

test('the whole document, a statement or a query node are all accepted', async () => {
  const document = (await parse('SELECT * FROM pg_class')) as { statements: { node: unknown }[] };
  const statement = document.statements[0];
  assert.equal(statementTarget(document), 'catalog');
  assert.equal(statementTarget(statement), 'catalog');
  assert.equal(statementTarget(statement?.node), 'catalog');
});
