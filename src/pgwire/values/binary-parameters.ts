import type { ParameterValue } from '../../engine/index.ts';
import { FeatureNotSupportedError, InvalidRequestError } from '../../errors/index.ts';
import { ByteWriter } from './byte-writer.ts';
import { INT32_MAX, INT32_MIN, INT64_MAX, MICROS_PER_DAY, PG_EPOCH_DAYS, PG_EPOCH_MICROS, writeDateBody, writeTimeOfDay } from './datetime-text.ts';
import { NUMERIC_NEGATIVE } from './numeric.ts';
import { decodeUtf8, OID, TYPE_NAMES } from './parameter-types.ts';

// Bind parameters in binary format (the *recv functions' input) to values for DuckDB.

function expectLength(value: Buffer, length: number, oid: number): void {
  if (value.length !== length) {
    throw new InvalidRequestError(`incorrect binary data format for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}: expected ${length} bytes, got ${value.length}`);
  }
}

export function decodeBinary(value: Buffer, oid: number): ParameterValue {
  switch (oid) {
    case OID.bool:
      expectLength(value, 1, oid);
      return value[0] !== 0;
    case OID.int2:
      expectLength(value, 2, oid);
      return value.readInt16BE(0);
    case OID.int4:
      expectLength(value, 4, oid);
      return value.readInt32BE(0);
    case OID.oid:
      expectLength(value, 4, oid);
      return value.readUInt32BE(0);
    case OID.int8:
      expectLength(value, 8, oid);
      return value.readBigInt64BE(0);
    case OID.float4:
      expectLength(value, 4, oid);
      return value.readFloatBE(0);
    case OID.float8:
      expectLength(value, 8, oid);
      return value.readDoubleBE(0);
    case OID.bytea:
      return new Uint8Array(value);
    case 0:
    case OID.text:
    case OID.varchar:
    case OID.bpchar:
    case OID.name:
    case OID.unknown:
    case OID.json:
    case OID.xml:
      return decodeUtf8(value);
    case OID.date:
      expectLength(value, 4, oid);
      return dateParameter(value.readInt32BE(0));
    case OID.time: {
      expectLength(value, 8, oid);
      const micros = value.readBigInt64BE(0);
      if (micros < 0n || micros > BigInt(MICROS_PER_DAY)) throw new InvalidRequestError('time out of range in a binary parameter');
      return timeText(Number(micros));
    }
    case OID.timestamp:
    case OID.timestamptz:
      expectLength(value, 8, oid);
      return timestampParameter(value.readBigInt64BE(0), oid === OID.timestamptz);
    case OID.uuid:
      expectLength(value, 16, oid);
      return uuidText(value);
    case OID.numeric:
      return numericParameter(value);
    default:
      throw new FeatureNotSupportedError(`binary format is not supported for parameters of type oid ${oid}; send it in text format`);
  }
}

function timeText(micros: number): string {
  const w = new ByteWriter(32);
  writeTimeOfDay(w, micros);
  return w.buf.toString('latin1', 0, w.pos);
}

/** A date as DuckDB reads it: YYYY-MM-DD, with " (BC)" for years before 1. */
function dateParameterText(days: number): { date: string; bc: boolean } {
  const w = new ByteWriter(32);
  const bc = writeDateBody(w, days);
  return { date: w.buf.toString('latin1', 0, w.pos), bc };
}

function dateParameter(pgDays: number): string {
  if (pgDays === INT32_MAX) return 'infinity';
  if (pgDays === INT32_MIN) return '-infinity';
  const { date, bc } = dateParameterText(pgDays + PG_EPOCH_DAYS);
  return bc ? `${date} (BC)` : date;
}

function timestampParameter(pgMicros: bigint, withZone: boolean): string {
  if (pgMicros === INT64_MAX) return 'infinity';
  if (pgMicros === -INT64_MAX - 1n) return '-infinity';
  const micros = pgMicros + BigInt(PG_EPOCH_MICROS);
  const perDay = BigInt(MICROS_PER_DAY);
  let days = micros / perDay;
  let rest = micros - days * perDay;
  if (rest < 0n) {
    days--;
    rest += perDay;
  }
  const { date, bc } = dateParameterText(Number(days));
  return `${date}${bc ? ' (BC)' : ''} ${timeText(Number(rest))}${withZone ? '+00' : ''}`;
}

function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** numeric_recv: base-10000 digits back to exact decimal text, truncated to dscale digits. */
function numericParameter(value: Buffer): string {
  const malformed = (): InvalidRequestError => new InvalidRequestError('invalid binary numeric parameter');
  if (value.length < 8) throw malformed();
  const count = value.readInt16BE(0);
  const weight = value.readInt16BE(2);
  const sign = value.readUInt16BE(4);
  const scale = value.readUInt16BE(6);
  if (count < 0 || value.length !== 8 + count * 2 || scale > 0x3fff) throw malformed();
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  if (sign !== 0 && sign !== NUMERIC_NEGATIVE) throw malformed();
  const digits: number[] = [];
  for (let k = 0; k < count; k++) {
    const digit = value.readUInt16BE(8 + k * 2);
    if (digit > 9999) throw malformed();
    digits.push(digit);
  }
  const group = (index: number): number => (index >= 0 && index < count ? digits[index]! : 0);
  let integer = '';
  for (let k = 0; k <= weight; k++) integer += k === 0 ? String(group(k)) : String(group(k)).padStart(4, '0');
  if (integer === '') integer = '0';
  let fraction = '';
  for (let k = weight + 1; fraction.length < scale; k++) fraction += String(group(k)).padStart(4, '0');
  fraction = fraction.slice(0, scale);
  const text = scale > 0 ? `${integer}.${fraction}` : integer;
  return sign === NUMERIC_NEGATIVE && /[1-9]/.test(text) ? `-${text}` : text;
}
