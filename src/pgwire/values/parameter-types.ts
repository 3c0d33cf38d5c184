import { InvalidRequestError } from '../../errors/index.ts';

// ---------------------------------------------------------------------------------------------
// Parameters: Bind values to JavaScript values for DuckDB. Here: the type OIDs parameters
// arrive with, their names in error messages, and UTF-8 decoding of parameter bytes.

export const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

export const TYPE_NAMES: Readonly<Record<number, string>> = {
  [OID.bool]: 'boolean',
  [OID.int2]: 'smallint',
  [OID.int4]: 'integer',
  [OID.int8]: 'bigint',
  [OID.oid]: 'oid',
  [OID.float4]: 'real',
  [OID.float8]: 'double precision',
  [OID.numeric]: 'numeric',
  [OID.bytea]: 'bytea',
  [OID.date]: 'date',
  [OID.time]: 'time',
  [OID.timestamp]: 'timestamp',
  [OID.timestamptz]: 'timestamp with time zone',
  [OID.uuid]: 'uuid',
};

/** At most 64 characters of a client value, for error messages. */
function preview(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export function invalidSyntax(oid: number, text: string): InvalidRequestError {
  return new InvalidRequestError(`invalid input syntax for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}: ${preview(text)}`);
}

export function outOfRange(oid: number, text: string): InvalidRequestError {
  return new InvalidRequestError(`value ${preview(text)} is out of range for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(value: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    throw new InvalidRequestError('invalid byte sequence for encoding "UTF8" in a parameter');
  }
  if (text.includes('\u0000')) throw new InvalidRequestError('invalid byte sequence for encoding "UTF8": 0x00 in a parameter');
  return text;
}
