import { DuckDBTypeId, type ResultColumn } from '../engine/index.ts';

/**
 * PostgreSQL's view of a DuckDB column: the type OID, length and modifier sent in RowDescription
 * and listed in pg_type/pg_attribute. One table serves both, so that what a client learns from
 * the catalog matches what its results carry.
 *
 * @see https://www.postgresql.org/docs/current/catalog-pg-type.html
 * @see https://github.com/postgres/postgres/blob/master/src/include/catalog/pg_type.dat (the OIDs)
 */
export interface PgType {
  readonly oid: number;
  readonly name: string;
  /** Bytes of a fixed-width value, -1 for variable width (pg_type.typlen). */
  readonly length: number;
  /** pg_type.typcategory: B boolean, N numeric, S string, D date/time, T timespan, U user, A array. */
  readonly category: string;
  /** OID of the array type whose elements are this type (0 when PostgreSQL has none). */
  readonly arrayOid: number;
  /** For array types: the element type's OID, else 0. */
  readonly elementOid: number;
}

const base = (oid: number, name: string, length: number, category: string, arrayOid: number): PgType => ({ oid, name, length, category, arrayOid, elementOid: 0 });

/** The scalar types Veil's results use, by PostgreSQL name. */
export const PG_SCALAR_TYPES = {
  bool: base(16, 'bool', 1, 'B', 1000),
  bytea: base(17, 'bytea', -1, 'U', 1001),
  int8: base(20, 'int8', 8, 'N', 1016),
  int2: base(21, 'int2', 2, 'N', 1005),
  int4: base(23, 'int4', 4, 'N', 1007),
  text: base(25, 'text', -1, 'S', 1009),
  oid: base(26, 'oid', 4, 'N', 1028),
  json: base(114, 'json', -1, 'U', 199),
  float4: base(700, 'float4', 4, 'N', 1021),
  float8: base(701, 'float8', 8, 'N', 1022),
  varchar: base(1043, 'varchar', -1, 'S', 1015),
  date: base(1082, 'date', 4, 'D', 1182),
  time: base(1083, 'time', 8, 'D', 1183),
  timestamp: base(1114, 'timestamp', 8, 'D', 1115),
  timestamptz: base(1184, 'timestamptz', 8, 'D', 1185),
  interval: base(1186, 'interval', 16, 'T', 1187),
  timetz: base(1266, 'timetz', 12, 'D', 1270),
  numeric: base(1700, 'numeric', -1, 'N', 1231),
  uuid: base(2950, 'uuid', 16, 'U', 2951),
} as const satisfies Record<string, PgType>;

export type PgScalarName = keyof typeof PG_SCALAR_TYPES;

/** The array types of the scalars above (`_int4` and so on), as PostgreSQL names them. */
export const PG_ARRAY_TYPES: readonly PgType[] = Object.values(PG_SCALAR_TYPES).map((t) => ({
  oid: t.arrayOid,
  name: `_${t.name}`,
  length: -1,
  category: 'A',
  arrayOid: 0,
  elementOid: t.oid,
}));

/** Every type Veil ever reports, scalars then arrays: what pg_type lists. */
export const PG_TYPES: readonly PgType[] = [...Object.values(PG_SCALAR_TYPES), ...PG_ARRAY_TYPES];

/**
 * The PostgreSQL scalar for a DuckDB type id. Types PostgreSQL lacks are sent as text (their
 * DuckDB text form): unsigned and 128-bit integers become numeric so that no value overflows.
 */
export function pgScalarFor(typeId: DuckDBTypeId): PgType {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return PG_SCALAR_TYPES.bool;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return PG_SCALAR_TYPES.int2;
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return PG_SCALAR_TYPES.int4;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return PG_SCALAR_TYPES.int8;
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.BIGNUM:
      return PG_SCALAR_TYPES.numeric;
    case DuckDBTypeId.FLOAT:
      return PG_SCALAR_TYPES.float4;
    case DuckDBTypeId.DOUBLE:
      return PG_SCALAR_TYPES.float8;
    case DuckDBTypeId.DATE:
      return PG_SCALAR_TYPES.date;
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return PG_SCALAR_TYPES.time;
    case DuckDBTypeId.TIME_TZ:
      return PG_SCALAR_TYPES.timetz;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return PG_SCALAR_TYPES.timestamp;
    case DuckDBTypeId.TIMESTAMP_TZ:
      return PG_SCALAR_TYPES.timestamptz;
    case DuckDBTypeId.INTERVAL:
      return PG_SCALAR_TYPES.interval;
    case DuckDBTypeId.BLOB:
      return PG_SCALAR_TYPES.bytea;
    case DuckDBTypeId.UUID:
      return PG_SCALAR_TYPES.uuid;
    default:
      // VARCHAR, ENUM, STRUCT, MAP, UNION, BIT, JSON-as-VARCHAR, …: their text form.
      return PG_SCALAR_TYPES.text;
  }
}

/** The type a column is announced with in RowDescription and pg_attribute. */
export interface PgColumnType {
  readonly type: PgType;
  /** pg_attribute.atttypmod / RowDescription's type modifier: -1 unless numeric(p,s). */
  readonly modifier: number;
}

/** The PostgreSQL type of a DuckDB column: lists of a scalar become that scalar's array type. */
export function pgColumnType(column: Pick<ResultColumn, 'typeId' | 'decimal' | 'elementTypeId'>): PgColumnType {
  if ((column.typeId === DuckDBTypeId.LIST || column.typeId === DuckDBTypeId.ARRAY) && column.elementTypeId !== undefined) {
    const element = pgScalarFor(column.elementTypeId);
    const array = PG_ARRAY_TYPES.find((t) => t.elementOid === element.oid);
    return { type: array ?? PG_SCALAR_TYPES.text, modifier: -1 };
  }
  const type = pgScalarFor(column.typeId);
  // numeric(p,s) is encoded as ((p << 16) | s) + 4 (VARHDRSZ), as PostgreSQL's numeric typmod.
  const modifier = column.typeId === DuckDBTypeId.DECIMAL && column.decimal !== undefined ? ((column.decimal.width << 16) | column.decimal.scale) + 4 : -1;
  return { type, modifier };
}

/** The SQL spelling of a type as format_type() gives it (psql's \d, information_schema). */
export function formatPgType(column: PgColumnType): string {
  const { type, modifier } = column;
  if (type.oid === PG_SCALAR_TYPES.numeric.oid && modifier >= 4) return `numeric(${(modifier - 4) >> 16},${(modifier - 4) & 0xffff})`;
  const names: Record<string, string> = {
    bool: 'boolean',
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float4: 'real',
    float8: 'double precision',
    varchar: 'character varying',
    timestamp: 'timestamp without time zone',
    timestamptz: 'timestamp with time zone',
    time: 'time without time zone',
    timetz: 'time with time zone',
  };
  if (type.elementOid !== 0) {
    const element = PG_TYPES.find((t) => t.oid === type.elementOid);
    return `${element === undefined ? 'text' : (names[element.name] ?? element.name)}[]`;
  }
  return names[type.name] ?? type.name;
}
