import type { Table } from 'apache-arrow';
import { tableFromArrowStream } from './arrow-decoding.ts';
import type {
  DatasetDescription,
  DatasetSummary,
  Explanation,
  ListDatasetsOptions,
  Principal,
  QueryOptions,
  QueryResult,
  ReadOptions,
  ResultColumn,
  VeilRecord,
  VeilValue,
} from './client-types.ts';
import { VeilServerError } from './client-errors.ts';
import type { HttpTransport, OpenResponse, RequestSpec } from './http-transport.ts';
import { rowsToRecords } from './result-records.ts';

const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

/** `database.name`, as the server's catalog spells dataset names (it lower-cases them). */
const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the text names a dataset (goes to /v1/scan) rather than being SQL (goes to /v1/query). */
export function isDatasetName(text: string): boolean {
  return DATASET_NAME.test(text.trim());
}

/**
 * A connection to one Veil server as one caller. Holds no socket of its own (Node's fetch pools
 * connections), so it is cheap, safe to share, and needs no closing. Every method is one HTTP
 * request, authenticated with the token current at that moment and audited by the server as door
 * `ts`.
 */
export class VeilClient {
  /** The server's base URL. */
  readonly url: string;
  /** What the audit trail records as this client's application, after `veil-ts/<version>`. */
  readonly applicationName: string | undefined;
  readonly #transport: HttpTransport;

  /** @internal Use {@link connect}. */
  constructor(transport: HttpTransport, url: string, applicationName: string | undefined) {
    this.#transport = transport;
    this.url = url;
    this.applicationName = applicationName;
  }

  /**
   * A dataset (`"drug_xyz.trial_july2020"`) or one SELECT statement as plain objects, one per row,
   * column name → value, with the caller's policies applied (hidden columns absent, masked values
   * masked, filtered rows gone). Values are as {@link VeilValue} describes: numbers, booleans,
   * strings, null, with 64-bit integers beyond 2^53 and all dates and timestamps as strings.
   * The whole result is held in memory; for large results prefer {@link scanAsArrow}.
   */
  async scanAsObjects(datasetOrSql: string, options: ReadOptions = {}): Promise<VeilRecord[]> {
    const result = await this.fetchJsonResult(resultRequest(datasetOrSql, options));
    return rowsToRecords(result.columns, result.rows, result.requestId);
  }

  /**
   * The same result as an Apache Arrow table, decoded while the server streams it. Arrow keeps
   * types that JSON cannot: BIGINT as bigint (Int64), FLOAT/DOUBLE, BOOLEAN, DATE (Date32) and
   * TIMESTAMP (Timestamp, microsecond unit; `row.ts` gives epoch milliseconds). DECIMAL arrives
   * as Float64; LIST, STRUCT, INTERVAL and TIME as JSON text (the server's Arrow encoding).
   */
  async scanAsArrow(datasetOrSql: string, options: ReadOptions = {}): Promise<Table> {
    const open = await this.#transport.open({ ...resultRequest(datasetOrSql, options), accept: ARROW_STREAM });
    return this.#transport.read(open, async (response) => {
      if (response.body === null) throw new Error('the response has no body');
      return tableFromArrowStream(response.body);
    });
  }

  /**
   * One SELECT statement, with rows as arrays in column order, plus the column types, whether the
   * result was truncated, and the request id under which the access was audited. Values as in
   * {@link scanAsObjects}.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    return this.fetchJsonResult({ method: 'POST', path: 'v1/query', body: { sql, ...maxRows(options.maxRecords) } });
  }

  /** Datasets the caller may see: readable ones, and those it may know of without reading (`access: 'metadata'`). */
  async listDatasets(options: ListDatasetsOptions = {}): Promise<DatasetSummary[]> {
    const search: Record<string, string> = {};
    if (options.database !== undefined) search['database'] = options.database;
    if (options.includeSystem === true) search['include_system'] = 'true';
    const { body } = await this.#transport.json<{ datasets: DatasetSummary[] }>({ method: 'GET', path: 'v1/datasets', search });
    return body.datasets;
  }

  /** Schema, tags and description of a dataset, with the caller's access and transform per column. */
  async describe(dataset: string): Promise<DatasetDescription> {
    // Checked here because the name becomes a path segment: "." and ".." would be resolved away.
    if (!isDatasetName(dataset)) throw new TypeError(`dataset names have the form database.name (got ${JSON.stringify(dataset)})`);
    const { body } = await this.#transport.json<DatasetDescription>({ method: 'GET', path: `v1/datasets/${encodeURIComponent(dataset.trim())}` });
    return body;
  }

  /** What a query would show the caller and why, per dataset, without running it. */
  async explain(sql: string): Promise<Explanation> {
    const { body } = await this.#transport.json<Explanation>({ method: 'POST', path: 'v1/explain', body: { sql } });
    return body;
  }

  /** The caller as the server sees the token: user, groups and attributes. */
  async me(): Promise<Principal> {
    const { body } = await this.#transport.json<Principal>({ method: 'GET', path: 'v1/me' });
    return body;
  }

  /** Names the server and application only: the token stays out of logs. */
  toString(): string {
    return `VeilClient(${this.url}${this.applicationName === undefined ? '' : `, application ${this.applicationName}`})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  private async fetchJsonResult(spec: RequestSpec): Promise<QueryResult> {
    const open = await this.#transport.open(spec);
    const body = await this.#transport.read(open, (response) => response.json() as Promise<unknown>);
    return checkedResult(body, open);
  }
}

function resultRequest(datasetOrSql: string, options: ReadOptions): RequestSpec {
  const limit = maxRows(options.maxRecords);
  if (isDatasetName(datasetOrSql)) {
    const columns = options.columns === undefined ? {} : { columns: [...options.columns] };
    return { method: 'POST', path: 'v1/scan', body: { dataset: datasetOrSql.trim(), ...columns, ...limit } };
  }
  if (options.columns !== undefined) throw new TypeError('the columns option applies to a dataset name; with SQL, name the columns in the SELECT');
  return { method: 'POST', path: 'v1/query', body: { sql: datasetOrSql, ...limit } };
}

function maxRows(maxRecords: number | undefined): { max_rows?: number } {
  if (maxRecords === undefined) return {};
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new RangeError(`maxRecords must be a non-negative integer (got ${maxRecords})`);
  return { max_rows: maxRecords };
}

/** The JSON result shape, checked once so a proxy's or another server's JSON is not mistaken for a result. */
function checkedResult(body: unknown, open: OpenResponse): QueryResult {
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { columns, rows, row_count: rowCount, truncated } = value;
  if (!Array.isArray(columns) || !Array.isArray(rows) || typeof rowCount !== 'number' || typeof truncated !== 'boolean') {
    throw new VeilServerError(`the response from the Veil server is not a query result (request ${open.requestId ?? 'unknown'})`, {
      code: 'INVALID_RESPONSE',
      status: open.response.status,
      requestId: open.requestId,
    });
  }
  return {
    columns: columns as ResultColumn[],
    rows: rows as VeilValue[][],
    rowCount,
    truncated,
    requestId: open.requestId,
  };
}
