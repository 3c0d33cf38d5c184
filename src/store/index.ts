export { bumpGeneration, nowIso, readGeneration, readMeta, writeMeta } from './sql-store.ts';
export type { SqlDialect, SqlExecutor, SqlStore, SqlValue } from './sql-store.ts';
