/**
 * The shapes the Veil HTTP API returns, as this client hands them out. Field names stay the
 * server's (snake_case) for catalog, explain and identity documents, so they read the same here,
 * in the OpenAPI document and in curl output; only the query result, which the client builds
 * itself, uses camelCase.
 */

/**
 * One value of a JSON result, as the server encodes it:
 * - numbers for every numeric column when exact: integers up to ±2^53, FLOAT, DOUBLE, DECIMAL;
 * - BIGINT, UBIGINT and HUGEINT values beyond ±2^53 as decimal strings (`"9007199254740993"`), so
 *   no digit is lost: a 64-bit column can hold numbers and strings; use `scanAsArrow` for bigint;
 * - booleans; strings for text;
 * - DATE as `"2020-02-29"`, TIMESTAMP as `"2020-07-01 10:11:12.123456"` (no zone: DuckDB's
 *   timestamp is zone-less; microseconds kept), TIMESTAMPTZ in UTC as `"2020-07-01 08:11:12+00"`,
 *   TIME as `"10:11:12"`; left as strings because a JS Date would drop the microseconds and invent
 *   a zone (`new Date(v.replace(' ', 'T') + 'Z')` when milliseconds in UTC are what you want);
 * - LIST as arrays, STRUCT and MAP as objects, INTERVAL as `{months, days, micros}`, BLOB as
 *   escaped text (`"\\xAA"`);
 * - null for SQL NULL, including cells a policy nulls.
 */
export type VeilValue = null | boolean | number | string | readonly VeilValue[] | { readonly [key: string]: VeilValue };

/** One row as an object: column name → value. */
export type VeilRecord = Record<string, VeilValue>;

export interface ResultColumn {
  readonly name: string;
  /** DuckDB type name, e.g. `VARCHAR`, `BIGINT`, `DECIMAL(10,2)`, `TIMESTAMP`. */
  readonly type: string;
}

/** A query result in row arrays (compact, keeps duplicate column names and column order). */
export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** One array per row, values in `columns` order. */
  readonly rows: readonly (readonly VeilValue[])[];
  readonly rowCount: number;
  /**
   * True when more rows existed than were returned: the `maxRecords` asked for, or the server's
   * `max_result_rows` cap when none was asked for.
   */
  readonly truncated: boolean;
  /** The server's request id: the key of this access in `veil_system.audit_log`. */
  readonly requestId: string | null;
}

export interface ReadOptions {
  /** At most this many rows (the server's `max_rows`); the server's own cap applies regardless. */
  readonly maxRecords?: number;
  /** Only these columns; datasets only (select columns in the SQL otherwise). */
  readonly columns?: readonly string[];
}

export interface QueryOptions {
  /** At most this many rows; see {@link QueryResult.truncated}. */
  readonly maxRecords?: number;
}

export interface ListDatasetsOptions {
  /** Only datasets of this database. */
  readonly database?: string;
  /** Also list Veil's built-in datasets (`veil_system.audit_log`). */
  readonly includeSystem?: boolean;
}

/** A dataset in a listing. `access` is `metadata` when the caller may know it exists but not read it. */
export interface DatasetSummary {
  readonly name: string;
  readonly database: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: readonly string[];
  readonly access: 'read' | 'metadata';
}

/** A column as the caller may see it: `hidden` columns are absent from results; `masked` ones are transformed. */
export interface ColumnDescription {
  readonly name: string;
  readonly type: string;
  readonly tags: readonly string[];
  readonly description: string;
  readonly access: 'clear' | 'masked' | 'hidden';
  /** The transform applied for this caller (`mask_show_last(4)`, `null when consent_research = false`), or null. */
  readonly transform: string | null;
}

export interface RowFilter {
  readonly predicate: string;
  readonly policy: string;
}

/** A dataset's schema, tags and description, with the caller's own access per column. */
export interface DatasetDescription extends DatasetSummary {
  readonly format: string;
  /** Why the caller may not read the dataset, when `access` is `metadata`. */
  readonly denial?: string;
  readonly columns: readonly ColumnDescription[];
  readonly row_filters: readonly RowFilter[];
  readonly policies: readonly string[];
}

export interface ExplainedColumn {
  readonly name: string;
  readonly type: string;
  readonly access: 'clear' | 'masked' | 'hidden';
  readonly transform: string | null;
  readonly policies: readonly string[];
  readonly reason: string;
}

export interface ExplainedDataset {
  readonly dataset: string;
  readonly columns: readonly ExplainedColumn[];
  readonly row_filters: readonly RowFilter[];
  readonly policies: readonly string[];
  /** The policy-applied scan that replaces the dataset in the query. */
  readonly scan_sql: string;
}

/** What a query would do for the caller, without running it. */
export interface Explanation {
  readonly statement: string;
  /** The SQL that would run, with every dataset replaced by its policy-applied scan. */
  readonly rewritten_sql: string;
  readonly datasets: readonly ExplainedDataset[];
}

/** The caller, as the server resolved the token. */
export interface Principal {
  readonly user: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /** How the server verified the token: a locally issued JWT, an OIDC provider's, or an API token (`via` names the issuer or token). */
  readonly authenticated_by?: { readonly method: string; readonly via: string | null } | null;
  /** Whether the caller is in one of the server's admin groups. */
  readonly admin?: boolean;
}
