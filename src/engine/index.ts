export { DuckDbEngine, INTERNAL_SCHEMA, sqlString, sqlIdentifier, DuckDBTypeId, chunkRowsJson, chunkColumnsJson, chunkColumnsJs } from './duckdb-engine.ts';
export type { Json, EngineOptions, ResultColumn, ResultStream, ExecuteOptions, DuckDBDataChunk } from './duckdb-engine.ts';
export { classifyEngineError } from './engine-error-classifier.ts';
