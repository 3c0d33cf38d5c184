import { asciiLower, type CheckedQuery } from './query-checker.ts';

/**
 * The columns of `dataset` the query can reach, lower case, or `undefined` for every column.
 *
 * A scan then projects only those (plus what its row filters and conditional masks read inside
 * it): DuckDB binds every expression of a view's select list, so a `count(*)` over a scan that
 * masks twelve columns pays for binding twelve masks it never evaluates — most of a small query's
 * time on a warm dataset. Pruning is exact, never a guess: when the query may read a column it
 * does not name (a star, `#1`, a NATURAL join, PIVOT, DESCRIBE), names a table's whole row
 * (`SELECT t FROM … t`), or renames the table's columns by position (`AS t(a, b)`), every column
 * is kept. The set is a superset of every name the query could resolve against the table, since
 * every part of every column reference counts, whatever it resolves to; so no query that binds
 * with every column fails to bind with the pruned scan, and none binds differently (a name that
 * is not a visible column stays unknown either way).
 */
export function scanColumns(checked: CheckedQuery, dataset: string): ReadonlySet<string> | undefined {
  if (checked.readsUnnamedColumns) return undefined;
  for (const reference of checked.tables) {
    if (reference.dataset !== dataset) continue;
    const aliases = reference.node['column_name_alias'];
    if (Array.isArray(aliases) && aliases.length > 0) return undefined;
    if (checked.referenceEnds.has(asciiLower(reference.alias))) return undefined;
  }
  return checked.columnNames;
}
