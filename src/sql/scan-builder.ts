import { derivedKey, sourceViewName } from '../catalog/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { INTERNAL_SCHEMA, sqlIdentifier } from '../engine/index.ts';
import { fullName } from '../catalog/index.ts';
import type { Principal } from '../identity/index.ts';
import { transformOutputType, transformSql, type EffectiveDatasetPolicy, type TransformContext } from '../policy/index.ts';
import { compilePolicyPredicate, RAW_ALIAS } from './policy-expression-compiler.ts';
import { createHash } from 'node:crypto';
import { asciiLower } from './query-checker.ts';

/** The policy-applied scan of one dataset for one principal. */
export interface CompiledScan {
  /** SELECT … FROM <source view> AS __veil_raw WHERE <row filters>, inside the evaluation barrier when the policy hides rows or cells (see wrapInBarrier). */
  readonly sql: string;
  /**
   * Internal view holding `sql`, named by its content hash (schema-qualified, quoted). User
   * queries reference it in place of the dataset; users can never name it themselves, since
   * every name they write is resolved through the catalog.
   */
  readonly view: { readonly schema: string; readonly name: string };
  /** Visible output columns, in order. */
  readonly columns: readonly string[];
  /** Columns whose transform could not apply to their type and were nulled instead (fail closed). */
  readonly nulledColumns: readonly { column: string; transform: string }[];
}

/**
 * Builds the scan that replaces every reference to a dataset (docs/security.md, invariants 4 and 5):
 * the row filters are in the WHERE of the scan itself, and masks are computed in its SELECT list
 * from the raw columns, so every operator above sees only masked values. Mask conditions read raw
 * values of the same row, never other masked values.
 *
 * When the scan hides anything a user could probe for (rows removed by a filter, or cells masked
 * only on some rows), it is wrapped in the evaluation barrier (see `wrapInBarrier`), so that no
 * expression a user writes is ever evaluated on a row the policy removes.
 */
export async function buildScan(
  engine: DuckDbEngine,
  effective: EffectiveDatasetPolicy,
  principal: Principal,
  context: TransformContext,
  /** Lower-case names of the columns the query can reach (see `scanColumns`); all when undefined. */
  reachable?: ReadonlySet<string>,
  /** Masked values the dataset's view already computes per row, by derivedKey(column, transform). */
  derived: ReadonlyMap<string, string> = new Map(),
): Promise<CompiledScan> {
  const dataset = effective.dataset;
  const name = fullName(dataset);
  const allColumns = new Set(dataset.columns.map((c) => c.name));
  const compile = (predicate: string, policy: string) => compilePolicyPredicate(engine, predicate, principal, allColumns, { policy, dataset: name });

  const selectList: string[] = [];
  const visible: string[] = [];
  const nulled: { column: string; transform: string }[] = [];
  for (const entry of projectedColumns(effective, reachable)) {
    const raw = `${RAW_ALIAS}.${sqlIdentifier(entry.column.name)}`;
    let expression = raw;
    if (entry.access === 'masked') {
      const branches: { when: string | undefined; sql: string; type: string }[] = [];
      for (const layer of entry.masks) {
        // The view's derived column holds exactly this transform of this column (computed by the
        // same registry SQL, over the same row): read it rather than compute it again.
        const stored = derived.get(derivedKey(entry.column.name, layer.transform.text));
        let masked = stored === undefined ? transformSql(layer.transform, raw, entry.column.type, context) : `${RAW_ALIAS}.${sqlIdentifier(stored)}`;
        let type = transformOutputType(layer.transform, entry.column.type);
        if (masked === undefined) {
          nulled.push({ column: entry.column.name, transform: layer.transform.text });
          masked = `CAST(NULL AS ${entry.column.type})`;
          type = entry.column.type;
        }
        branches.push({ when: layer.when === undefined ? undefined : await compile(layer.when, layer.policy), sql: masked, type });
      }
      const unconditional = branches.find((b) => b.when === undefined);
      const otherwise = unconditional ?? { when: undefined, sql: raw, type: entry.column.type };
      const conditional = branches.filter((b) => b.when !== undefined);
      if (conditional.length === 0) {
        expression = otherwise.sql;
      } else {
        // CASE needs one type: when the layers disagree (a string mask over a number), every branch becomes text.
        const common = [otherwise, ...conditional].every((b) => b.type === otherwise.type) ? undefined : 'VARCHAR';
        const cast = (sql: string): string => (common === undefined ? sql : `CAST(${sql} AS ${common})`);
        expression = `CASE ${conditional.map((b) => `WHEN (${b.when}) IS NOT FALSE THEN ${cast(b.sql)}`).join(' ')} ELSE ${cast(otherwise.sql)} END`;
      }
    }
    selectList.push(`${expression} AS ${sqlIdentifier(entry.column.name)}`);
    visible.push(entry.column.name);
  }
  const filters: string[] = [];
  for (const filter of effective.rowFilters) filters.push(`(${await compile(filter.predicate, filter.policy)})`);
  const where = filters.length === 0 ? '' : ` WHERE ${filters.join(' AND ')}`;
  const policyScan = `SELECT ${selectList.join(', ')} FROM ${sourceViewName(dataset)} AS ${RAW_ALIAS}${where}`;
  const sql = needsBarrier(effective) ? wrapInBarrier(policyScan, visible) : policyScan;
  const viewName = `scan_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
  // Content-addressed: the same policy for the same facts reuses one view across users, and a
  // view this engine already holds is not even parsed again (after a policy change that left this
  // scan as it was).
  let created = CREATED_VIEWS.get(engine);
  if (created === undefined) CREATED_VIEWS.set(engine, (created = new Set()));
  if (!created.has(viewName)) {
    await engine.runInternal(`CREATE VIEW IF NOT EXISTS ${INTERNAL_SCHEMA}.${sqlIdentifier(viewName)} AS ${sql}`);
    created.add(viewName);
  }
  return { sql, view: { schema: INTERNAL_SCHEMA, name: viewName }, columns: visible, nulledColumns: nulled };
}

/**
 * The visible columns a scan projects: those the query can reach, and at least one (a select list
 * cannot be empty), preferably one without a mask, which is the cheapest to bind and to read.
 */
function projectedColumns(effective: EffectiveDatasetPolicy, reachable: ReadonlySet<string> | undefined): EffectiveDatasetPolicy['columns'] {
  const visible = effective.columns.filter((c) => c.access !== 'hidden');
  if (reachable === undefined) return visible;
  const kept = visible.filter((c) => reachable.has(asciiLower(c.column.name)));
  if (kept.length > 0 || visible.length === 0) return kept;
  return [visible.find((c) => c.access === 'clear') ?? (visible[0] as (typeof visible)[number])];
}

/** Scan views each engine holds (they are never dropped while it runs). */
const CREATED_VIEWS = new WeakMap<DuckDbEngine, Set<string>>();

/** Alias of the policy-applied rows inside the barrier, and of the barrier's single-row anchor. */
export const BARRIER_ROWS_ALIAS = '__veil_rows';
export const BARRIER_ANCHOR_ALIAS = '__veil_anchor';

/**
 * Whether a user could learn something the policy withholds by watching how the engine evaluates
 * their expressions: rows a filter removes, or cells masked on some rows only (a conditional mask's
 * CASE carries the raw value's statistics). Without either, every row and cell the scan produces
 * is exactly what the user sees, and user predicates may be pushed into it freely.
 */
export function needsBarrier(effective: EffectiveDatasetPolicy): boolean {
  return effective.rowFilters.length > 0 || effective.columns.some((c) => c.access === 'masked' && c.masks.some((m) => m.when !== undefined));
}

/**
 * The evaluation barrier (docs/security.md, "The evaluation barrier"). DuckDB 1.5 has no secure
 * views: its optimizer pushes user predicates into the scan and merges them with the row filter,
 * and its adaptive filter then evaluates them first, on rows the policy removes. The barrier makes
 * that impossible by construction:
 *
 *     SELECT CASE WHEN r.open THEN r.c END AS c, …
 *     FROM (SELECT random() <= 1 AS open, * FROM (<policy scan>)) AS r
 *     CROSS JOIN (SELECT 1) AS anchor
 *
 * - Every column a user can name is a function of `open`, a volatile value (always true, but the
 *   optimizer may neither compute it in advance nor evaluate it twice). A predicate over such a
 *   column cannot be moved below the projection that computes `open`, which sits above the
 *   policy's row filter; its statistics are unknown, so no statistics of hidden rows (Parquet
 *   min/max, zone maps) reach the user's predicates either.
 * - A predicate over no column at all (a constant, random()) references neither side of the cross
 *   product, so it cannot be pushed into either and stays a condition of the cross product, above
 *   the row filter. The anchor is one row: the cross product costs nothing and, referenced by no
 *   column, never constrains how joins are ordered.
 *
 * The policy's own row filter stays below the barrier and is still pushed into the scan.
 */
export function wrapInBarrier(policyScan: string, columns: readonly string[]): string {
  let open = '__veil_open';
  while (columns.includes(open)) open = `_${open}`;
  const select = columns.map((c) => `CASE WHEN ${BARRIER_ROWS_ALIAS}.${open} THEN ${BARRIER_ROWS_ALIAS}.${sqlIdentifier(c)} END AS ${sqlIdentifier(c)}`);
  return (
    `SELECT ${select.join(', ')} FROM (SELECT random() <= 1 AS ${open}, * FROM (${policyScan})) AS ${BARRIER_ROWS_ALIAS} ` +
    `CROSS JOIN (SELECT 1) AS ${BARRIER_ANCHOR_ALIAS}`
  );
}
