export { openControlDatabase, readGeneration, bumpGeneration, nowIso } from './sqlite-database.ts';
export type { SqliteDatabase } from './sqlite-database.ts';
