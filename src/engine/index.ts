export { DuckDbEngine, INTERNAL_SCHEMA, sqlString, sqlIdentifier, DuckDBTypeId, chunkRowsJson, chunkColumnsJson, chunkColumnForArrow, largestStringBytes } from './duckdb-engine.ts';
export type { ArrowReadyColumn, Json, EngineOptions, ResultColumn, ResultStream, ExecuteOptions, DuckDBDataChunk } from './duckdb-engine.ts';
export { classifyEngineError } from './engine-error-classifier.ts';
