export { DuckDbEngine, INTERNAL_SCHEMA, sqlString, sqlIdentifier, DuckDBTypeId, chunkRowsJson, chunkColumnsJson, chunkColumnForArrow, largestStringBytes } from './duckdb-engine.ts';
export type { ArrowReadyColumn, Json, EngineOptions, ResultColumn, ResultStream, ExecuteOptions, DuckDBDataChunk, ParameterValue, StatementDescription } from './duckdb-engine.ts';
export { classifyEngineError } from './engine-error-classifier.ts';
export { CatalogSandboxEngine, parsePgArrayLiteral, type AppendValue, type CatalogSandboxEngineOptions, type PreparedCatalogSandbox, type SandboxLoader, type SandboxParameter, type SandboxParameterType, type SandboxStatementShape } from './catalog-sandbox-engine.ts';
