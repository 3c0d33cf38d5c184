/**
 * Reading the chunks of a result stream, for doors that encode rows themselves (JSON, Arrow, the
 * PostgreSQL wire). Doors take these from the gateway: they handle results, never the engine.
 */
export { chunkColumnForArrow, chunkColumnsJson, chunkRowsJson, DuckDBTypeId, largestStringBytes } from '../engine/index.ts';
export type { ArrowReadyColumn, DuckDBDataChunk, Json, ParameterValue, ResultColumn, ResultStream, StatementDescription } from '../engine/index.ts';
