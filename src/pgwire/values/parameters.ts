import type { ParameterValue } from '../../engine/index.ts';
import { decodeBinary } from './binary-parameters.ts';
import { INT64_MAX } from './datetime-text.ts';
import { decodeUtf8, invalidSyntax, OID, outOfRange } from './parameter-types.ts';

/**
 * Turns a Bind parameter into a value to bind to DuckDB. Text parameters of string types (and
 * of unspecified type, OID 0) pass through; numbers and booleans are parsed as PostgreSQL's input
 * functions would; numeric, dates and times stay strings for DuckDB to cast exactly.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html (Bind)
 */
export function decodeParameter(value: Buffer | null, format: 0 | 1, typeOid: number): ParameterValue {
  if (value === null) return null;
  return format === 1 ? decodeBinary(value, typeOid) : decodeText(decodeUtf8(value), typeOid);
}

const INTEGER_TEXT = /^\s*([+-]?\d+)\s*$/;
const DECIMAL_TEXT = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;
const SPECIAL_FLOAT = /^\s*([+-]?)(nan|inf|infinity)\s*$/i;

function decodeText(text: string, oid: number): ParameterValue {
  switch (oid) {
    case OID.bool:
      return parseBool(text);
    case OID.int2:
      return parseInteger(text, oid, -32768, 32767);
    case OID.int4:
      return parseInteger(text, oid, -2147483648, 2147483647);
    case OID.oid:
      return parseInteger(text, oid, 0, 4294967295);
    case OID.int8: {
      const match = INTEGER_TEXT.exec(text);
      if (match === null) throw invalidSyntax(oid, text);
      const parsed = BigInt(match[1]!);
      if (parsed > INT64_MAX || parsed < -INT64_MAX - 1n) throw outOfRange(oid, text);
      return parsed;
    }
    case OID.float4:
    case OID.float8:
      return parseFloatText(text, oid);
    case OID.numeric: {
      const match = DECIMAL_TEXT.exec(text);
      if (match !== null) return match[1]!;
      const special = SPECIAL_FLOAT.exec(text);
      if (special === null) throw invalidSyntax(oid, text);
      return special[2]!.toLowerCase() === 'nan' ? 'NaN' : `${special[1] === '-' ? '-' : ''}Infinity`;
    }
    case OID.bytea:
      return parseByteaText(text);
    case OID.date:
    case OID.timestamp:
    case OID.timestamptz:
      return bcForDuckDb(text);
    default:
      // text, varchar, unknown (0), uuid, time, interval, json, …: DuckDB casts the string.
      return text;
  }
}

/** parse_bool_with_len: t/true, f/false, y/yes, n/no (any unique prefix), on/off, 1/0; any case. */
function parseBool(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (word.length > 0) {
    if ('true'.startsWith(word) || 'yes'.startsWith(word) || word === 'on' || word === '1') return true;
    if ('false'.startsWith(word) || 'no'.startsWith(word) || word === 'of' || word === 'off' || word === '0') return false;
  }
  throw invalidSyntax(OID.bool, text);
}

function parseInteger(text: string, oid: number, min: number, max: number): number {
  const match = INTEGER_TEXT.exec(text);
  if (match === null) throw invalidSyntax(oid, text);
  const parsed = Number(match[1]);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw outOfRange(oid, text);
  return parsed === 0 ? 0 : parsed;
}

/** float4in/float8in: decimal or exponent notation, NaN and the infinities; overflow and underflow are errors. */
function parseFloatText(text: string, oid: number): number {
  const special = SPECIAL_FLOAT.exec(text);
  if (special !== null) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) throw invalidSyntax(oid, text);
  const parsed = oid === OID.float4 ? Math.fround(Number(match[1])) : Number(match[1]);
  const mantissa = match[1]!.replace(/[eE].*$/, '');
  if (!Number.isFinite(parsed) || (parsed === 0 && /[1-9]/.test(mantissa))) throw outOfRange(oid, text);
  return parsed;
}

/** byteain: hex format (\x…) or the traditional escape format (\\ and \ooo). */
function parseByteaText(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2).replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw invalidSyntax(OID.bytea, text);
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  const raw = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let k = 0; k < raw.length; k++) {
    const byte = raw[k]!;
    if (byte !== 92) {
      out.push(byte);
    } else if (raw[k + 1] === 92) {
      out.push(92);
      k++;
    } else {
      const octal = raw.toString('latin1', k + 1, k + 4);
      if (!/^[0-3][0-7]{2}$/.test(octal)) throw invalidSyntax(OID.bytea, text);
      out.push(parseInt(octal, 8));
      k += 3;
    }
  }
  return new Uint8Array(out);
}

/**
 * PostgreSQL writes BC dates as "0044-03-15 BC" (after the time, if any); DuckDB reads
 * "0044-03-15 (BC)" with the marker right after the date, and silently reads a bare "BC" as AD.
 */
function bcForDuckDb(text: string): string {
  const match = /^\s*(\d+-\d+-\d+)(.*?)\s+BC\s*$/i.exec(text);
  return match === null ? text : `${match[1]} (BC)${match[2]}`;
}
