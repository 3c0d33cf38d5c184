import type { VeilRuntime } from '../src/runtime/index.ts';

/** What a dataset's internal view reads now (its CREATE VIEW text): `read_parquet` once it reads the columnar copy. */
export async function sourceViewSql(runtime: VeilRuntime, dataset: string): Promise<string> {
  const [database = '', name = ''] = dataset.split('.');
  const rows = await runtime.engine.runInternal<[string]>(`SELECT sql FROM duckdb_views() WHERE schema_name = 'veil_internal' AND view_name = $1`, [`src__${database}__${name}`]);
  return rows[0]?.[0] ?? '';
}
