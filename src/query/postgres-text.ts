import { DuckDBTypeId, sqlIdentifier, type ResultColumn } from '../engine/index.ts';

/** Column types whose DuckDB CSV form is PostgreSQL's text form, or is made so by postgresText(). */
const NATIVE_TYPES: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.UUID,
]);

/** Whether DuckDB's own CSV writer can write these columns as PostgreSQL's COPY … CSV would. */
export function postgresCsvEligible(columns: readonly Pick<ResultColumn, 'typeId'>[]): boolean {
  return columns.length > 0 && columns.every((c) => NATIVE_TYPES.has(c.typeId));
}

/**
 * A SELECT over `sql` whose columns DuckDB's CSV writer prints exactly as PostgreSQL's text output
 * (the engine's session is UTC): booleans as t/f; doubles as float8out with extra_float_digits=1
 * (integral values without ".0", -0, NaN and ±Infinity, exponent form from 1e15). Above 2^53
 * PostgreSQL sometimes picks another shortest decimal than DuckDB's: the value is the same double.
 * Columns are addressed by position, so duplicate or odd names cannot confuse it.
 */
export function postgresTextSelect(sql: string, columns: readonly ResultColumn[]): string {
  const names = columns.map((_, i) => `c${i}`);
  const expressions = columns.map((column, i) => {
    const c = sqlIdentifier(names[i]!);
    switch (column.typeId) {
      case DuckDBTypeId.BOOLEAN:
        return `CASE WHEN ${c} THEN 't' WHEN NOT ${c} THEN 'f' END`;
      case DuckDBTypeId.DOUBLE:
        return float8Text(c);
      default:
        return c;
    }
  });
  return `SELECT ${expressions.map((e, i) => `${e} AS ${sqlIdentifier(names[i]!)}`).join(', ')} FROM (${sql}) AS __veil_pg(${names.map(sqlIdentifier).join(', ')})`;
}

/** PostgreSQL's float8out (extra_float_digits = 1) from DuckDB's shortest round-trip digits. */
function float8Text(c: string): string {
  const unsigned = `ltrim(CAST(${c} AS VARCHAR), '-')`;
  const digits = `rtrim(replace(${unsigned}, '.', ''), '0')`;
  return `CASE WHEN ${c} IS NULL THEN NULL
    WHEN isnan(${c}) THEN 'NaN'
    WHEN isinf(${c}) THEN CASE WHEN ${c} > 0 THEN 'Infinity' ELSE '-Infinity' END
    WHEN ${c} = 0 THEN CASE WHEN signbit(${c}) THEN '-0' ELSE '0' END
    WHEN abs(${c}) < 1e15 AND ${c} = trunc(${c}) THEN CAST(CAST(${c} AS BIGINT) AS VARCHAR)
    WHEN abs(${c}) >= 1e15 AND abs(${c}) < 1e16 THEN (CASE WHEN ${c} < 0 THEN '-' ELSE '' END) || left(${digits}, 1) || CASE WHEN length(${digits}) > 1 THEN '.' || substr(${digits}, 2) ELSE '' END || 'e+15'
    ELSE CAST(${c} AS VARCHAR) END`;
}
