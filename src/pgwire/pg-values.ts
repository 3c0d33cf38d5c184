import type { ParameterValue } from '../engine/index.ts';

/**
 * Values on the PostgreSQL wire: DuckDB result chunks become DataRow messages in PostgreSQL 15's
 * text or binary output format, and Bind parameters become JavaScript values to bind to DuckDB.
 *
 * Text output follows the backend's *out functions with the default settings clients expect
 * (DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 1); binary output
 * follows the *send functions.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html (DataRow)
 * @see https://github.com/postgres/postgres/tree/REL_15_STABLE/src/backend/utils/adt (float.c, numeric.c, datetime.c, arrayfuncs.c)
 *
 * The work is done under values/:
 * - row-encoder.ts: createRowEncoder, DataRow messages of a chunk;
 * - column-codecs.ts: the codec of a result column, by DuckDB type; codec.ts: what a codec is;
 * - number-codecs.ts, datetime-codecs.ts, string-codecs.ts, array-values.ts: the codecs;
 * - vector-reading.ts: the data of @duckdb/node-api vectors, without per-value objects;
 * - byte-writer.ts, float-text.ts, datetime-text.ts, numeric.ts: the output formats;
 * - parameters.ts, binary-parameters.ts, parameter-types.ts: Bind parameters to DuckDB values.
 */

/** A Bind parameter as a value DuckDB can bind (the engine's type: DuckDbEngine.execute binds these). */
export type { ParameterValue };

export { createRowEncoder, type RowEncoder } from './values/row-encoder.ts';
export { decodeParameter } from './values/parameters.ts';
export { pgFloat4Text, pgFloat8Text } from './values/float-text.ts';
