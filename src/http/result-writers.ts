import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { RecordBatchStreamWriter } from 'apache-arrow';
import { chunkRowsJson, DuckDBTypeId, largestStringBytes, type DuckDBDataChunk, type ResultColumn, type ResultStream, type Json } from '../gateway/index.ts';
import { ClientDisconnectedError, NotAcceptableError, VeilError } from '../errors/index.ts';
import type { ResultSource } from '../gateway/index.ts';
import type { PreparedQuery } from '../query/index.ts';
import { ArrowBatchEncoder } from './arrow-encoder.ts';
import { followFile } from '../gateway/index.ts';

export type ResultFormat = 'json' | 'csv' | 'arrow' | 'parquet';

export const CONTENT_TYPES: Record<ResultFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
  parquet: 'application/vnd.apache.parquet',
};

/**
 * Formats written by DuckDB's own writers into a spool file that is sent while it grows. Parquet
 * is uncompressed: results mostly travel a data-centre network or loopback, where compression
 * costs more CPU than it saves, and clients without a codec library can still read it (the Python
 * client's fallback without pyarrow).
 */
const SPOOLED_FORMATS = {
  csv: { copyOptions: 'FORMAT csv, HEADER true', extension: 'csv' },
  parquet: { copyOptions: 'FORMAT parquet, COMPRESSION uncompressed', extension: 'parquet' },
} as const;

/** Picks the result format from the Accept header (JSON when absent or any). */
export function negotiateFormat(accept: string | undefined): ResultFormat {
  if (accept === undefined || accept.trim() === '') return 'json';
  const ranges = accept
    .split(',')
    .map((part) => {
      const [media = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { media: media.trim(), q: q === undefined ? 1 : Number(q.slice(2)) };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { media } of ranges) {
    if (media === 'application/json' || media === '*/*' || media === 'application/*') return 'json';
    if (media === 'text/csv' || media === 'text/*') return 'csv';
    if (media === 'application/vnd.apache.arrow.stream') return 'arrow';
    if (media === 'application/vnd.apache.parquet') return 'parquet';
  }
  throw new NotAcceptableError(accept.slice(0, 200));
}

export interface DeliveryLimits {
  readonly maxRows: number;
  /**
   * True when the caller asked for max_rows. CSV applies a LIMIT only then: a LIMIT over the whole
   * query forces DuckDB to keep order in one pipeline, which costs up to 2x on large results; the
   * server-wide cap is then enforced by max_result_bytes.
   */
  readonly rowLimitRequested: boolean;
  readonly maxBytes: number;
  /**
   * The caller asked for the result's DuckDB column types (request header
   * X-Veil-Result-Schema: include), which CSV cannot carry and Arrow and Parquet carry only in
   * their own type systems. Clients use them to type the
   * values they parse (the Python client's pandas path without pyarrow).
   */
  readonly includeSchema?: boolean;
}

export interface DeliveryOutcome {
  rows: number;
  bytes: number;
}

export class ResultTooLargeError extends VeilError {
  constructor(maxBytes: number) {
    super('RESULT_TOO_LARGE', `the result exceeds ${maxBytes} bytes; select fewer rows or columns`);
  }
}

/**
 * Streams a prepared query's result in the requested format. Headers are sent only once the query
 * has bound and produced its first chunk (or, for CSV, bound), so most errors still get a proper
 * status; an error after that aborts the response, which clients see as a truncated body.
 */
export async function deliverResult(
  res: ServerResponse,
  format: ResultFormat,
  prepared: PreparedQuery,
  queries: ResultSource,
  limits: DeliveryLimits,
  spoolDirectory: string,
  headers: Record<string, string>,
): Promise<DeliveryOutcome> {
  if (format === 'csv' || format === 'parquet') return deliverSpooled(format, res, prepared, queries, limits, spoolDirectory, headers);
  // A client that goes away, even while its query waits for a slot or computes its first chunk,
  // stops the engine's work at once.
  const abort = new AbortController();
  const onClientGone = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClientGone);
  try {
    const stream = await queries.open(prepared, abort.signal);
    try {
      const first = await stream.nextChunk();
      // Arrow carries types itself, but some travel as text (HUGEINT, LIST...): the DuckDB type helps.
      const schemaHeader = limits.includeSchema === true ? resultSchemaHeader(stream.columns) : {};
      const writeHead = (): void => void res.writeHead(200, { ...headers, ...schemaHeader, 'Content-Type': CONTENT_TYPES[format] });
      if (format === 'json') return await writeJson(res, stream, first, limits, writeHead);
      writeHead();
      return await writeArrow(res, stream, first, limits);
    } finally {
      stream.close();
    }
  } catch (error) {
    throw abort.signal.aborted ? new ClientDisconnectedError() : error;
  } finally {
    res.off('close', onClientGone);
  }
}

/**
 * The chunks of a result, asking DuckDB for the next one before the current one is encoded, so
 * that DuckDB computes while JavaScript converts (the two run on different threads).
 */
async function* prefetched(stream: ResultStream, first: DuckDBDataChunk | null): AsyncGenerator<DuckDBDataChunk> {
  let current = first;
  while (current !== null) {
    const next = stream.nextChunk();
    // A failure of the prefetch surfaces when it is awaited below, not as an unhandled rejection.
    next.catch(() => undefined);
    yield current;
    current = await next;
  }
}

class ByteSink {
  bytes = 0;
  constructor(
    private readonly res: ServerResponse,
    private readonly maxBytes: number,
  ) {}

  async write(data: string | Uint8Array): Promise<void> {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.bytes += size;
    if (this.bytes > this.maxBytes) throw new ResultTooLargeError(this.maxBytes);
    if (this.res.destroyed) throw new ClientDisconnectedError();
    if (!this.res.write(data)) await drain(this.res);
  }
}

function drain(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { cleanup(); resolve(); };
    const onClose = (): void => { cleanup(); reject(new ClientDisconnectedError()); };
    const cleanup = (): void => { res.off('drain', onDrain); res.off('close', onClose); };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

const INTEGER_TYPES = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL]);

/** JSON numbers where they are exact; 64-bit and wider integers beyond 2^53 stay strings. */
function jsonValueFixer(columns: readonly ResultColumn[]): (row: Json[]) => Json[] {
  const numeric = columns.map((c) => INTEGER_TYPES.has(c.typeId));
  if (!numeric.some(Boolean)) return (row) => row;
  return (row) =>
    row.map((value, i) => {
      if (!numeric[i] || typeof value !== 'string') return value;
      const n = Number(value);
      return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(value)) && value.replace(/^-?0*|\.|-/g, '').length <= 15 ? n : value;
    });
}

/**
 * The largest value a JSON response carries. A bigger one is refused with a clear error (it would
 * not even fit in a JavaScript string past 512 MiB); CSV and Parquet carry any size.
 */
export const MAX_JSON_VALUE_BYTES = 64 * 1024 * 1024;

export class ValueTooLargeError extends VeilError {
  constructor(column: string, bytes: number | undefined) {
    super(
      'RESULT_TOO_LARGE',
      `a value of column ${column}${bytes === undefined ? '' : ` is ${bytes} bytes:`} too large for a JSON response (at most ${MAX_JSON_VALUE_BYTES} bytes a value); ask for text/csv or Parquet, or select part of it (substr)`,
      { column, maxValueBytes: MAX_JSON_VALUE_BYTES },
    );
  }
}

/** The rows of a chunk as JSON text, refusing values too large for JSON before converting them. */
function jsonChunkEncoder(columns: readonly ResultColumn[], maxRows: () => number): (chunk: DuckDBDataChunk) => { text: string; rows: number } {
  const fix = jsonValueFixer(columns);
  return (chunk) => {
    columns.forEach((column, index) => {
      const bytes = largestStringBytes(chunk, index, column.typeId);
      if (bytes > MAX_JSON_VALUE_BYTES) throw new ValueTooLargeError(column.name, bytes);
    });
    try {
      let parts = chunkRowsJson(chunk);
      if (parts.length > maxRows()) parts = parts.slice(0, maxRows());
      return { text: parts.map((row) => JSON.stringify(fix(row))).join(','), rows: parts.length };
    } catch (error) {
      // A value nested in a list or struct past what a JavaScript string holds.
      if (error instanceof RangeError) throw new ValueTooLargeError(columns.map((c) => c.name).join(', '), undefined);
      throw error;
    }
  };
}

/** JSON: the first chunk is encoded before the headers, so a value too large still gets a proper 413. */
async function writeJson(
  res: ServerResponse,
  stream: ResultStream,
  first: Awaited<ReturnType<ResultStream['nextChunk']>>,
  limits: DeliveryLimits,
  writeHead: () => void,
): Promise<DeliveryOutcome> {
  const sink = new ByteSink(res, limits.maxBytes);
  let rows = 0;
  let truncated = false;
  const encode = jsonChunkEncoder(stream.columns, () => limits.maxRows - rows);
  const head = `{"columns":${JSON.stringify(stream.columns.map((c) => ({ name: c.name, type: c.type })))},"rows":[`;
  let pending = first === null ? undefined : encode(first);
  if (pending !== undefined && head.length + pending.text.length > limits.maxBytes) throw new ResultTooLargeError(limits.maxBytes);
  writeHead();
  await sink.write(head);
  for await (const chunk of prefetched(stream, first)) {
    const encoded = pending ?? encode(chunk);
    pending = undefined;
    if (encoded.rows < chunk.rowCount) truncated = true;
    if (encoded.rows > 0) {
      await sink.write((rows === 0 ? '' : ',') + encoded.text);
      rows += encoded.rows;
    }
    if (truncated) break;
  }
  await sink.write(`],"row_count":${rows},"truncated":${truncated}}`);
  res.end();
  return { rows, bytes: sink.bytes };
}

async function writeArrow(res: ServerResponse, stream: ResultStream, first: Awaited<ReturnType<ResultStream['nextChunk']>>, limits: DeliveryLimits): Promise<DeliveryOutcome> {
  const sink = new ByteSink(res, limits.maxBytes);
  const encoder = new ArrowBatchEncoder(stream.columns);
  const writer = new RecordBatchStreamWriter();
  const flush = async (): Promise<void> => {
    const bytes = takeBufferedBytes(writer);
    if (bytes.byteLength > 0) await sink.write(bytes);
  };
  writer.reset(undefined, encoder.schema);
  let rows = 0;
  for await (const chunk of prefetched(stream, first)) {
    if (rows >= limits.maxRows) break;
    let batch = encoder.encode(chunk);
    if (rows + batch.numRows > limits.maxRows) batch = batch.slice(0, limits.maxRows - rows);
    writer.write(batch);
    rows += batch.numRows;
    await flush();
  }
  writer.finish();
  await flush();
  res.end();
  return { rows, bytes: sink.bytes };
}

/**
 * apache-arrow's writer queues encoded IPC messages in an internal byte queue. Taking them after
 * every batch (instead of piping the writer's async iterator) keeps memory at one batch and lets
 * socket backpressure pace DuckDB. Tied to apache-arrow 21's internals; result-writers.test pins it.
 */
function takeBufferedBytes(writer: RecordBatchStreamWriter): Uint8Array {
  const queue = (writer as unknown as { _sink: { _values: Uint8Array[] } })._sink;
  const values = queue._values;
  queue._values = [];
  if (values.length === 1) return values[0]!;
  return Buffer.concat(values);
}

export const RESULT_SCHEMA_HEADER = 'X-Veil-Result-Schema';

/** Beyond this the header is left out: HTTP clients refuse long header lines (Python's at 64 KiB). */
const MAX_RESULT_SCHEMA_HEADER = 32 * 1024;

/**
 * The header carrying the result's columns (base64url of the JSON list: header-safe whatever the
 * column names hold), or nothing when it would be too long for clients to accept.
 */
export function resultSchemaHeader(columns: readonly ResultColumn[]): Record<string, string> {
  const value = Buffer.from(JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type }))), 'utf8').toString('base64url');
  return value.length > MAX_RESULT_SCHEMA_HEADER ? {} : { [RESULT_SCHEMA_HEADER]: value };
}

/**
 * CSV and Parquet come from DuckDB's own writers: COPY of the checked query into a spool file
 * that Node sends while DuckDB is still writing it, so no value is touched in JavaScript
 * (PERFORMANCE.md: the native writer is 3-6x faster than per-value work). DuckDB writes at disk
 * speed and releases its engine slot as soon as it is done, whatever the client's pace; the file
 * is removed afterwards.
 */
async function deliverSpooled(
  format: keyof typeof SPOOLED_FORMATS,
  res: ServerResponse,
  prepared: PreparedQuery,
  queries: ResultSource,
  limits: DeliveryLimits,
  spoolDirectory: string,
  headers: Record<string, string>,
): Promise<DeliveryOutcome> {
  const { copyOptions, extension } = SPOOLED_FORMATS[format];
  const spool = path.join(spoolDirectory, `${randomUUID()}.${extension}`);
  const sink = new ByteSink(res, limits.maxBytes);
  const abort = new AbortController();
  // A client that goes away while DuckDB is still computing must stop the query at once.
  const onClientGone = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClientGone);
  // Bound on its own connection while the COPY starts, so it costs no latency.
  const schema = limits.includeSchema === true ? queries.describe(prepared) : undefined;
  schema?.catch(() => undefined);
  const copy = queries.copy(prepared, spool, copyOptions, limits.rowLimitRequested ? limits.maxRows : undefined, abort.signal);
  const chunks = followFile(spool, copy, abort.signal);
  try {
    // Headers wait for DuckDB's first bytes (or its failure), so errors that surface while the
    // writer starts (a failing cast in the first rows) still get a proper status and message.
    let next = await chunks.next();
    if (next.done) await copy;
    const schemaHeader = schema === undefined ? {} : resultSchemaHeader(await schema);
    res.writeHead(200, { ...headers, ...schemaHeader, 'Content-Type': CONTENT_TYPES[format] });
    while (!next.done) {
      await sink.write(next.value);
      next = await chunks.next();
    }
    const rows = await copy;
    if (abort.signal.aborted) throw new ClientDisconnectedError();
    res.end();
    return { rows, bytes: sink.bytes };
  } catch (error) {
    const clientGone = abort.signal.aborted;
    abort.abort();
    await chunks.return(undefined);
    await copy.catch(() => undefined);
    throw clientGone ? new ClientDisconnectedError() : error;
  } finally {
    res.off('close', onClientGone);
    await rm(spool, { force: true });
  }
}
