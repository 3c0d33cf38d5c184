export { DuckDbEngine, INTERNAL_SCHEMA, sqlString, sqlIdentifier, DuckDBTypeId } from './duckdb-engine.ts';
export type { EngineOptions, ResultColumn, ResultStream, ExecuteOptions, DuckDBDataChunk } from './duckdb-engine.ts';
export { classifyEngineError } from './engine-error-classifier.ts';
