import type { AstObject } from './ast.ts';
import type { CheckedQuery } from './query-checker.ts';
import type { CompiledScan } from './scan-builder.ts';

/**
 * Replaces every checked base-table reference with its policy-applied scan (an internal view),
 * keeping the alias the query uses (so `t.col` and whole-row `t` keep working, now over the visible
 * columns only), the column aliases `AS t(a, b)` and any TABLESAMPLE, which then samples the
 * already-filtered rows.
 */
export function replaceTableReferences(query: CheckedQuery, scans: ReadonlyMap<string, CompiledScan>): AstObject {
  for (const reference of query.tables) {
    const scan = scans.get(reference.dataset);
    if (scan === undefined) throw new Error(`no scan compiled for ${reference.dataset}`);
    const node = reference.node;
    const replacement: AstObject = {
      type: 'BASE_TABLE',
      alias: reference.alias,
      sample: node['sample'] ?? null,
      query_location: node['query_location'] ?? 0,
      schema_name: scan.view.schema,
      table_name: scan.view.name,
      column_name_alias: node['column_name_alias'] ?? [],
      catalog_name: '',
      at_clause: null,
    };
    for (const key of Object.keys(node)) delete node[key];
    Object.assign(node, replacement);
  }
  return query.root;
}
