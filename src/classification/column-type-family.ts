/**
 * The coarse kind of a column, from the DuckDB type name the catalog stores (`VARCHAR`, `BIGINT`,
 * `DECIMAL(10,2)`, `TIMESTAMP WITH TIME ZONE`, …). The classifier only needs to know which tags a type
 * can carry at all, so the leading keyword suffices; an empty or unknown name is treated as text so a
 * caller without types still gets proposals.
 * @see https://duckdb.org/docs/sql/data_types/overview
 */
export type TypeFamily = 'text' | 'integer' | 'decimal' | 'date' | 'timestamp' | 'boolean' | 'other';

const INTEGER_TYPES = new Set([
  'TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
  'UBIGINT', 'UHUGEINT', 'INT1', 'INT2', 'INT4', 'INT8', 'LONG', 'SHORT', 'SIGNED',
]);
const DECIMAL_TYPES = new Set(['DECIMAL', 'NUMERIC', 'DOUBLE', 'FLOAT', 'REAL', 'FLOAT4', 'FLOAT8']);
const TEXT_TYPES = new Set(['VARCHAR', 'TEXT', 'STRING', 'CHAR', 'BPCHAR', 'NVARCHAR', 'ENUM', 'INET', '']);

export function typeFamily(duckdbType: string): TypeFamily {
  const upper = duckdbType.trim().toUpperCase();
  // Lists (`VARCHAR[]`) hold several values per row: not classified. STRUCT, MAP, … fall to 'other' below.
  if (upper.includes('[')) return 'other';
  const keyword = upper.split(/[\s(]/)[0] ?? '';
  if (TEXT_TYPES.has(keyword)) return 'text';
  if (INTEGER_TYPES.has(keyword)) return 'integer';
  if (DECIMAL_TYPES.has(keyword)) return 'decimal';
  if (keyword === 'DATE') return 'date';
  if (keyword.startsWith('TIMESTAMP') || keyword === 'DATETIME') return 'timestamp';
  if (keyword === 'BOOLEAN' || keyword === 'BOOL') return 'boolean';
  return 'other';
}
