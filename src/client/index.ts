/**
 * The TypeScript client of Veil: read governed datasets from Node 20+ with the caller's policies
 * applied by the server, as plain objects or Apache Arrow tables. Every call is one HTTP request,
 * audited by the server under door `ts` with the application name you give.
 *
 * @example Connect and read
 * ```ts
 * import { connect } from 'veil/client';
 *
 * // url: option, else VEIL_URL, else http://localhost:7070
 * // token: option (string or function), else VEIL_TOKEN, else the file named by VEIL_TOKEN_FILE
 * const veil = connect({ applicationName: 'enrolment-report' });
 *
 * // A dataset name reads the whole dataset (POST /v1/scan) ...
 * const rows = await veil.scanAsObjects('drug_xyz.trial_july2020', { columns: ['ssn', 'country'], maxRecords: 100 });
 * // ... anything else is one SELECT statement (POST /v1/query).
 * const perArm = await veil.scanAsObjects('SELECT arm, avg(dose_mg) AS dose FROM drug_xyz.trial_july2020 GROUP BY arm');
 *
 * // Arrow keeps exact types (BIGINT as bigint, timestamps, floats) and decodes while streaming.
 * const table = await veil.scanAsArrow('drug_xyz.trial_july2020');
 * console.log(table.numRows, table.schema.fields.map((f) => `${f.name}: ${f.type}`));
 *
 * // Rows as arrays, with types, truncation and the audit request id.
 * const { columns, rows: arrays, truncated, requestId } = await veil.query('SELECT count(*) AS n FROM drug_xyz.adverse_events');
 *
 * await veil.listDatasets({ database: 'drug_xyz' });     // what I can see
 * await veil.describe('drug_xyz.trial_july2020');        // my access per column, and why
 * await veil.explain('SELECT * FROM drug_xyz.trial_july2020'); // what a query would show me
 * await veil.me();                                       // who the token says I am
 * ```
 *
 * @example Errors
 * ```ts
 * import { VeilNotFoundError, VeilPermissionError, VeilQueryError } from 'veil/client';
 * try {
 *   await veil.scanAsObjects('SELECT email FROM drug_xyz.trial_july2020');
 * } catch (e) {
 *   if (e instanceof VeilPermissionError) console.log(e.code, e.message, e.requestId); // COLUMN_ACCESS_DENIED, ACCESS_DENIED
 *   else if (e instanceof VeilNotFoundError) console.log('no such dataset, or not one I may know of');
 *   else if (e instanceof VeilQueryError) console.log(e.code); // INVALID_SQL, SQL_NOT_ALLOWED, QUERY_TIMEOUT, …
 *   else throw e;
 * }
 * ```
 *
 * Values (JSON results: `scanAsObjects`, `query`): numbers when exact, so 64-bit integers beyond
 * ±2^53 come as decimal strings; DATE, TIMESTAMP and TIME as strings (`"2020-07-01 10:11:12.123456"`,
 * zone-less, microseconds kept); LIST as arrays, STRUCT as objects; SQL NULL and policy-nulled cells
 * as null. See {@link VeilValue}. Arrow results keep the column types instead.
 *
 * Errors are {@link VeilClientError}s with the server's `code`, the HTTP `status` and the
 * `requestId` to look up in `veil_system.audit_log`: {@link VeilAuthError} (401, or no token),
 * {@link VeilPermissionError} (403), {@link VeilNotFoundError} (404), {@link VeilQueryError}
 * (other 4xx), {@link VeilServerError} (5xx), {@link VeilConnectionError} (no response; refused or
 * reset connections are tried 3 times with exponential back-off, HTTP errors never). The token
 * never appears in an error, in `toString()` or in `util.inspect` output.
 *
 * @packageDocumentation
 */
export { connect, DEFAULT_URL, type ConnectOptions } from './connect.ts';
export { VeilClient } from './veil-client.ts';
export { CLIENT_VERSION } from './client-identity.ts';
export type { TokenOption } from './token-source.ts';
export {
  VeilAuthError,
  VeilClientError,
  VeilConnectionError,
  VeilNotFoundError,
  VeilPermissionError,
  VeilQueryError,
  VeilServerError,
  type VeilClientErrorDetails,
} from './client-errors.ts';
export type {
  ColumnDescription,
  DatasetDescription,
  DatasetSummary,
  ExplainedColumn,
  ExplainedDataset,
  Explanation,
  ListDatasetsOptions,
  Principal,
  QueryOptions,
  QueryResult,
  ReadOptions,
  ResultColumn,
  RowFilter,
  VeilRecord,
  VeilValue,
} from './client-types.ts';
