import { formatPgType, PG_SCALAR_TYPES, PG_TYPES, type PgType } from './pg-types.ts';

/**
 * pg_type rows: every type of PG_TYPES (what results are announced with), plus the few catalog
 * types clients look up by name (name, "char", regproc, regclass, …). Values not in PgType
 * (input functions, alignment, storage, collation) are PostgreSQL 15's, from pg_type.dat.
 * @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/include/catalog/pg_type.dat
 */
export interface PgTypeRow {
  readonly type: PgType;
  readonly byValue: boolean;
  readonly align: 'c' | 's' | 'i' | 'd';
  readonly storage: 'p' | 'x' | 'm';
  readonly collation: number;
  /** Input function name (typinput); output/receive/send follow PostgreSQL's naming. */
  readonly input: string;
  readonly typmodIn: string;
  readonly preferred: boolean;
  /** format_type's spelling without a modifier. */
  readonly formatName: string;
}

interface Detail {
  readonly byValue: boolean;
  readonly align: 'c' | 's' | 'i' | 'd';
  readonly storage: 'p' | 'x' | 'm';
  readonly collation?: number;
  readonly input: string;
  readonly typmod?: string;
  readonly preferred?: boolean;
}

const DETAILS: Readonly<Record<string, Detail>> = {
  bool: { byValue: true, align: 'c', storage: 'p', input: 'boolin', preferred: true },
  bytea: { byValue: false, align: 'i', storage: 'x', input: 'byteain' },
  int8: { byValue: true, align: 'd', storage: 'p', input: 'int8in' },
  int2: { byValue: true, align: 's', storage: 'p', input: 'int2in' },
  int4: { byValue: true, align: 'i', storage: 'p', input: 'int4in' },
  text: { byValue: false, align: 'i', storage: 'x', collation: 100, input: 'textin', preferred: true },
  oid: { byValue: true, align: 'i', storage: 'p', input: 'oidin', preferred: true },
  json: { byValue: false, align: 'i', storage: 'x', input: 'json_in' },
  float4: { byValue: true, align: 'i', storage: 'p', input: 'float4in' },
  float8: { byValue: true, align: 'd', storage: 'p', input: 'float8in', preferred: true },
  varchar: { byValue: false, align: 'i', storage: 'x', collation: 100, input: 'varcharin', typmod: 'varchartypmod' },
  date: { byValue: true, align: 'i', storage: 'p', input: 'date_in' },
  time: { byValue: true, align: 'd', storage: 'p', input: 'time_in', typmod: 'timetypmod' },
  timestamp: { byValue: true, align: 'd', storage: 'p', input: 'timestamp_in', typmod: 'timestamptypmod' },
  timestamptz: { byValue: true, align: 'd', storage: 'p', input: 'timestamptz_in', typmod: 'timestamptztypmod', preferred: true },
  interval: { byValue: false, align: 'd', storage: 'p', input: 'interval_in', typmod: 'intervaltypmod', preferred: true },
  timetz: { byValue: false, align: 'd', storage: 'p', input: 'timetz_in', typmod: 'timetztypmod' },
  numeric: { byValue: false, align: 'i', storage: 'm', input: 'numeric_in', typmod: 'numerictypmod' },
  uuid: { byValue: false, align: 'c', storage: 'p', input: 'uuid_in' },
  char: { byValue: true, align: 'c', storage: 'p', input: 'charin' },
  name: { byValue: false, align: 'c', storage: 'p', collation: 950, input: 'namein' },
  int2vector: { byValue: false, align: 'i', storage: 'p', input: 'int2vectorin' },
  regproc: { byValue: true, align: 'i', storage: 'p', input: 'regprocin' },
  xid: { byValue: true, align: 'i', storage: 'p', input: 'xidin' },
  oidvector: { byValue: false, align: 'i', storage: 'p', input: 'oidvectorin' },
  bpchar: { byValue: false, align: 'i', storage: 'x', collation: 100, input: 'bpcharin', typmod: 'bpchartypmod' },
  regclass: { byValue: true, align: 'i', storage: 'p', input: 'regclassin' },
  regtype: { byValue: true, align: 'i', storage: 'p', input: 'regtypein' },
  regnamespace: { byValue: true, align: 'i', storage: 'p', input: 'regnamespacein' },
};

/** Catalog types that results never carry but clients look up (pg_type.dat values). */
const EXTRA_TYPES: readonly PgType[] = [
  { oid: 18, name: 'char', length: 1, category: 'Z', arrayOid: 1002, elementOid: 0 },
  { oid: 19, name: 'name', length: 64, category: 'S', arrayOid: 1003, elementOid: 18 },
  { oid: 22, name: 'int2vector', length: -1, category: 'A', arrayOid: 1006, elementOid: 21 },
  { oid: 24, name: 'regproc', length: 4, category: 'N', arrayOid: 1008, elementOid: 0 },
  { oid: 28, name: 'xid', length: 4, category: 'U', arrayOid: 1011, elementOid: 0 },
  { oid: 30, name: 'oidvector', length: -1, category: 'A', arrayOid: 1013, elementOid: 26 },
  { oid: 1042, name: 'bpchar', length: -1, category: 'S', arrayOid: 1014, elementOid: 0 },
  { oid: 2205, name: 'regclass', length: 4, category: 'N', arrayOid: 2210, elementOid: 0 },
  { oid: 2206, name: 'regtype', length: 4, category: 'N', arrayOid: 2211, elementOid: 0 },
  { oid: 4089, name: 'regnamespace', length: 4, category: 'N', arrayOid: 4090, elementOid: 0 },
];

const EXTRA_FORMAT_NAMES: Readonly<Record<string, string>> = { char: '"char"', bpchar: 'character' };

function rowFor(type: PgType): PgTypeRow {
  const isArray = type.category === 'A' && type.name.startsWith('_');
  const element = isArray ? PG_TYPES.find((t) => t.oid === type.elementOid) : undefined;
  const detail = DETAILS[element?.name ?? type.name];
  if (detail === undefined) throw new Error(`no pg_type details for ${type.name}`);
  const isExtra = EXTRA_TYPES.includes(type);
  return {
    type,
    byValue: isArray ? false : detail.byValue,
    align: isArray ? (detail.align === 'd' ? 'd' : 'i') : detail.align,
    storage: isArray ? 'x' : detail.storage,
    collation: detail.collation ?? 0,
    input: isArray ? 'array_in' : detail.input,
    typmodIn: detail.typmod === undefined ? '-' : `${detail.typmod}in`,
    preferred: !isArray && detail.preferred === true,
    formatName: isExtra ? (EXTRA_FORMAT_NAMES[type.name] ?? type.name) : formatPgType({ type, modifier: -1 }),
  };
}

export const PG_TYPE_ROWS: readonly PgTypeRow[] = [...PG_TYPES, ...EXTRA_TYPES].map(rowFor).sort((a, b) => a.type.oid - b.type.oid);

/** typinput → typoutput/typreceive/typsend, as PostgreSQL names them (int4in/int4out, date_in/date_out, array_in/array_out). */
export function ioFunctionNames(input: string): { output: string; receive: string; send: string } {
  const stem = input.endsWith('_in') ? input.slice(0, -3) + '_' : input.slice(0, -2);
  return { output: `${stem}out`, receive: `${stem}recv`, send: `${stem}send` };
}

/**
 * information_schema.columns details of a type: data_type (the SQL standard spelling PostgreSQL
 * uses there, ARRAY for arrays), numeric precision/radix and datetime precision.
 */
export interface InformationSchemaType {
  readonly oid: number;
  readonly dataType: string;
  readonly numericPrecision: number | null;
  readonly numericRadix: number | null;
  readonly numericScale: number | null;
  readonly datetimePrecision: number | null;
  readonly characterOctetLength: number | null;
}

export const INFORMATION_SCHEMA_TYPES: readonly InformationSchemaType[] = PG_TYPE_ROWS.map(({ type, formatName }) => {
  const numeric = (precision: number, radix: number, scale: number | null): Pick<InformationSchemaType, 'numericPrecision' | 'numericRadix' | 'numericScale'> => ({ numericPrecision: precision, numericRadix: radix, numericScale: scale });
  const none = { numericPrecision: null, numericRadix: null, numericScale: null };
  const byName: Record<string, Pick<InformationSchemaType, 'numericPrecision' | 'numericRadix' | 'numericScale'>> = {
    int2: numeric(16, 2, 0),
    int4: numeric(32, 2, 0),
    int8: numeric(64, 2, 0),
    float4: numeric(24, 2, null),
    float8: numeric(53, 2, null),
  };
  const datetime = ['date'].includes(type.name) ? 0 : ['time', 'timetz', 'timestamp', 'timestamptz', 'interval'].includes(type.name) ? 6 : null;
  const textual = type.oid === PG_SCALAR_TYPES.text.oid || type.oid === PG_SCALAR_TYPES.varchar.oid || type.name === 'bpchar';
  return {
    oid: type.oid,
    dataType: type.category === 'A' && type.name.startsWith('_') ? 'ARRAY' : type.name === 'char' ? '"char"' : formatName,
    ...(byName[type.name] ?? none),
    datetimePrecision: datetime,
    characterOctetLength: textual ? 1073741824 : null,
  };
});
