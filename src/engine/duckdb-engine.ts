import { mkdirSync, realpathSync } from 'node:fs';
import {
  DuckDBInstance,
  type DuckDBConnection,
  type DuckDBResult,
  type DuckDBPreparedStatement,
  type DuckDBDataChunk,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  JSDuckDBValueConverter,
  type Json,
  type DuckDBType,
  DuckDBDecimalType,
  DuckDBListType,
  DuckDBArrayType,
} from '@duckdb/node-api';
import duckdbBindings from '@duckdb/node-bindings';
import { InvalidSqlError, QueryFailedError, QueryTimeoutError, VeilError } from '../errors/index.ts';
import { engineErrorToVeilError } from './engine-error-classifier.ts';
import { Semaphore } from '../util/semaphore.ts';
import { type ConnectionLender, StreamingConnectionPool } from './streaming-connections.ts';

/**
 * The only module that talks to DuckDB. It owns one in-memory instance, hardens it before any user
 * query can run (docs/security.md invariant 7), and hands out short-lived connections.
 */
export interface EngineOptions {
  /** Directories DuckDB may read and write; everything else is refused by DuckDB itself. */
  readonly allowedDirectories: readonly string[];
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly tempDirectory?: string;
  /**
   * Results without ORDER BY keep the sources' row order (DuckDB's preserve_insertion_order).
   * Off by default: keeping the order makes a parallel full scan buffer rows that finish out of
   * order, so its memory grows with the data (about 600 MB for 10 million rows); without it a scan
   * streams in bounded memory (docs/performance.md, "Flat memory").
   */
  readonly preserveInsertionOrder?: boolean;
  /**
   * How much of a streamed result DuckDB computes ahead of its reader (streaming_buffer_size, per
   * query; default 128MB): see StreamingConnectionPool.
   */
  readonly streamingBufferSize?: string;
  /** Connections opened with that buffer (default 8, the default max_concurrent_queries). */
  readonly streamingConnections?: number;
}

export interface ResultColumn {
  readonly name: string;
  /** DuckDB's SQL type name, e.g. VARCHAR, DECIMAL(10,2), INTEGER[] */
  readonly type: string;
  readonly typeId: DuckDBTypeId;
  /** DECIMAL only: precision and scale. */
  readonly decimal?: { readonly width: number; readonly scale: number };
  /** LIST and ARRAY only: the element type's id. */
  readonly elementTypeId?: DuckDBTypeId;
}

export interface ExecuteOptions {
  readonly timeoutMs: number;
  /** Aborting interrupts the running statement (the caller no longer wants its result). */
  readonly signal?: AbortSignal;
  /** Values of $1 … $n, bound to the prepared statement (never spliced into its text). */
  readonly parameters?: readonly ParameterValue[];
}

/** A parameter value as a client sent it (decoded from its wire format). */
export type ParameterValue = null | boolean | number | bigint | string | Uint8Array;

/** What binding a statement tells without running it. */
export interface StatementDescription {
  /** Result columns; undefined when they depend on parameter values not yet known. */
  readonly columns: ResultColumn[] | undefined;
  /** DuckDB's inferred type of each parameter ($1 first); INVALID where the context does not say. */
  readonly parameterTypeIds: DuckDBTypeId[];
}

/** A running query whose rows are pulled chunk by chunk; always close it. */
export interface ResultStream {
  readonly columns: readonly ResultColumn[];
  /** Next chunk, or null at the end. Errors are already sanitized VeilErrors. */
  nextChunk(): Promise<DuckDBDataChunk | null>;
  close(): void;
}

export const INTERNAL_SCHEMA = 'veil_internal';
const PARSER_CONNECTIONS = 4;

/**
 * How many user queries run at once is decided before the engine is reached, fairly between users
 * (src/query/admission-controller.ts); the engine runs what it is given.
 */
export class DuckDbEngine {
  private closed = false;

  private readonly parserGate: Semaphore;

  private constructor(
    private readonly instance: DuckDBInstance,
    /**
     * Connections for parse/print calls only (fast, never touch data). A DuckDB connection runs
     * one statement at a time, so concurrent requests each borrow their own.
     */
    private readonly parserConnections: DuckDBConnection[],
    /** Connections lent to streamed user queries (StreamingConnectionPool). */
    private readonly streaming: StreamingConnectionPool,
  ) {
    this.parserGate = new Semaphore(parserConnections.length);
  }

  private async withParser<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const release = await this.parserGate.acquire();
    const connection = this.parserConnections.pop();
    if (connection === undefined) throw new Error('parser connection pool is empty');
    try {
      return await work(connection);
    } finally {
      this.parserConnections.push(connection);
      release();
    }
  }

  static async open(options: EngineOptions, setupStatements: readonly string[] = []): Promise<DuckDbEngine> {
    const directories = options.allowedDirectories.map((dir) => {
      mkdirSync(dir, { recursive: true });
      // DuckDB compares prefixes textually: use the real path with a trailing slash so /a/b does not admit /a/bc
      return realpathSync(dir).replace(/\/?$/, '/');
    });
    const config: Record<string, string> = {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? '4GB',
      preserve_insertion_order: options.preserveInsertionOrder === true ? 'true' : 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    };
    if (options.tempDirectory !== undefined) config['temp_directory'] = options.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', config);
    const setup = await instance.connect();
    let streaming: StreamingConnectionPool | undefined;
    try {
      await setup.run(`SET allowed_directories = ${sqlStringList(directories)}`);
      await setup.run('SET enable_external_access = false');
      // Timestamps with time zone are rendered in UTC whatever the machine's zone (every door's text forms assume it).
      await setup.run("SET TimeZone = 'UTC'");
      await setup.run(`CREATE SCHEMA ${INTERNAL_SCHEMA}`);
      for (const statement of setupStatements) await setup.run(statement);
      streaming = await StreamingConnectionPool.open(instance, options.streamingConnections ?? 8, options.streamingBufferSize ?? '128MB');
      await setup.run('SET lock_configuration = true');
    } finally {
      setup.closeSync();
    }
    const parserConnections: DuckDBConnection[] = [];
    for (let i = 0; i < PARSER_CONNECTIONS; i++) parserConnections.push(await instance.connect());
    return new DuckDbEngine(instance, parserConnections, streaming);
  }

  /** DuckDB's own parser: returns json_serialize_sql's JSON text (which may carry {"error":true}). */
  async serializeSql(sql: string): Promise<string> {
    const reader = await this.withParser((c) => c.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]));
    const value = reader.getRows()[0]?.[0];
    if (typeof value !== 'string') throw new QueryFailedError('parser returned no result');
    return value;
  }

  /** Turns a (checked, rewritten) AST back into SQL text with DuckDB's own printer. */
  async deserializeSql(astJson: string): Promise<string> {
    try {
      const reader = await this.withParser((c) => c.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [astJson]));
      const value = reader.getRows()[0]?.[0];
      if (typeof value !== 'string') throw new QueryFailedError('SQL printer returned no result');
      return value;
    } catch (error) {
      if (error instanceof VeilError) throw error;
      throw new InvalidSqlError('the query could not be rebuilt from its syntax tree');
    }
  }

  /** Runs trusted, internal SQL (registration, schema inference, audit mirror). Never user text. */
  async runInternal<T = unknown[]>(sql: string, params: readonly (string | number | boolean | null)[] = []): Promise<T[]> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowsJson() as T[];
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Bulk-loads trusted, internal rows (the audit mirror) through DuckDB's appender, about ten times
   * faster than INSERT with parameters. Values are strings, numbers or null; DuckDB casts them to
   * the column types (ISO text to TIMESTAMP and so on). Returns the number of rows appended.
   */
  async appendRows(table: { readonly catalog: string; readonly schema: string; readonly name: string }, rows: Iterable<readonly (string | number | null)[]>): Promise<number> {
    const connection = await this.instance.connect();
    try {
      const appender = await connection.createAppender(table.name, table.schema, table.catalog);
      let count = 0;
      try {
        for (const row of rows) {
          for (const value of row) {
            if (value === null) appender.appendNull();
            else if (typeof value === 'string') appender.appendVarchar(value);
            else if (Number.isSafeInteger(value)) appender.appendBigInt(BigInt(value));
            else appender.appendDouble(value);
          }
          appender.endRow();
          count++;
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      return count;
    } finally {
      connection.closeSync();
    }
  }

  /** Column names and types of a relation: the statement is bound, never run. */
  async describeQuery(sql: string): Promise<ResultColumn[]> {
    const connection = await this.instance.connect();
    try {
      return resultColumns(await prepareSingle(connection, `SELECT * FROM (${sql}) LIMIT 0`));
    } finally {
      connection.closeSync();
    }
  }

  /** Binds a checked SELECT that may hold parameters: result columns and parameter types, nothing run. */
  async describeStatement(sql: string): Promise<StatementDescription> {
    const connection = await this.instance.connect();
    try {
      const prepared = await prepareSingle(connection, sql);
      const parameterTypeIds = Array.from({ length: prepared.parameterCount }, (_, i) => prepared.parameterTypeId(i + 1));
      let columns: ResultColumn[] | undefined;
      try {
        columns = resultColumns(prepared);
      } catch {
        // A result column typed by a parameter ($1 AS p) is known only once the value is bound.
        columns = undefined;
      }
      return { columns, parameterTypeIds };
    } catch (error) {
      throw engineErrorToVeilError(error, false, 0);
    } finally {
      connection.closeSync();
    }
  }

  /** The result columns of a checked SELECT, with engine errors classified as for execute. */
  async describeResult(sql: string): Promise<ResultColumn[]> {
    try {
      return await this.describeQuery(sql);
    } catch (error) {
      throw engineErrorToVeilError(error, false, 0);
    }
  }

  /**
   * Runs one checked SELECT and streams its chunks. A statement timeout interrupts the connection;
   * engine errors are classified so that data-dependent messages never reach the caller.
   */
  async execute(sql: string, options: ExecuteOptions): Promise<ResultStream> {
    return streamStatement(this.streaming, sql, options, (prepared) => {
      if (options.parameters !== undefined) bindParameters(prepared, options.parameters);
    });
  }

  /**
   * Runs `COPY (<checked select>) TO <target>` so that DuckDB's native writer produces the bytes
   * (CSV delivery streams them through a FIFO). The SELECT inside is the checked one; Veil builds
   * the COPY wrapper itself, so users can never reach COPY.
   */
  async copyTo(selectSql: string, target: string, formatOptions: string, options: ExecuteOptions): Promise<number> {
    const stopper = new StatementStopper(options);
    const connection = await this.instance.connect();
    stopper.attach(connection);
    try {
      const prepared = await prepareSingle(connection, `COPY (${selectSql}) TO ${sqlString(target)} (${formatOptions})`);
      const count = (await (await prepared.run()).getRows())[0]?.[0];
      stopper.check();
      return typeof count === 'bigint' ? Number(count) : Number(count ?? 0);
    } catch (error) {
      throw stopper.classify(error);
    } finally {
      stopper.dispose();
      connection.closeSync();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of this.parserConnections) connection.closeSync();
    this.streaming.close();
    this.instance.closeSync();
  }
}

/**
 * Stops a statement at its timeout or when its caller goes away. DuckDB forgets an interrupt that
 * arrives before the statement has started (it resets the flag when a query begins), so once a
 * stop is due the connection is interrupted again every 50 ms until the statement is over, and a
 * statement that still finishes after its deadline is answered as timed out, never as a success.
 */
class StatementStopper {
  private connection: DuckDBConnection | undefined;
  private timedOut = false;
  private stopping = false;
  private repeat: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.stop();

  constructor(private readonly options: ExecuteOptions) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.stop();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', this.onAbort);
    if (options.signal?.aborted === true) this.stopping = true;
  }

  attach(connection: DuckDBConnection): void {
    this.connection = connection;
    if (this.stopping) {
      this.stopping = false;
      this.stop();
    }
  }

  /** Throws if the statement ran past its deadline or its caller is gone, whatever DuckDB answered. */
  check(): void {
    if (this.timedOut) throw new QueryTimeoutError(this.options.timeoutMs);
    if (this.options.signal?.aborted === true) throw new QueryFailedError('query was interrupted');
  }

  classify(error: unknown): VeilError {
    return engineErrorToVeilError(error, this.timedOut, this.options.timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.repeat);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private stop(): void {
    if (this.connection === undefined) {
      this.stopping = true;
      return;
    }
    if (this.repeat !== undefined) return;
    const connection = this.connection;
    connection.interrupt();
    this.repeat = setInterval(() => connection.interrupt(), 50);
  }
}

/**
 * DuckDB's connection.run/stream execute every statement in a text. Veil runs exactly one statement
 * per call (docs/security.md invariant 1), so a text that holds more is refused here as a last line.
 */
/**
 * Prepares one statement on a fresh connection, binds it, and streams its chunks. A statement
 * timeout or an abort interrupts the connection; engine errors are classified so that
 * data-dependent messages never reach the caller. Shared by the main engine and the catalog sandbox.
 */
export async function streamStatement(connections: ConnectionLender, sql: string, options: ExecuteOptions, bind: (prepared: DuckDBPreparedStatement) => void): Promise<ResultStream> {
  const stopper = new StatementStopper(options);
  let finished = false;
  let connection: DuckDBConnection | undefined;
  let prepared: DuckDBPreparedStatement | undefined;
  const finish = (drained: boolean): void => {
    if (finished) return;
    finished = true;
    stopper.dispose();
    // Destroyed now, not when JavaScript collects it: a prepared plan holds what it materialized
    // (a MATERIALIZED CTE's rows), which a reused connection would otherwise keep.
    prepared?.destroySync();
    if (connection !== undefined) connections.giveBack(connection, drained);
  };
  try {
    connection = await connections.borrow();
    stopper.attach(connection);
    prepared = await prepareSingle(connection, sql);
    bind(prepared);
    const result: DuckDBResult = await prepared.stream();
    stopper.check();
    const columns = resultColumns(result);
    // A fetch may still be running when the consumer closes (prefetching, early stop): the
    // connection is closed only once it has settled, never under DuckDB's feet.
    let inflight: Promise<unknown> | undefined;
    return {
      columns,
      nextChunk: async () => {
        if (finished) return null;
        const fetch = result.fetchChunk();
        inflight = fetch;
        try {
          const chunk = await fetch;
          stopper.check();
          if (chunk === null || chunk.rowCount === 0) {
            finish(true);
            return null;
          }
          return chunk;
        } catch (error) {
          finish(false);
          throw stopper.classify(error);
        } finally {
          if (inflight === fetch) inflight = undefined;
        }
      },
      close: () => {
        const stop = (): void => finish(false);
        if (inflight === undefined) stop();
        else inflight.then(stop, stop);
      },
    };
  } catch (error) {
    finish(false);
    throw stopper.classify(error);
  }
}

/** Binds each value with the type its JavaScript form has; DuckDB casts where the statement needs another. */
function bindParameters(prepared: DuckDBPreparedStatement, values: readonly ParameterValue[]): void {
  if (values.length !== prepared.parameterCount) throw new QueryFailedError(`the statement has ${prepared.parameterCount} parameters, ${values.length} values were given`);
  values.forEach((value, i) => {
    const index = i + 1;
    if (value === null) prepared.bindNull(index);
    else if (typeof value === 'boolean') prepared.bindBoolean(index, value);
    else if (typeof value === 'bigint') prepared.bindBigInt(index, value);
    else if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
      else prepared.bindDouble(index, value);
    } else if (typeof value === 'string') prepared.bindVarchar(index, value);
    else prepared.bindBlob(index, value);
  });
}

export async function prepareSingle(connection: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const extracted = await connection.extractStatements(sql);
  if (extracted.count !== 1) throw new QueryFailedError('internal error: expected exactly one statement');
  return extracted.prepare(0);
}

function resultColumns(result: Pick<DuckDBResult, 'columnCount' | 'columnName' | 'columnType'>): ResultColumn[] {
  const columns: ResultColumn[] = [];
  for (let i = 0; i < result.columnCount; i++) {
    columns.push({ name: result.columnName(i), ...columnTypeOf(result.columnType(i)) });
  }
  return columns;
}

/** A column's type as Veil describes it, from DuckDB's type object (never from its name). */
export function columnTypeOf(type: DuckDBType): Omit<ResultColumn, 'name'> {
  const base = { type: type.toString(), typeId: type.typeId };
  if (type instanceof DuckDBDecimalType) return { ...base, decimal: { width: type.width, scale: type.scale } };
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) return { ...base, elementTypeId: type.valueType.typeId };
  return base;
}

/** A SQL string literal: the only escaping needed in DuckDB is doubling single quotes. */
export function sqlString(value: string): string {
  if (value.includes('\u0000')) throw new QueryFailedError('NUL character in a SQL string');
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdentifier(name: string): string {
  if (name.includes('\u0000')) throw new QueryFailedError('NUL character in an identifier');
  return `"${name.replaceAll('"', '""')}"`;
}

function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

export { DuckDBTypeId };
export type { DuckDBDataChunk };

/** Rows of a chunk as JSON-compatible values (BIGINT/DECIMAL as strings, dates as ISO text). */
export function chunkRowsJson(chunk: DuckDBDataChunk): Json[][] {
  return chunk.convertRows<Json>(JsonDuckDBValueConverter);
}

/**
 * The largest value, in bytes, of a VARCHAR or BLOB column of a chunk, read from DuckDB's string
 * slots without turning any value into a JavaScript string (0 for other types). Lets a door refuse
 * a value too large for its format before converting it.
 */
export function largestStringBytes(chunk: DuckDBDataChunk, index: number, typeId: DuckDBTypeId): number {
  if (typeId !== DuckDBTypeId.VARCHAR && typeId !== DuckDBTypeId.BLOB) return 0;
  const vector = chunk.getColumnVector(index) as unknown as RawVector;
  const view = vector.dataView;
  if (view === undefined) return 0;
  const rows = chunk.rowCount;
  const validity = validityBytes(vector.validity?.data ?? null, rows);
  let largest = 0;
  for (let i = 0; i < rows; i++) {
    // A NULL's slot holds no meaningful length.
    if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) continue;
    const length = view.getUint32(i * 16, true);
    if (length > largest) largest = length;
  }
  return largest;
}

/**
 * DuckDB's validity words as bytes (little-endian, so the same bit order Arrow uses), without a
 * copy; null when every row is valid.
 */
function validityBytes(words: BigUint64Array | null, rows: number): Uint8Array | null {
  return words === null ? null : new Uint8Array(words.buffer, words.byteOffset, Math.ceil(rows / 8));
}

/** Columns of a chunk as JSON-compatible values. */
export function chunkColumnsJson(chunk: DuckDBDataChunk): Json[][] {
  return chunk.convertColumns<Json>(JsonDuckDBValueConverter);
}
export type { Json };

/**
 * A result column in the shape Arrow wants, read with as little per-value work as the vector
 * allows: fixed-width vectors hand over their raw buffer (DuckDB's little-endian validity words
 * have exactly Arrow's bitmap layout), strings are read item by item, everything else goes
 * through DuckDB's JS value conversion.
 */
export type ArrowReadyColumn =
  | { readonly kind: 'fixed'; readonly data: ArrayBufferView; readonly validity: Uint8Array | null }
  | { readonly kind: 'utf8'; readonly offsets: Int32Array; readonly data: Uint8Array; readonly validity: Uint8Array | null }
  | { readonly kind: 'strings'; readonly values: (string | null)[] }
  | { readonly kind: 'values'; readonly values: unknown[] };

const FIXED_WIDTH_TYPES = new Set([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DATE, DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_NS, DuckDBTypeId.TIMESTAMP_TZ,
]);

/** The fields of @duckdb/node-api 1.5 vectors this relies on (declared private there, stable in practice; tests pin them). */
interface RawVector {
  /** VARCHAR vectors: the 16-byte duckdb_string_t slots (length, then inline bytes or a pointer). */
  readonly dataView?: DataView;
  readonly items?: ArrayBufferView & { slice(start?: number, end?: number): ArrayBufferView; readonly length: number };
  readonly validity?: { readonly data: BigUint64Array | null };
  getItem(index: number): unknown;
}

export function chunkColumnForArrow(chunk: DuckDBDataChunk, index: number, typeId: DuckDBTypeId): ArrowReadyColumn {
  const rows = chunk.rowCount;
  const vector = chunk.getColumnVector(index) as unknown as RawVector;
  if (FIXED_WIDTH_TYPES.has(typeId) && vector.items !== undefined && vector.items.length === rows && vector.validity !== undefined) {
    const words = vector.validity.data;
    // Copied: Arrow keeps the buffer after DuckDB has reused the vector.
    const validity = validityBytes(words, rows)?.slice() ?? null;
    return { kind: 'fixed', data: vector.items.slice(0, rows), validity };
  }
  if (typeId === DuckDBTypeId.VARCHAR && vector.dataView !== undefined && vector.validity !== undefined) {
    return utf8Column(vector.dataView, vector.validity.data, rows);
  }
  if (typeId === DuckDBTypeId.BOOLEAN && vector.dataView !== undefined && vector.validity !== undefined) {
    return { kind: 'fixed', data: booleanBits(vector.dataView, rows), validity: validityBytes(vector.validity.data, rows)?.slice() ?? null };
  }
  if (typeId === DuckDBTypeId.VARCHAR) {
    const values: (string | null)[] = new Array(rows);
    for (let i = 0; i < rows; i++) values[i] = vector.getItem(i) as string | null;
    return { kind: 'strings', values };
  }
  return { kind: 'values', values: chunk.convertColumnValues(index, JSDuckDBValueConverter) };
}

/** DuckDB's one-byte booleans packed into Arrow's bitmap (a NULL's byte is ignored: the validity says it is NULL). */
function booleanBits(view: DataView, rows: number): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, rows);
  const bits = new Uint8Array((rows + 7) >> 3);
  for (let i = 0; i < rows; i++) if (bytes[i] !== 0) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

/**
 * A VARCHAR vector's UTF-8 bytes copied straight into Arrow's offsets + data layout: no decode to
 * JavaScript strings and no re-encode. duckdb_string_t: uint32 length, then up to 12 inline bytes,
 * or (longer strings) a 4-byte prefix and a pointer, read through the bindings.
 * @see https://duckdb.org/docs/stable/clients/c/vector (string_t layout)
 */
function utf8Column(view: DataView, words: BigUint64Array | null, rows: number): ArrowReadyColumn {
  const validity = validityBytes(words, rows)?.slice() ?? null;
  // The slots as 32-bit words (length, then inline bytes, or prefix and the pointer's two halves):
  // indexed reads, and pointers compared as numbers rather than BigInts, are what keep this loop
  // cheap. DuckDB's vectors are 16-byte aligned; an unaligned one takes the copy.
  const aligned = view.byteOffset % 4 === 0;
  const slotBytes = aligned ? new Uint8Array(view.buffer, view.byteOffset, rows * 16) : new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + rows * 16));
  const slots = new Uint32Array(slotBytes.buffer, slotBytes.byteOffset, rows * 4);
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    offsets[i] = total;
    // A NULL's slot holds no meaningful length.
    if (validity === null || ((validity[i >> 3]! >> (i & 7)) & 1) === 1) total += slots[i * 4]!;
  }
  offsets[rows] = total;
  const data = new Uint8Array(total);
  for (let i = 0; i < rows; i++) {
    const length = offsets[i + 1]! - offsets[i]!;
    if (length === 0) continue;
    const position = offsets[i]!;
    if (length <= 12) {
      const start = i * 16 + 4;
      for (let k = 0; k < length; k++) data[position + k] = slotBytes[start + k]!;
      continue;
    }
    // Long strings of a vector usually sit back to back in DuckDB's string heap: one read through
    // the bindings copies a whole run of them (a call per string costs more than the copy).
    // Pointers are below 2^53, so the two halves combine exactly into a number.
    let end = slots[i * 4 + 3]! * 4294967296 + slots[i * 4 + 2]! + length;
    let j = i + 1;
    while (j < rows) {
      const next = offsets[j + 1]! - offsets[j]!;
      if (next <= 12 || slots[j * 4 + 3]! * 4294967296 + slots[j * 4 + 2]! !== end) break;
      end += next;
      j++;
    }
    const runLength = offsets[j]! - position;
    data.set(duckdbBindings.get_data_from_pointer(view.buffer as ArrayBuffer, view.byteOffset + i * 16 + 8, runLength), position);
    i = j - 1;
  }
  return { kind: 'utf8', offsets, data, validity };
}
