import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectRows } from '../../test/support/pipeline.ts';
import { principalOf, type Principal } from '../identity/index.ts';
import { validatePolicy } from '../policy/index.ts';
import { openRuntime, type VeilRuntime } from '../runtime/index.ts';

/**
 * Golden tests of the rewriter: the exact SQL that runs for a query, and what running it returns
 * on a real DuckDB. A change in the rewritten text must be looked at, not just re-recorded.
 */
let home: string;
let runtime: VeilRuntime;
let ann: Principal;

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-golden-'));
  mkdirSync(path.join(home, 'storage', 'p'), { recursive: true });
  writeFileSync(path.join(home, 'storage', 'p', 'people.csv'), 'id,name,ssn,region,score\n1,Ann Lee,123-45-6789,US,10.5\n2,Bo Chan,987-65-4321,DE,20\n3,Cy Diaz,555-12-3456,US,\n');
  runtime = await openRuntime(home);
  await runtime.catalog.register({ name: 'db.people', location: 'p/people.csv', columnTags: { name: ['pii.name'], ssn: ['pii.ssn'] } });
  await runtime.users.put({ name: 'ann', groups: ['analysts'], attributes: { region: 'US' } });
  await runtime.policies.apply([
    validatePolicy({
      name: 'analysts',
      subjects: { groups: ['analysts'] },
      resources: [{ database: 'db' }],
      row_filter: "region = user_attribute('region')",
      hide: { tags: ['pii.name'] },
      masks: [{ tags: ['pii.ssn'], transform: 'mask_show_last(4)' }, { columns: ['score'], transform: 'null', when: 'score > 15' }],
    }),
  ]);
  ann = principalOf(await runtime.users.get('ann'));
});

after(async () => {
  await runtime.close();
  rmSync(home, { recursive: true, force: true });
});

async function run(sql: string): Promise<{ rewritten: string; scan: string; rows: unknown[][] }> {
  const explained = await runtime.queries.explain(ann, sql);
  const prepared = await runtime.queries.prepare(ann, sql);
  const rows = await collectRows(runtime.queries, prepared);
  // The scan view's name is its content hash: show it as <scan> so the golden text stays readable.
  // Derived columns are named by a hash of the macros (masking key included): <derived>.
  const scan = (explained.datasets[0]?.scan_sql ?? '').replace(/"__veil_d_[0-9a-f]{20}"/g, '"<derived>"');
  return { rewritten: prepared.sql.replace(/veil_internal\.scan_[0-9a-f]{32}/g, '<scan>'), scan: `(${scan})`, rows };
}

const POLICY_SCAN =
  'SELECT __veil_raw."id" AS "id", __veil_raw."<derived>" AS "ssn", __veil_raw."region" AS "region", ' +
  'CASE WHEN ((__veil_raw.score > 15)) IS NOT FALSE THEN CAST(NULL AS DOUBLE) ELSE __veil_raw."score" END AS "score" ' +
  `FROM veil_internal."src__db__people" AS __veil_raw WHERE ((__veil_raw.region = 'US'))`;
// The policy hides rows, so the scan is wrapped in the evaluation barrier (docs/security.md).
const SCAN =
  '(SELECT ' +
  ['id', 'ssn', 'region', 'score'].map((c) => `CASE WHEN __veil_rows.__veil_open THEN __veil_rows."${c}" END AS "${c}"`).join(', ') +
  ` FROM (SELECT random() <= 1 AS __veil_open, * FROM (${POLICY_SCAN})) AS __veil_rows CROSS JOIN (SELECT 1) AS __veil_anchor)`;

test('SELECT * becomes a scan with the filter, the hidden column gone and masks applied, inside the barrier', async () => {
  const { rewritten, scan, rows } = await run('SELECT * FROM db.people ORDER BY id');
  assert.equal(rewritten, 'SELECT * FROM <scan> AS people ORDER BY id');
  assert.equal(scan, SCAN);
  assert.deepEqual(rows, [
    ['1', 'XXX-XX-6789', 'US', 10.5],
    ['3', 'XXX-XX-3456', 'US', null],
  ]);
});

test('a costly mask is computed once per row by the dataset view (and kept by its columnar copy); the scan reads it', async () => {
  const rows = await runtime.engine.runInternal<[string]>(`SELECT sql FROM duckdb_views() WHERE schema_name = 'veil_internal' AND view_name = 'src__db__people'`);
  const view = rows[0]?.[0] ?? '';
  assert.match(view, /SELECT __veil_source\.\*, veil_internal\.veil_mask_show_last\(CAST\(__veil_source\.ssn AS VARCHAR\), 4\) AS __veil_d_[0-9a-f]{20} FROM read_csv/);
  // The conditional null on score is cheap and depends on the row: computed in the scan, not derived.
  assert.equal(view.match(/__veil_d_/g)?.length, 1, view);
});

test('the alias the query uses is kept; identity is a constant, not a session lookup', async () => {
  const { rewritten, rows } = await run('SELECT p.ssn FROM db.people AS p WHERE p.id = 3');
  assert.equal(rewritten, 'SELECT p.ssn FROM <scan> AS p WHERE (p.id = 3)');
  assert.deepEqual(rows, [['XXX-XX-3456']]);
});

test('references inside CTEs and subqueries are rewritten; CTEs get generated names so they never bind to a catalog object', async () => {
  const { rewritten, rows } = await run('WITH people AS (SELECT * FROM db.people) SELECT count(*) FROM people WHERE id IN (SELECT id FROM db.people)');
  assert.equal(rewritten, 'WITH __veil_cte_0 AS (SELECT * FROM <scan> AS people)SELECT count_star() FROM __veil_cte_0 AS people WHERE (id = ANY(SELECT id FROM <scan> AS people))');
  assert.deepEqual(rows, [['2']]);
});

test('a whole-row reference expands to the visible, masked columns only', async () => {
  const { rows } = await run('SELECT to_json(p) FROM db.people p ORDER BY id LIMIT 1');
  assert.deepEqual(rows, [['{"id":1,"ssn":"XXX-XX-6789","region":"US","score":10.5}']]);
});

test('a filter on a masked column compares the masked value', async () => {
  const { rows } = await run("SELECT count(*) FROM db.people WHERE ssn = '123-45-6789'");
  assert.deepEqual(rows, [['0']]);
});

/** The columns the scan of a query projects, read back from its explained scan SQL. */
async function scanProjection(sql: string): Promise<string[]> {
  const explained = await runtime.queries.explain(ann, sql);
  const scan = explained.datasets[0]?.scan_sql ?? '';
  const barrier = /^SELECT (.*?) FROM \(SELECT random\(\)/.exec(scan)?.[1] ?? '';
  return [...barrier.matchAll(/ AS "([^"]+)"/g)].map((m) => m[1] as string);
}

test('a scan projects only the columns the query can reach: masks it never reads are not even bound', async () => {
  // count(*) reads no column: one clear column is kept (a select list cannot be empty), and no mask.
  assert.deepEqual(await scanProjection('SELECT count(*) FROM db.people'), ['id']);
  const explained = await runtime.queries.explain(ann, 'SELECT count(*) FROM db.people');
  assert.doesNotMatch(explained.datasets[0]?.scan_sql ?? '', /mask_show_last/);
  assert.deepEqual(await scanProjection('SELECT p.ssn FROM db.people AS p WHERE p.id = 3'), ['id', 'ssn']);
  assert.deepEqual(await scanProjection('SELECT region, max(score) FROM db.people GROUP BY region ORDER BY region'), ['region', 'score']);
  // The row filter still applies inside the pruned scan, on the raw column.
  assert.deepEqual((await run('SELECT count(*) FROM db.people')).rows, [['2']]);
  assert.deepEqual((await run('SELECT p.ssn FROM db.people AS p WHERE p.id = 3')).rows, [['XXX-XX-3456']]);
});

test('every visible column is kept when the query may read columns it does not name', async () => {
  const all = ['id', 'ssn', 'region', 'score'];
  for (const sql of [
    'SELECT * FROM db.people',
    'SELECT p.* FROM db.people p',
    'SELECT COLUMNS(\'s.*\') FROM db.people',
    'SELECT #1 FROM db.people',
    'SELECT to_json(p) FROM db.people p',
    'SELECT people FROM db.people',
    'SELECT a FROM db.people AS t(a, b)',
    'SELECT count(*) FROM db.people a NATURAL JOIN db.people b',
    'DESCRIBE db.people',
  ]) {
    assert.deepEqual(await scanProjection(sql), all, sql);
  }
  // Positional renaming reads the scan's columns by position: it must see all of them, in order.
  assert.deepEqual((await run('SELECT b FROM db.people AS t(a, b) ORDER BY a')).rows, [['XXX-XX-6789'], ['XXX-XX-3456']]);
  assert.deepEqual((await run('SELECT count(*) FROM db.people a NATURAL JOIN db.people b')).rows, [['1']]);
});

test('USING columns are reachable: a join on one column keeps it in both scans', async () => {
  assert.deepEqual(await scanProjection('SELECT count(*) FROM db.people a JOIN db.people b USING (id)'), ['id']);
  assert.deepEqual((await run('SELECT count(*) FROM db.people a JOIN db.people b USING (region)')).rows, [['4']]);
});
