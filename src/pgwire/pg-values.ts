import { chunkColumnForArrow, DuckDBTypeId, largestStringBytes, type DuckDBDataChunk, type ParameterValue, type ResultColumn } from '../engine/index.ts';
import { FeatureNotSupportedError, InvalidRequestError } from '../errors/index.ts';
import { PG_SCALAR_TYPES, pgColumnType, pgScalarFor } from './pg-types.ts';

/**
 * Values on the PostgreSQL wire: DuckDB result chunks become DataRow messages in PostgreSQL 15's
 * text or binary output format, and Bind parameters become JavaScript values to bind to DuckDB.
 *
 * Text output follows the backend's *out functions with the default settings clients expect
 * (DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 1); binary output
 * follows the *send functions.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html (DataRow)
 * @see https://github.com/postgres/postgres/tree/REL_15_STABLE/src/backend/utils/adt (float.c, numeric.c, datetime.c, arrayfuncs.c)
 */

/** A Bind parameter as a value DuckDB can bind (the engine's type: DuckDbEngine.execute binds these). */
export type { ParameterValue };

/** Encodes rows [startRow, startRow + maxRows) of a chunk (default: all) as consecutive DataRow messages. */
export type RowEncoder = (chunk: DuckDBDataChunk, maxRows?: number, startRow?: number) => Buffer;

// ---------------------------------------------------------------------------------------------
// Output buffer

/** A growable output buffer; the hot loops read `buf` after `ensure` and advance `pos` themselves. */
class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function writeInt32(w: ByteWriter, value: number): void {
  const buf = w.buf;
  const p = w.pos;
  buf[p] = value >>> 24;
  buf[p + 1] = value >>> 16;
  buf[p + 2] = value >>> 8;
  buf[p + 3] = value;
  w.pos = p + 4;
}

function patchInt32(buf: Buffer, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/** A safe integer as a big-endian int64. */
function writeInt64Number(w: ByteWriter, value: number): void {
  const hi = Math.floor(value / 4294967296);
  writeInt32(w, hi | 0);
  writeInt32(w, value - hi * 4294967296);
}

function writeInt64Big(w: ByteWriter, value: bigint): void {
  writeInt32(w, Number(BigInt.asIntN(32, value >> 32n)));
  writeInt32(w, Number(BigInt.asUintN(32, value)));
}

/** Copies `size` little-endian bytes as big-endian (DuckDB stores native little-endian; the wire is network order). */
function writeReversed(w: ByteWriter, bytes: Uint8Array, at: number, size: number): void {
  const buf = w.buf;
  let p = w.pos;
  for (let k = at + size - 1; k >= at; k--) buf[p++] = bytes[k]!;
  w.pos = p;
}

/** A string known to be ASCII (digits, signs, date punctuation). */
function writeAscii(w: ByteWriter, text: string): void {
  w.ensure(text.length);
  const buf = w.buf;
  let p = w.pos;
  for (let k = 0; k < text.length; k++) buf[p++] = text.charCodeAt(k);
  w.pos = p;
}

function writeUtf8(w: ByteWriter, text: string): void {
  w.ensure(text.length * 3);
  w.pos += w.buf.write(text, w.pos, 'utf8');
}

function writeBytes(w: ByteWriter, bytes: Uint8Array): void {
  w.ensure(bytes.length);
  w.buf.set(bytes, w.pos);
  w.pos += bytes.length;
}

const DIGITS = new Uint8Array(64);

/**
 * A non-negative safe integer as decimal digits, with a decimal point `scale` digits from the
 * right (zero-padded so that at least one digit precedes the point): numeric(p,s) output.
 */
function writeScaledDigits(w: ByteWriter, value: number, scale: number): void {
  let n = 0;
  let rest = value;
  while (rest >= 2147483648) {
    const q = Math.floor(rest / 10);
    DIGITS[n++] = rest - q * 10;
    rest = q;
  }
  let small = rest | 0;
  do {
    const q = (small / 10) | 0;
    DIGITS[n++] = small - q * 10;
    small = q;
  } while (small > 0);
  while (n <= scale) DIGITS[n++] = 0;
  w.ensure(n + 1);
  const buf = w.buf;
  let p = w.pos;
  for (let k = n - 1; k >= 0; k--) {
    buf[p++] = 48 + DIGITS[k]!;
    if (k === scale && scale > 0) buf[p++] = 46;
  }
  w.pos = p;
}

function writeSafeInt(w: ByteWriter, value: number): void {
  if (value < 0) {
    w.ensure(1);
    w.buf[w.pos++] = 45;
    writeScaledDigits(w, -value, 0);
  } else {
    writeScaledDigits(w, value, 0);
  }
}

/** Decimal digits of an integer's magnitude with the point `scale` digits from the right. */
function scaledText(negative: boolean, digits: string, scale: number): string {
  let text = digits;
  if (scale > 0) {
    if (text.length <= scale) text = '0'.repeat(scale - text.length + 1) + text;
    text = `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`;
  }
  return negative ? `-${text}` : text;
}

/** Two ASCII digits for 0..99. */
function writePadded2(buf: Buffer, p: number, value: number): void {
  const tens = (value / 10) | 0;
  buf[p] = 48 + tens;
  buf[p + 1] = 48 + value - tens * 10;
}

// ---------------------------------------------------------------------------------------------
// float4 / float8 text: PostgreSQL 12+ prints the shortest digits that read back to the same
// value (extra_float_digits >= 1, the default), in fixed notation for decimal exponents in
// [-4, 15) (float8) or [-4, 6) (float4), else as d.ddde+XX with at least two exponent digits.
// @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/common/d2s.c (to_chars)
// @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/common/f2s.c (to_chars)

function specialFloatText(value: number): string | undefined {
  if (value !== value) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  return undefined;
}

/** Shortest digits (no trailing zeros) and the decimal exponent of the first one. */
function splitExponential(text: string): { negative: boolean; digits: string; exponent: number } {
  const e = text.indexOf('e');
  const mantissa = text.slice(0, e);
  const negative = mantissa.startsWith('-');
  let digits = mantissa.replace('-', '').replace('.', '');
  while (digits.length > 1 && digits.endsWith('0')) digits = digits.slice(0, -1);
  return { negative, digits, exponent: Number(text.slice(e + 1)) };
}

function formatShortest(negative: boolean, digits: string, exponent: number, fixedBelow: number): string {
  let body: string;
  if (exponent >= -4 && exponent < fixedBelow) {
    if (exponent < 0) body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length <= exponent + 1) body = digits + '0'.repeat(exponent + 1 - digits.length);
    else body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = Math.abs(exponent);
    body = `${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
  }
  return negative ? `-${body}` : body;
}

/**
 * The shortest decimal strictly inside the round-trip interval of a double of at least 2^53 (an
 * integer, as are its neighbours), the closest of those, the even one on a tie: d2s.c with
 * acceptBounds = false, in exact integer arithmetic.
 */
function shortestInsideInterval(value: number, x: bigint, previous: bigint, next: bigint): { digits: string; exponent: number } {
  const low = x + previous; // twice the lower bound
  const high = x + next; // twice the upper bound
  for (let precision = 1; precision <= 17; precision++) {
    const { digits: shown, exponent: first } = splitExponential(value.toExponential(precision - 1));
    const power = first - precision + 1;
    const unit = BigInt(shown.padEnd(precision, '0'));
    const factor = 10n ** BigInt(Math.max(power, 0));
    let best: bigint | undefined;
    let bestDistance = 0n;
    for (const candidate of [unit - 1n, unit, unit + 1n]) {
      const doubled = 2n * candidate * factor;
      if (candidate <= 0n || doubled <= low || doubled >= high) continue;
      const distance = doubled > 2n * x ? doubled - 2n * x : 2n * x - doubled;
      if (best === undefined || distance < bestDistance || (distance === bestDistance && candidate % 2n === 0n)) {
        best = candidate;
        bestDistance = distance;
      }
    }
    if (best !== undefined && power >= 0) {
      let digits = best.toString();
      const exponent = power + digits.length - 1;
      while (digits.length > 1 && digits.endsWith('0')) digits = digits.slice(0, -1);
      return { digits, exponent };
    }
  }
  return splitExponential(value.toExponential());
}

const floatBits = new DataView(new ArrayBuffer(8));

/** The neighbouring float8 values of a double of at least 2^53, as integers (above the largest, as far as below it). */
function float8Neighbours(value: number, x: bigint): [bigint, bigint] {
  floatBits.setFloat64(0, value);
  const bits = floatBits.getBigUint64(0);
  floatBits.setBigUint64(0, bits - 1n);
  const previous = BigInt(floatBits.getFloat64(0));
  floatBits.setBigUint64(0, bits + 1n);
  const next = floatBits.getFloat64(0);
  return [previous, next === Infinity ? 2n * x - previous : BigInt(next)];
}

function float4Neighbours(value: number): [number, number] {
  floatBits.setFloat32(0, value);
  const bits = floatBits.getUint32(0);
  floatBits.setUint32(0, bits - 1);
  const previous = floatBits.getFloat32(0);
  floatBits.setUint32(0, bits + 1);
  const next = floatBits.getFloat32(0);
  // Above the largest float4, ryu's interval extends as far as below it.
  return [previous, next === Infinity ? value + (value - previous) : next];
}

/**
 * float8out. JavaScript's Number-to-String picks the same shortest, closest, tie-to-even digits
 * as ryu, except that it accepts a decimal exactly on the bound of the round-trip interval and
 * PostgreSQL does not (d2s.c is built with acceptBounds = false). Such a decimal is short only for
 * magnitudes of 2^53 and more, where bounds are integers; there the JavaScript digits are checked.
 */
export function pgFloat8Text(value: number): string {
  const special = specialFloatText(value);
  if (special !== undefined) return special;
  const magnitude = value < 0 ? -value : value;
  // Within [1e-4, 1e15) both JavaScript and PostgreSQL print fixed notation with the same digits.
  if (magnitude >= 1e-4 && magnitude < 1e15) return String(value);
  let { digits, exponent } = splitExponential(magnitude.toExponential());
  if (magnitude >= 2 ** 53) {
    const x = BigInt(magnitude);
    const [previous, next] = float8Neighbours(magnitude, x);
    const power = exponent - digits.length + 1;
    const doubled = power >= 0 ? 2n * BigInt(digits) * 10n ** BigInt(power) : -1n;
    if (doubled < 0n || doubled === x + previous || doubled === x + next) {
      ({ digits, exponent } = shortestInsideInterval(magnitude, x, previous, next));
    }
  }
  return formatShortest(value < 0, digits, exponent, 15);
}

/** Sign of unit × 10^power − value, exactly (value a positive finite double). */
function compareDecimal(unit: bigint, power: number, value: number): number {
  floatBits.setFloat64(0, value);
  const bits = floatBits.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  let left = unit;
  let right = mantissa;
  if (exponent >= 0) right <<= BigInt(exponent);
  else left <<= BigInt(-exponent);
  if (power >= 0) left *= 10n ** BigInt(power);
  else right *= 10n ** BigInt(-power);
  return left < right ? -1 : left > right ? 1 : 0;
}

const TENS = Array.from({ length: 80 }, (_, k) => Number(`1e${k}`));

/**
 * Whether unit × 10^power lies strictly inside (low, high), the round-trip interval of a float4
 * (PostgreSQL never accepts the bounds). The bounds are exact doubles; the candidate is computed
 * to within a few units in the last place, and anything that close to a bound is settled exactly.
 */
function insideInterval(unit: number, power: number, low: number, high: number): boolean {
  const candidate = power >= 0 ? unit * TENS[power]! : unit / TENS[-power]!;
  if (candidate > low * (1 + 1e-15) && candidate < high * (1 - 1e-15)) return true;
  if (candidate < low * (1 - 1e-15) || candidate > high * (1 + 1e-15)) return false;
  return compareDecimal(BigInt(unit), power, low) > 0 && compareDecimal(BigInt(unit), power, high) < 0;
}

/**
 * float4out, after f2s.c: the shortest decimal strictly inside the value's round-trip interval,
 * the closest of those, the even one on a tie. For normal values:
 * - JavaScript's shortest digits of the double are the answer when there are at most seven: two
 *   decimals of up to seven digits lie further apart than half a float4 interval;
 * - otherwise candidates come from the nine-digit expansion rounded to 1..9 digits. Rounding a
 *   rounded expansion can only go wrong where it shows a tie (…5 then zeros); there the side of the
 *   value is settled exactly. Up to six digits it cannot matter (half an interval is under 6e-8 of
 *   the value, the candidates' spacing at least 1e-6), from seven digits the candidate's
 *   neighbours are tried too (the interval is lopsided at powers of two).
 * Subnormals (less precision, wider intervals) try every precision with exact rounding.
 */
export function pgFloat4Text(value: number): string {
  const special = specialFloatText(value);
  if (special !== undefined) return special;
  const magnitude = value < 0 ? -value : value;
  const negative = value < 0;
  if (magnitude >= 2 ** -126) {
    // The closest seven-digit decimal reads back as the same double exactly when the double's
    // shortest form has at most seven digits (a double's interval holds one such decimal at most).
    const seven = magnitude.toExponential(6);
    if (Number(seven) === magnitude) return formatExponential(negative, seven, 6);
  }
  const [previous, next] = float4Neighbours(magnitude);
  const low = (magnitude + previous) / 2;
  const high = (magnitude + next) / 2;
  if (magnitude >= 2 ** -126) {
    const nine = magnitude.toExponential(8);
    const exponent = Number(nine.slice(11));
    let unit = 0;
    for (let precision = 1; precision <= 9; precision++) {
      unit = unit * 10 + nine.charCodeAt(precision === 1 ? 0 : precision) - 48;
      const power = exponent - precision + 1;
      let closest = unit;
      if (precision < 9) {
        const following = nine.charCodeAt(precision + 1) - 48;
        if (following >= 5) closest = unit + 1;
        if (precision >= 7 && following === 5 && (precision === 8 || nine.charCodeAt(9) === 48)) {
          const side = compareDecimal(BigInt(unit * 10 + 5), power - 1, magnitude);
          closest = side > 0 ? unit : side < 0 ? unit + 1 : unit % 2 === 0 ? unit : unit + 1;
        }
      } else {
        const ten = magnitude.toExponential(9);
        if (ten.charCodeAt(10) === 53 && compareDecimal(BigInt(ten.slice(0, 1) + ten.slice(2, 11)), power - 1, magnitude) === 0) {
          // An exact tie at the tenth digit, which toExponential rounded away from zero.
          const below = Number(ten.slice(0, 1) + ten.slice(2, 10));
          closest = below % 2 === 0 ? below : below + 1;
        }
      }
      if (insideInterval(closest, power, low, high)) return formatUnit(negative, closest, power, 6);
      if (precision >= 7) {
        if (insideInterval(closest - 1, power, low, high)) return formatUnit(negative, closest - 1, power, 6);
        if (insideInterval(closest + 1, power, low, high)) return formatUnit(negative, closest + 1, power, 6);
      }
    }
  }
  for (let precision = 1; precision <= 9; precision++) {
    const closest = magnitude.toExponential(precision - 1);
    const e = closest.indexOf('e');
    const unit = Number(closest.slice(0, e).replace('.', ''));
    const power = Number(closest.slice(e + 1)) - (precision - 1);
    if (insideInterval(unit, power, low, high)) {
      // toExponential rounds a tie away from zero, f2s to the even digit.
      if (unit % 2 === 1 && compareDecimal(BigInt(2 * unit - 1), power, 2 * magnitude) === 0 && insideInterval(unit - 1, power, low, high)) {
        return formatUnit(negative, unit - 1, power, 6);
      }
      return formatUnit(negative, unit, power, 6);
    }
    if (unit > 1 && insideInterval(unit - 1, power, low, high)) return formatUnit(negative, unit - 1, power, 6);
    if (insideInterval(unit + 1, power, low, high)) return formatUnit(negative, unit + 1, power, 6);
  }
  // Unreachable: nine significant digits always identify a float4.
  return String(value);
}

/** d.ddddde±X from toExponential, trailing zeros dropped, in float4out's layout. */
function formatExponential(negative: boolean, text: string, fixedBelow: number): string {
  const e = text.indexOf('e');
  let end = e;
  while (end > 2 && text.charCodeAt(end - 1) === 48) end--;
  const digits = end > 2 ? text.slice(0, 1) + text.slice(2, end) : text.slice(0, 1);
  return formatShortest(negative, digits, Number(text.slice(e + 1)), fixedBelow);
}

function formatUnit(negative: boolean, unit: number, power: number, fixedBelow: number): string {
  const text = String(unit);
  let end = text.length;
  while (end > 1 && text.charCodeAt(end - 1) === 48) end--;
  return formatShortest(negative, text.slice(0, end), power + text.length - 1, fixedBelow);
}

// ---------------------------------------------------------------------------------------------
// Dates and times. DuckDB counts days and microseconds from 1970-01-01; PostgreSQL's binary
// format counts from 2000-01-01. Both use the proleptic Gregorian calendar with a year 0 (1 BC).

const MICROS_PER_DAY = 86_400_000_000;
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MICROS = 946_684_800_000_000;
const INT64_MAX = 0x7fffffffffffffffn;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

/** YYYY-MM-DD of a day count; returns whether the year is BC (PostgreSQL appends " BC" last). */
function writeDateBody(w: ByteWriter, days: number): boolean {
  // Howard Hinnant's civil_from_days, with 32-bit arithmetic inside a 400-year era.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36_524) | 0) - ((doe / 146_096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  const mp = ((5 * doy + 2) / 153) | 0;
  const day = doy - (((153 * mp + 2) / 5) | 0) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const shown = year > 0 ? year : 1 - year;
  w.ensure(24);
  const buf = w.buf;
  let p = w.pos;
  if (shown < 10_000) {
    const century = (shown / 100) | 0;
    writePadded2(buf, p, century);
    writePadded2(buf, p + 2, shown - century * 100);
    p += 4;
  } else {
    const text = String(shown);
    for (let k = 0; k < text.length; k++) buf[p++] = text.charCodeAt(k);
  }
  buf[p] = 45;
  writePadded2(buf, p + 1, month);
  buf[p + 3] = 45;
  writePadded2(buf, p + 4, day);
  w.pos = p + 6;
  return year <= 0;
}

const BC_SUFFIX = Buffer.from(' BC');

function writeBc(w: ByteWriter): void {
  writeBytes(w, BC_SUFFIX);
}

/** date_out; DuckDB's infinite dates are ±INT32_MAX. */
function writeDate(w: ByteWriter, days: number): void {
  if (days === INT32_MAX) return writeAscii(w, 'infinity');
  if (days === -INT32_MAX) return writeAscii(w, '-infinity');
  if (writeDateBody(w, days)) writeBc(w);
}

/** HH:MM:SS[.ffffff] without trailing fraction zeros (AppendSeconds); `micros` is below 2^31 seconds. */
function writeTimeOfDay(w: ByteWriter, micros: number): void {
  const seconds = Math.floor(micros / 1_000_000);
  let fraction = (micros - seconds * 1_000_000) | 0;
  const hours = Math.floor(seconds / 3600);
  const inHour = (seconds - hours * 3600) | 0;
  const minutes = (inHour / 60) | 0;
  const secs = inHour - minutes * 60;
  w.ensure(32);
  const buf = w.buf;
  let p = w.pos;
  if (hours < 100) {
    writePadded2(buf, p, hours);
    p += 2;
  } else {
    const text = String(hours);
    for (let k = 0; k < text.length; k++) buf[p++] = text.charCodeAt(k);
  }
  buf[p] = 58;
  writePadded2(buf, p + 1, minutes);
  buf[p + 3] = 58;
  writePadded2(buf, p + 4, secs);
  p += 6;
  if (fraction !== 0) {
    buf[p++] = 46;
    let length = 6;
    while (fraction % 10 === 0) {
      fraction = (fraction / 10) | 0;
      length--;
    }
    for (let k = length - 1; k >= 0; k--) {
      const q = (fraction / 10) | 0;
      buf[p + k] = 48 + fraction - q * 10;
      fraction = q;
    }
    p += length;
  }
  w.pos = p;
}

const TZ_UTC = Buffer.from('+00');

/** timestamp_out / timestamptz_out (in UTC) for microseconds since 1970 as a safe integer. */
function writeTimestampMicros(w: ByteWriter, micros: number, withZone: boolean): void {
  let days = Math.floor(micros / MICROS_PER_DAY);
  let rest = micros - days * MICROS_PER_DAY;
  if (rest < 0) {
    days--;
    rest += MICROS_PER_DAY;
  } else if (rest >= MICROS_PER_DAY) {
    days++;
    rest -= MICROS_PER_DAY;
  }
  const bc = writeDateBody(w, days);
  w.ensure(1);
  w.buf[w.pos++] = 32;
  writeTimeOfDay(w, rest);
  if (withZone) writeBytes(w, TZ_UTC);
  if (bc) writeBc(w);
}

/** Microseconds since 1970 that do not fit a double exactly, or the infinities. */
function writeTimestampBig(w: ByteWriter, micros: bigint, withZone: boolean): void {
  if (micros >= INT64_MAX) return writeAscii(w, 'infinity');
  if (micros <= -INT64_MAX) return writeAscii(w, '-infinity');
  const perDay = BigInt(MICROS_PER_DAY);
  let days = micros / perDay;
  let rest = micros - days * perDay;
  if (rest < 0n) {
    days--;
    rest += perDay;
  }
  const bc = writeDateBody(w, Number(days));
  w.ensure(1);
  w.buf[w.pos++] = 32;
  writeTimeOfDay(w, Number(rest));
  if (withZone) writeBytes(w, TZ_UTC);
  if (bc) writeBc(w);
}

const INTERVAL_UNITS = ['year', 'mon', 'day'];

/** interval_out in IntervalStyle postgres (EncodeInterval, AddPostgresIntPart). */
function intervalText(months: number, days: number, micros: bigint): string {
  let out = '';
  let isZero = true;
  let isBefore = false;
  const values = [Math.trunc(months / 12), months % 12, days];
  for (let k = 0; k < 3; k++) {
    const value = values[k]!;
    if (value === 0) continue;
    out += `${isZero ? '' : ' '}${isBefore && value > 0 ? '+' : ''}${value} ${INTERVAL_UNITS[k]}${value !== 1 ? 's' : ''}`;
    isBefore = value < 0;
    isZero = false;
  }
  if (isZero || micros !== 0n) {
    const negative = micros < 0n;
    const magnitude = negative ? -micros : micros;
    const hours = magnitude / 3_600_000_000n;
    const scratch = new ByteWriter(32);
    writeTimeOfDay(scratch, Number(magnitude - hours * 3_600_000_000n));
    const clock = scratch.buf.toString('latin1', 3, scratch.pos); // drop the "00:" hours
    out += `${isZero ? '' : ' '}${negative ? '-' : isBefore ? '+' : ''}${hours < 10n ? '0' : ''}${hours}:${clock}`;
  }
  return out;
}

/** timetz_out: DuckDB's offset is seconds east of UTC (PostgreSQL stores west, prints east). */
function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function timeTzText(micros: number, offsetSeconds: number): string {
  const scratch = new ByteWriter(32);
  writeTimeOfDay(scratch, micros);
  const magnitude = Math.abs(offsetSeconds);
  const hours = Math.floor(magnitude / 3600);
  const minutes = Math.floor((magnitude % 3600) / 60);
  const seconds = magnitude % 60;
  let zone = `${offsetSeconds >= 0 ? '+' : '-'}${two(hours)}`;
  if (seconds !== 0) zone += `:${two(minutes)}:${two(seconds)}`;
  else if (minutes !== 0) zone += `:${two(minutes)}`;
  return scratch.buf.toString('latin1', 0, scratch.pos) + zone;
}

// ---------------------------------------------------------------------------------------------
// numeric binary: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits base-10000
// digits, most significant first, leading and trailing zero digits stripped (numeric_send).

const NUMERIC_NEGATIVE = 0x4000;

function writeNumeric(w: ByteWriter, negative: boolean, digits: string, scale: number): void {
  const integerLength = Math.max(digits.length - scale, 0);
  const integer = digits.slice(0, integerLength);
  const fraction = digits.length >= scale ? digits.slice(integerLength) : '0'.repeat(scale - digits.length) + digits;
  const aligned = '0'.repeat((4 - (integer.length % 4)) % 4) + integer + fraction + '0'.repeat((4 - (fraction.length % 4)) % 4);
  const groups: number[] = [];
  for (let k = 0; k < aligned.length; k += 4) groups.push(Number(aligned.slice(k, k + 4)));
  let weight = Math.ceil(integer.length / 4) - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const count = last - first;
  if (count === 0) weight = 0;
  w.ensure(8 + count * 2);
  const buf = w.buf;
  let p = w.pos;
  buf.writeInt16BE(count, p);
  buf.writeInt16BE(weight, p + 2);
  buf.writeUInt16BE(negative && count > 0 ? NUMERIC_NEGATIVE : 0, p + 4);
  buf.writeUInt16BE(scale, p + 6);
  p += 8;
  for (let k = first; k < last; k++, p += 2) buf.writeUInt16BE(groups[k]!, p);
  w.pos = p;
}

const GROUPS = new Uint16Array(64);
const POW10 = [1, 10, 100, 1000, 10_000];

/** numeric_send of a scaled safe integer, without going through its digit string. */
function writeNumericNumber(w: ByteWriter, negative: boolean, value: number, scale: number): void {
  let n = 0;
  let rest = value;
  const partial = scale % 4;
  if (partial !== 0) {
    const unit = POW10[partial]!;
    const q = Math.floor(rest / unit);
    GROUPS[n++] = (rest - q * unit) * POW10[4 - partial]!;
    rest = q;
  }
  const fractionGroups = Math.ceil(scale / 4);
  while (rest > 0 || n < fractionGroups) {
    const q = Math.floor(rest / 10_000);
    GROUPS[n++] = rest - q * 10_000;
    rest = q;
  }
  // GROUPS[0] is the least significant group.
  let weight = n - fractionGroups - 1;
  let high = n - 1;
  while (high >= 0 && GROUPS[high] === 0) {
    high--;
    weight--;
  }
  let low = 0;
  while (low <= high && GROUPS[low] === 0) low++;
  const count = high >= low ? high - low + 1 : 0;
  if (count === 0) weight = 0;
  w.ensure(8 + count * 2);
  const buf = w.buf;
  let p = w.pos;
  buf[p] = count >> 8;
  buf[p + 1] = count;
  buf[p + 2] = weight >> 8;
  buf[p + 3] = weight;
  const sign = negative && count > 0 ? NUMERIC_NEGATIVE : 0;
  buf[p + 4] = sign >> 8;
  buf[p + 5] = 0;
  buf[p + 6] = scale >> 8;
  buf[p + 7] = scale;
  p += 8;
  for (let k = high; k >= low; k--) {
    const group = GROUPS[k]!;
    buf[p++] = group >> 8;
    buf[p++] = group;
  }
  w.pos = p;
}

function writeNumericBig(w: ByteWriter, value: bigint, scale: number): void {
  const negative = value < 0n;
  writeNumeric(w, negative, (negative ? -value : value).toString(), scale);
}

// ---------------------------------------------------------------------------------------------
// Reading DuckDB vectors. @duckdb/node-api 1.5's vector classes keep their data in fields that
// are declared private but stable: typed `items`, a `dataView` of fixed-size slots, and a
// `validity` with DuckDB's little-endian validity words (the engine's Arrow path reads the same
// fields, src/engine/duckdb-engine.ts RawVector). They are read here without per-value objects;
// a layout change fails loudly, and pg-values.test.ts pins every type.

interface RawVector {
  readonly itemCount: number;
  readonly type: unknown;
  getItem(index: number): unknown;
  readonly items?: unknown;
  readonly dataView?: unknown;
  readonly validity?: { readonly data?: unknown; readonly offset?: unknown };
  /** ARRAY vectors: the flat child vector. */
  readonly childData?: unknown;
  /** LIST vectors (public API). */
  getEntryOffset?(index: number): number;
  getEntryLength?(index: number): number;
  readonly childVector?: unknown;
  /** BLOB vectors (public API). */
  getItemBytes?(index: number): Uint8Array | null;
}

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

function layoutError(what: string): Error {
  return new Error(`unexpected @duckdb/node-api vector layout (${what}); pgwire/pg-values.ts must be updated`);
}

/** Validity bits (bit i of byte i>>3), or null when every item is valid. */
function validityOf(vector: RawVector): Uint8Array | null {
  const validity = vector.validity;
  if (validity === undefined || (validity.offset !== undefined && validity.offset !== 0)) throw layoutError('validity');
  const data = validity.data;
  if (data === null) return null;
  if (!(data instanceof BigUint64Array)) throw layoutError('validity words');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function itemsOf<T extends ArrayBufferView & { readonly length: number }>(vector: RawVector, ctor: TypedArrayCtor<T>): T {
  const items = vector.items;
  if (!(items instanceof (ctor as unknown as new () => T)) || (items as T).length < vector.itemCount) throw layoutError(`items of ${String(vector.type)}`);
  return items as T;
}

function viewOf(vector: RawVector, width: number): DataView {
  const view = vector.dataView;
  if (!(view instanceof DataView) || view.byteLength < vector.itemCount * width) throw layoutError(`slots of ${String(vector.type)}`);
  return view;
}

function bytesOfView(view: DataView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function dataViewOf(items: ArrayBufferView): DataView {
  return new DataView(items.buffer, items.byteOffset, items.byteLength);
}

function typeField(vector: RawVector, field: string): unknown {
  const type = vector.type as Record<string, unknown> | null;
  return type === null || typeof type !== 'object' ? undefined : type[field];
}

// ---------------------------------------------------------------------------------------------
// Codecs: per DuckDB type, how to bind a vector (once per chunk) into writers of one item.

/** Writes the bytes of item `index` (known valid): its text form or its binary form, no length prefix. */
type ItemWriter = (w: ByteWriter, index: number) => void;

interface BoundVector {
  readonly valid: Uint8Array | null;
  readonly write: ItemWriter;
}

/** A result column's place in its chunk, for readers the engine offers per column. */
interface ChunkColumn {
  readonly chunk: DuckDBDataChunk;
  readonly index: number;
}

interface Codec {
  /** The PostgreSQL type announced for a value (array element OID in binary arrays). */
  readonly oid: number;
  /** Its text form can never need quotes inside an array literal. */
  readonly plainText: boolean;
  readonly hasBinary: boolean;
  /** Binds a vector: a result column (with `column`) or the child vector of a list. */
  bind(vector: RawVector, binary: boolean, column?: ChunkColumn): BoundVector;
}

function isValid(valid: Uint8Array | null, index: number): boolean {
  return valid === null || ((valid[index >> 3]! >> (index & 7)) & 1) === 1;
}

/** A codec over fixed per-type writers. */
function fixedCodec(typeId: DuckDBTypeId, plainText: boolean, text: (v: RawVector) => ItemWriter, binary?: (v: RawVector) => ItemWriter): Codec {
  return {
    oid: pgScalarFor(typeId).oid,
    plainText,
    hasBinary: binary !== undefined,
    bind(vector, asBinary) {
      const valid = validityOf(vector);
      if (asBinary) {
        if (binary === undefined) throw new Error('binary writer missing');
        return { valid, write: binary(vector) };
      }
      return { valid, write: text(vector) };
    },
  };
}

/**
 * A codec that reads values through the public getItem (types without a fast layout, and the
 * types sent as DuckDB's own text form: STRUCT, MAP, UNION, BIT, nested LISTs, …).
 */
function valueCodec(typeId: DuckDBTypeId, plainText: boolean, text: (value: unknown) => string, binary?: (w: ByteWriter, value: unknown) => void): Codec {
  return {
    oid: pgScalarFor(typeId).oid,
    plainText,
    hasBinary: binary !== undefined,
    bind(vector, asBinary) {
      const count = vector.itemCount;
      const values: unknown[] = new Array(count);
      let valid: Uint8Array | null = null;
      for (let i = 0; i < count; i++) {
        const value = vector.getItem(i);
        values[i] = value;
        if (value === null || value === undefined) {
          valid ??= new Uint8Array((count + 7) >> 3).fill(0xff);
          valid[i >> 3]! &= ~(1 << (i & 7));
        }
      }
      if (asBinary) {
        if (binary === undefined) throw new Error('binary writer missing');
        return { valid, write: (w, i) => binary(w, values[i]) };
      }
      return { valid, write: (w, i) => writeUtf8(w, text(values[i])) };
    },
  };
}

const TRUE_TEXT = 116; // 't'
const FALSE_TEXT = 102; // 'f'

const booleanCodec = fixedCodec(
  DuckDBTypeId.BOOLEAN,
  true,
  (v) => {
    const bytes = booleanBytes(v);
    return (w, i) => {
      w.ensure(1);
      w.buf[w.pos++] = bytes[i] !== 0 ? TRUE_TEXT : FALSE_TEXT;
    };
  },
  (v) => {
    const bytes = booleanBytes(v);
    return (w, i) => {
      w.ensure(1);
      w.buf[w.pos++] = bytes[i] !== 0 ? 1 : 0;
    };
  },
);

function booleanBytes(vector: RawVector): Uint8Array {
  const view = viewOf(vector, 1);
  if (view.byteLength !== vector.itemCount) throw layoutError('BOOLEAN width');
  return bytesOfView(view);
}

/** Integers of up to 32 bits: text digits, binary sized by the announced OID (int2/int4/int8). */
function smallIntCodec<T extends ArrayBufferView & ArrayLike<number>>(typeId: DuckDBTypeId, ctor: TypedArrayCtor<T>): Codec {
  const oid = pgScalarFor(typeId).oid;
  return fixedCodec(
    typeId,
    true,
    (v) => {
      const items = itemsOf(v, ctor);
      return (w, i) => writeSafeInt(w, items[i]!);
    },
    (v) => {
      const items = itemsOf(v, ctor);
      if (oid === PG_SCALAR_TYPES.int2.oid) {
        return (w, i) => {
          w.ensure(2);
          w.buf.writeInt16BE(items[i]!, w.pos);
          w.pos += 2;
        };
      }
      if (oid === PG_SCALAR_TYPES.int4.oid) {
        return (w, i) => {
          w.ensure(4);
          writeInt32(w, items[i]!);
        };
      }
      return (w, i) => {
        w.ensure(8);
        writeInt64Number(w, items[i]!);
      };
    },
  );
}

/** Little-endian 64-bit integers read as a safe number when they fit (no BigInt per value). */
function int64At(view: DataView, offset: number): number | undefined {
  const hi = view.getInt32(offset + 4, true);
  if (hi < -0x200000 || hi >= 0x200000) return undefined;
  return hi * 4294967296 + view.getUint32(offset, true);
}

function uint64At(view: DataView, offset: number): number | undefined {
  const hi = view.getUint32(offset + 4, true);
  if (hi >= 0x200000) return undefined;
  return hi * 4294967296 + view.getUint32(offset, true);
}

const bigIntCodec = fixedCodec(
  DuckDBTypeId.BIGINT,
  true,
  (v) => {
    const view = dataViewOf(itemsOf(v, BigInt64Array));
    return (w, i) => {
      const value = int64At(view, i * 8);
      if (value !== undefined) writeSafeInt(w, value);
      else writeAscii(w, view.getBigInt64(i * 8, true).toString());
    };
  },
  (v) => {
    const bytes = bytesOf(itemsOf(v, BigInt64Array));
    return (w, i) => {
      w.ensure(8);
      writeReversed(w, bytes, i * 8, 8);
    };
  },
);

function bytesOf(items: ArrayBufferView): Uint8Array {
  return new Uint8Array(items.buffer, items.byteOffset, items.byteLength);
}

/** UBIGINT is announced as numeric (it overflows int8). */
const uBigIntCodec = fixedCodec(
  DuckDBTypeId.UBIGINT,
  true,
  (v) => {
    const view = dataViewOf(itemsOf(v, BigUint64Array));
    return (w, i) => {
      const value = uint64At(view, i * 8);
      if (value !== undefined) writeSafeInt(w, value);
      else writeAscii(w, view.getBigUint64(i * 8, true).toString());
    };
  },
  (v) => {
    const view = dataViewOf(itemsOf(v, BigUint64Array));
    return (w, i) => {
      const value = uint64At(view, i * 8);
      if (value !== undefined) writeNumericNumber(w, false, value, 0);
      else writeNumeric(w, false, view.getBigUint64(i * 8, true).toString(), 0);
    };
  },
);

function hugeIntCodec(typeId: DuckDBTypeId.HUGEINT | DuckDBTypeId.UHUGEINT): Codec {
  const read = (view: DataView, i: number): bigint => {
    const upper = typeId === DuckDBTypeId.HUGEINT ? view.getBigInt64(i * 16 + 8, true) : view.getBigUint64(i * 16 + 8, true);
    return (upper << 64n) | view.getBigUint64(i * 16, true);
  };
  return fixedCodec(
    typeId,
    true,
    (v) => {
      const view = viewOf(v, 16);
      return (w, i) => writeAscii(w, read(view, i).toString());
    },
    (v) => {
      const view = viewOf(v, 16);
      return (w, i) => writeNumericBig(w, read(view, i), 0);
    },
  );
}

const floatCodec = fixedCodec(
  DuckDBTypeId.FLOAT,
  true,
  (v) => {
    const items = itemsOf(v, Float32Array);
    return (w, i) => writeAscii(w, pgFloat4Text(items[i]!));
  },
  (v) => {
    const bytes = bytesOf(itemsOf(v, Float32Array));
    return (w, i) => {
      w.ensure(4);
      writeReversed(w, bytes, i * 4, 4);
    };
  },
);

const doubleCodec = fixedCodec(
  DuckDBTypeId.DOUBLE,
  true,
  (v) => {
    const items = itemsOf(v, Float64Array);
    return (w, i) => writeAscii(w, pgFloat8Text(items[i]!));
  },
  (v) => {
    const bytes = bytesOf(itemsOf(v, Float64Array));
    return (w, i) => {
      w.ensure(8);
      writeReversed(w, bytes, i * 8, 8);
    };
  },
);

/**
 * DECIMAL(w,s) is stored as a scaled integer of 16, 32, 64 or 128 bits; numeric_out prints it
 * with exactly s fraction digits. The scale comes from the vector's type, so list elements work.
 */
function decimalReader(vector: RawVector): { scale: number; read: (i: number) => number | bigint } {
  const width = typeField(vector, 'width');
  const scale = typeField(vector, 'scale');
  if (typeof width !== 'number' || typeof scale !== 'number') throw layoutError('DECIMAL type');
  if (width <= 4) {
    const view = viewOf(vector, 2);
    return { scale, read: (i) => view.getInt16(i * 2, true) };
  }
  if (width <= 9) {
    const view = viewOf(vector, 4);
    return { scale, read: (i) => view.getInt32(i * 4, true) };
  }
  if (width <= 18) {
    const view = viewOf(vector, 8);
    return { scale, read: (i) => int64At(view, i * 8) ?? view.getBigInt64(i * 8, true) };
  }
  const view = viewOf(vector, 16);
  return { scale, read: (i) => (view.getBigInt64(i * 16 + 8, true) << 64n) | view.getBigUint64(i * 16, true) };
}

const decimalCodec = fixedCodec(
  DuckDBTypeId.DECIMAL,
  true,
  (v) => {
    const { scale, read } = decimalReader(v);
    return (w, i) => {
      const value = read(i);
      if (typeof value === 'number') {
        if (value < 0) {
          w.ensure(1);
          w.buf[w.pos++] = 45;
          writeScaledDigits(w, -value, scale);
        } else {
          writeScaledDigits(w, value, scale);
        }
      } else {
        writeAscii(w, scaledText(value < 0n, (value < 0n ? -value : value).toString(), scale));
      }
    };
  },
  (v) => {
    const { scale, read } = decimalReader(v);
    return (w, i) => {
      const value = read(i);
      if (typeof value === 'number') writeNumericNumber(w, value < 0, value < 0 ? -value : value, scale);
      else writeNumericBig(w, value, scale);
    };
  },
);

const dateCodec = fixedCodec(
  DuckDBTypeId.DATE,
  false,
  (v) => {
    const items = itemsOf(v, Int32Array);
    return (w, i) => writeDate(w, items[i]!);
  },
  (v) => {
    const items = itemsOf(v, Int32Array);
    return (w, i) => {
      const days = items[i]!;
      w.ensure(4);
      // date_send: infinities are INT32_MAX / INT32_MIN; dates beyond PostgreSQL's range clamp to them.
      if (days === INT32_MAX) writeInt32(w, INT32_MAX);
      else if (days === -INT32_MAX) writeInt32(w, INT32_MIN);
      else writeInt32(w, Math.max(INT32_MIN, Math.min(INT32_MAX, days - PG_EPOCH_DAYS)));
    };
  },
);

/** TIME (µs) and TIME_NS (ns) since midnight, as microseconds. */
function timeCodec(typeId: DuckDBTypeId.TIME | DuckDBTypeId.TIME_NS): Codec {
  const divisor = typeId === DuckDBTypeId.TIME ? 1 : 1000;
  const micros = (view: DataView, i: number): number => Math.floor((int64At(view, i * 8) ?? 0) / divisor);
  return fixedCodec(
    typeId,
    true,
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => writeTimeOfDay(w, micros(view, i));
    },
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        w.ensure(8);
        writeInt64Number(w, micros(view, i));
      };
    },
  );
}

/** TIMESTAMP variants as microseconds since 1970: a safe number, or a bigint (also ±INT64_MAX for the infinities). */
function timestampCodec(typeId: DuckDBTypeId, withZone: boolean): Codec {
  const unit = typeId === DuckDBTypeId.TIMESTAMP_S ? 1_000_000n : typeId === DuckDBTypeId.TIMESTAMP_MS ? 1000n : 1n;
  const nanos = typeId === DuckDBTypeId.TIMESTAMP_NS;
  const micros = (view: DataView, i: number): number | bigint => {
    if (unit === 1n && !nanos) {
      const fast = int64At(view, i * 8);
      if (fast !== undefined) return fast;
    }
    const raw = view.getBigInt64(i * 8, true);
    if (raw >= INT64_MAX || raw <= -INT64_MAX) return raw;
    if (nanos) {
      // Floor to microseconds (PostgreSQL has no finer precision).
      const floored = raw / 1000n - (raw % 1000n < 0n ? 1n : 0n);
      return Number.isSafeInteger(Number(floored)) ? Number(floored) : floored;
    }
    const scaled = raw * unit;
    return Number.isSafeInteger(Number(scaled)) ? Number(scaled) : scaled;
  };
  return fixedCodec(
    typeId,
    false,
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        const value = micros(view, i);
        if (typeof value === 'number') writeTimestampMicros(w, value, withZone);
        else writeTimestampBig(w, value, withZone);
      };
    },
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        const value = micros(view, i);
        w.ensure(8);
        if (typeof value === 'number') {
          const shifted = value - PG_EPOCH_MICROS;
          if (Number.isSafeInteger(shifted)) return writeInt64Number(w, shifted);
        }
        const big = BigInt(value);
        // timestamp_send: infinities are INT64_MAX / INT64_MIN; values beyond int64 after the epoch shift clamp to them.
        if (big >= INT64_MAX) return writeInt64Big(w, INT64_MAX);
        if (big <= -INT64_MAX) return writeInt64Big(w, -INT64_MAX - 1n);
        const shifted = big - BigInt(PG_EPOCH_MICROS);
        writeInt64Big(w, shifted < -INT64_MAX - 1n ? -INT64_MAX - 1n : shifted);
      };
    },
  );
}

const intervalCodec = fixedCodec(DuckDBTypeId.INTERVAL, false, (v) => {
  const view = viewOf(v, 16);
  return (w, i) => {
    const at = i * 16;
    writeAscii(w, intervalText(view.getInt32(at, true), view.getInt32(at + 4, true), view.getBigInt64(at + 8, true)));
  };
});

const HEX = Buffer.from('0123456789abcdef');

/** DuckDB stores a UUID as a hugeint with the top bit flipped; the 16 bytes in network order. */
function uuidByte(bytes: Uint8Array, at: number, k: number): number {
  const byte = bytes[at + 15 - k]!;
  return k === 0 ? byte ^ 0x80 : byte;
}

const uuidCodec = fixedCodec(
  DuckDBTypeId.UUID,
  true,
  (v) => {
    const bytes = bytesOfView(viewOf(v, 16));
    return (w, i) => {
      w.ensure(36);
      const buf = w.buf;
      let p = w.pos;
      for (let k = 0; k < 16; k++) {
        if (k === 4 || k === 6 || k === 8 || k === 10) buf[p++] = 45;
        const byte = uuidByte(bytes, i * 16, k);
        buf[p++] = HEX[byte >> 4]!;
        buf[p++] = HEX[byte & 15]!;
      }
      w.pos = p;
    };
  },
  (v) => {
    const bytes = bytesOfView(viewOf(v, 16));
    return (w, i) => {
      w.ensure(16);
      for (let k = 0; k < 16; k++) w.buf[w.pos++] = uuidByte(bytes, i * 16, k);
    };
  },
);

/**
 * VARCHAR: DuckDB's 16-byte string_t slots hold the length and, up to 12 bytes, the string
 * itself; those are copied as UTF-8 bytes. Longer strings are read through getItem.
 * @see https://duckdb.org/docs/stable/clients/c/vector (string_t layout)
 */
function varcharWriter(vector: RawVector): ItemWriter {
  const view = viewOf(vector, 16);
  const slots = bytesOfView(view);
  return (w, i) => {
    const at = i * 16;
    const length = view.getUint32(at, true);
    if (length <= 12) {
      w.ensure(length);
      const buf = w.buf;
      let p = w.pos;
      for (let k = at + 4, end = at + 4 + length; k < end; k++) buf[p++] = slots[k]!;
      w.pos = p;
    } else {
      writeUtf8(w, vector.getItem(i) as string);
    }
  };
}

/** Copies UTF-8 bytes [start, end) of a column's data. */
function writeSlice(w: ByteWriter, data: Uint8Array, start: number, end: number): void {
  const length = end - start;
  w.ensure(length);
  if (length > 32) {
    w.buf.set(data.subarray(start, end), w.pos);
    w.pos += length;
    return;
  }
  const buf = w.buf;
  let p = w.pos;
  for (let k = start; k < end; k++) buf[p++] = data[k]!;
  w.pos = p;
}

/**
 * A VARCHAR result column is read whole through the engine's column reader (UTF-8 bytes and
 * offsets, the layout Arrow uses), which reads long strings from DuckDB's heap without making
 * JavaScript strings; list elements are read from their vector.
 */
const varcharCodec: Codec = {
  oid: PG_SCALAR_TYPES.text.oid,
  plainText: false,
  hasBinary: true,
  bind(vector, _binary, column) {
    // Short strings (the common case for codes and names) are quicker to copy from the slots.
    if (column !== undefined && largestStringBytes(column.chunk, column.index, DuckDBTypeId.VARCHAR) > 12) {
      const read = chunkColumnForArrow(column.chunk, column.index, DuckDBTypeId.VARCHAR);
      if (read.kind === 'utf8') {
        const { data, offsets } = read;
        return { valid: read.validity, write: (w, i) => writeSlice(w, data, offsets[i]!, offsets[i + 1]!) };
      }
    }
    return { valid: validityOf(vector), write: varcharWriter(vector) };
  },
};

/** bytea_out in the default hex format. */
function writeByteaHex(w: ByteWriter, bytes: Uint8Array): void {
  w.ensure(2 + bytes.length * 2);
  const buf = w.buf;
  let p = w.pos;
  buf[p++] = 92;
  buf[p++] = 120;
  for (let k = 0; k < bytes.length; k++) {
    const byte = bytes[k]!;
    buf[p++] = HEX[byte >> 4]!;
    buf[p++] = HEX[byte & 15]!;
  }
  w.pos = p;
}

function blobBytes(vector: RawVector): (i: number) => Uint8Array {
  const getItemBytes = vector.getItemBytes;
  if (typeof getItemBytes !== 'function') throw layoutError('BLOB getItemBytes');
  return (i) => getItemBytes.call(vector, i) ?? new Uint8Array(0);
}

const blobCodec = fixedCodec(
  DuckDBTypeId.BLOB,
  false,
  (v) => {
    const read = blobBytes(v);
    return (w, i) => writeByteaHex(w, read(i));
  },
  (v) => {
    const read = blobBytes(v);
    return (w, i) => writeBytes(w, read(i));
  },
);

function enumWriter(vector: RawVector): ItemWriter {
  const values = typeField(vector, 'values');
  if (!Array.isArray(values)) throw layoutError('ENUM values');
  const items = vector.items;
  if (!(items instanceof Uint8Array || items instanceof Uint16Array || items instanceof Uint32Array) || items.length < vector.itemCount) throw layoutError('ENUM items');
  const encoded: (Buffer | undefined)[] = [];
  return (w, i) => {
    const index = items[i]!;
    let bytes = encoded[index];
    if (bytes === undefined) {
      bytes = Buffer.from(String(values[index]), 'utf8');
      encoded[index] = bytes;
    }
    writeBytes(w, bytes);
  };
}

const enumCodec = fixedCodec(DuckDBTypeId.ENUM, false, enumWriter, enumWriter);

/** Everything PostgreSQL has no type for travels as text: DuckDB's own text form of the value. */
function textFormCodec(typeId: DuckDBTypeId): Codec {
  const text = (value: unknown): string => String(value);
  return valueCodec(typeId, false, text, (w, value) => writeUtf8(w, text(value)));
}

const bigNumCodec = valueCodec(
  DuckDBTypeId.BIGNUM,
  true,
  (value) => String(value),
  (w, value) => writeNumericBig(w, value as bigint, 0),
);

interface TimeTzLike {
  readonly micros: bigint;
  readonly offset: number;
}

const timeTzCodec = valueCodec(DuckDBTypeId.TIME_TZ, false, (value) => {
  const { micros, offset } = value as TimeTzLike;
  return timeTzText(Number(micros), offset);
});

/** The codec of a DuckDB scalar type (LIST/ARRAY here are nested elements: sent in their text form). */
function scalarCodec(typeId: DuckDBTypeId): Codec {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return booleanCodec;
    case DuckDBTypeId.TINYINT:
      return smallIntCodec(typeId, Int8Array);
    case DuckDBTypeId.SMALLINT:
      return smallIntCodec(typeId, Int16Array);
    case DuckDBTypeId.INTEGER:
      return smallIntCodec(typeId, Int32Array);
    case DuckDBTypeId.UTINYINT:
      return smallIntCodec(typeId, Uint8Array);
    case DuckDBTypeId.USMALLINT:
      return smallIntCodec(typeId, Uint16Array);
    case DuckDBTypeId.UINTEGER:
      return smallIntCodec(typeId, Uint32Array);
    case DuckDBTypeId.BIGINT:
      return bigIntCodec;
    case DuckDBTypeId.UBIGINT:
      return uBigIntCodec;
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return hugeIntCodec(typeId);
    case DuckDBTypeId.BIGNUM:
      return bigNumCodec;
    case DuckDBTypeId.FLOAT:
      return floatCodec;
    case DuckDBTypeId.DOUBLE:
      return doubleCodec;
    case DuckDBTypeId.DECIMAL:
      return decimalCodec;
    case DuckDBTypeId.DATE:
      return dateCodec;
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return timeCodec(typeId);
    case DuckDBTypeId.TIME_TZ:
      return timeTzCodec;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestampCodec(typeId, false);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return timestampCodec(typeId, true);
    case DuckDBTypeId.INTERVAL:
      return intervalCodec;
    case DuckDBTypeId.UUID:
      return uuidCodec;
    case DuckDBTypeId.VARCHAR:
      return varcharCodec;
    case DuckDBTypeId.BLOB:
      return blobCodec;
    case DuckDBTypeId.ENUM:
      return enumCodec;
    default:
      return textFormCodec(typeId);
  }
}

// ---------------------------------------------------------------------------------------------
// Arrays: DuckDB LIST and ARRAY columns of a scalar are one-dimensional PostgreSQL arrays.

/**
 * array_out's quoting of one element already written at [start, w.pos): quote it when it is
 * empty, equals NULL (any case), or holds `{` `}` `,` `"` `\` or whitespace; escape `"` and `\`.
 * UTF-8 continuation bytes are never ASCII, so the scan works on bytes.
 */
function quoteArrayElement(w: ByteWriter, start: number): void {
  const end = w.pos;
  let buf = w.buf;
  const length = end - start;
  let quote = length === 0;
  if (length === 4 && (buf[start]! | 32) === 110 && (buf[start + 1]! | 32) === 117 && (buf[start + 2]! | 32) === 108 && (buf[start + 3]! | 32) === 108) quote = true;
  let escapes = 0;
  for (let k = start; k < end; k++) {
    const c = buf[k]!;
    if (c === 34 || c === 92) {
      quote = true;
      escapes++;
    } else if (c === 123 || c === 125 || c === 44 || c === 32 || (c >= 9 && c <= 13)) {
      quote = true;
    }
  }
  if (!quote) return;
  w.ensure(2 + escapes);
  buf = w.buf;
  let target = end + 1 + escapes;
  buf[target] = 34;
  for (let k = end - 1; k >= start; k--) {
    const c = buf[k]!;
    buf[--target] = c;
    if (c === 34 || c === 92) buf[--target] = 92;
  }
  buf[start] = 34;
  w.pos = end + 2 + escapes;
}

interface ListLayout {
  readonly child: RawVector;
  offset(index: number): number;
  length(index: number): number;
}

function listLayout(vector: RawVector, typeId: DuckDBTypeId): ListLayout {
  if (typeId === DuckDBTypeId.LIST) {
    const { getEntryOffset, getEntryLength } = vector;
    const child = vector.childVector as RawVector | undefined;
    if (typeof getEntryOffset !== 'function' || typeof getEntryLength !== 'function' || child === undefined) throw layoutError('LIST entries');
    return { child, offset: (i) => getEntryOffset.call(vector, i), length: (i) => getEntryLength.call(vector, i) };
  }
  const size = typeField(vector, 'length');
  const child = vector.childData as RawVector | undefined;
  if (typeof size !== 'number' || child === undefined || typeof child.getItem !== 'function') throw layoutError('ARRAY child');
  return { child, offset: (i) => i * size, length: () => size };
}

function arrayCodec(typeId: DuckDBTypeId.LIST | DuckDBTypeId.ARRAY, element: Codec): Codec {
  return {
    oid: 0,
    plainText: false,
    hasBinary: element.hasBinary,
    bind(vector, binary) {
      const valid = validityOf(vector);
      const layout = listLayout(vector, typeId);
      const child = element.bind(layout.child, binary);
      const childValid = child.valid;
      const writeElement = child.write;
      if (binary) {
        // array_send: ndim, has-null flag, element OID, then per dimension its length and lower bound.
        return {
          valid,
          write: (w, i) => {
            const offset = layout.offset(i);
            const length = layout.length(i);
            w.ensure(20);
            writeInt32(w, length === 0 ? 0 : 1);
            const flagAt = w.pos;
            writeInt32(w, 0);
            writeInt32(w, element.oid);
            if (length === 0) return;
            writeInt32(w, length);
            writeInt32(w, 1);
            for (let k = offset; k < offset + length; k++) {
              w.ensure(4);
              if (!isValid(childValid, k)) {
                patchInt32(w.buf, flagAt, 1);
                writeInt32(w, -1);
                continue;
              }
              const start = w.pos;
              w.pos += 4;
              writeElement(w, k);
              patchInt32(w.buf, start, w.pos - start - 4);
            }
          },
        };
      }
      const plain = element.plainText;
      return {
        valid,
        write: (w, i) => {
          const offset = layout.offset(i);
          const length = layout.length(i);
          w.ensure(1);
          w.buf[w.pos++] = 123;
          for (let k = offset; k < offset + length; k++) {
            if (k > offset) {
              w.ensure(1);
              w.buf[w.pos++] = 44;
            }
            if (!isValid(childValid, k)) {
              writeAscii(w, 'NULL');
              continue;
            }
            const start = w.pos;
            writeElement(w, k);
            if (!plain) quoteArrayElement(w, start);
          }
          w.ensure(1);
          w.buf[w.pos++] = 125;
        },
      };
    },
  };
}

/** The codec of a result column, matching what pgColumnType announces for it. */
function columnCodec(column: ResultColumn): Codec {
  const announced = pgColumnType(column);
  if (announced.type.elementOid !== 0 && column.elementTypeId !== undefined && (column.typeId === DuckDBTypeId.LIST || column.typeId === DuckDBTypeId.ARRAY)) {
    return arrayCodec(column.typeId, scalarCodec(column.elementTypeId));
  }
  return scalarCodec(column.typeId);
}

// ---------------------------------------------------------------------------------------------
// The row encoder

const EMPTY = Buffer.alloc(0);
const SCRATCH_SIZE = 64 * 1024;
const SCRATCH_LIMIT = 16 * 1024 * 1024;
const DATA_ROW = 68; // 'D'

/**
 * Builds the DataRow encoder of a result: column codecs are chosen once, bound to each chunk's
 * vectors once, and rows are written into one buffer (no per-row allocation). A binary format
 * requested for a type without a binary encoding fails here, before any row is sent.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html (DataRow)
 */
export function createRowEncoder(columns: readonly ResultColumn[], formats: readonly (0 | 1)[]): RowEncoder {
  if (formats.length !== columns.length) throw new Error(`internal error: ${formats.length} result formats for ${columns.length} columns`);
  const codecs = columns.map((column, i) => {
    const codec = columnCodec(column);
    if (formats[i] === 1 && !codec.hasBinary) {
      throw new FeatureNotSupportedError(`binary format is not supported for column "${column.name}" of type ${column.type}; request text format`);
    }
    return codec;
  });
  const count = columns.length;
  const scratch = new ByteWriter(SCRATCH_SIZE);
  let boundChunk: DuckDBDataChunk | undefined;
  let bound: BoundVector[] = [];

  const bind = (chunk: DuckDBDataChunk): BoundVector[] => {
    if (chunk !== boundChunk) {
      bound = codecs.map((codec, c) => codec.bind(chunk.getColumnVector(c) as unknown as RawVector, formats[c] === 1, { chunk, index: c }));
      boundChunk = chunk;
    }
    return bound;
  };

  return (chunk, maxRows, startRow = 0) => {
    const rows = chunk.rowCount;
    const from = Math.max(0, startRow);
    const to = maxRows === undefined ? rows : Math.min(rows, from + Math.max(0, maxRows));
    if (from >= to) return EMPTY;
    const vectors = bind(chunk);
    const valids = vectors.map((v) => v.valid);
    const writers = vectors.map((v) => v.write);
    const w = scratch;
    w.pos = 0;
    for (let r = from; r < to; r++) {
      w.ensure(7 + count * 4);
      const start = w.pos;
      const buf = w.buf;
      buf[start] = DATA_ROW;
      buf[start + 5] = count >>> 8;
      buf[start + 6] = count;
      w.pos = start + 7;
      for (let c = 0; c < count; c++) {
        const valid = valids[c]!;
        if (valid !== null && ((valid[r >> 3]! >> (r & 7)) & 1) === 0) {
          w.ensure(4);
          writeInt32(w, -1);
          continue;
        }
        w.ensure(4);
        const at = w.pos;
        w.pos = at + 4;
        writers[c]!(w, r);
        patchInt32(w.buf, at, w.pos - at - 4);
      }
      patchInt32(w.buf, start + 1, w.pos - start - 1);
    }
    const out = Buffer.allocUnsafe(w.pos);
    w.buf.copy(out, 0, 0, w.pos);
    // One chunk of huge values should not pin its buffer for the rest of the result.
    if (w.buf.length > SCRATCH_LIMIT) w.buf = Buffer.allocUnsafe(SCRATCH_SIZE);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters: Bind values to JavaScript values for DuckDB.

const OID = {
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

const TYPE_NAMES: Readonly<Record<number, string>> = {
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

function invalidSyntax(oid: number, text: string): InvalidRequestError {
  return new InvalidRequestError(`invalid input syntax for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}: ${preview(text)}`);
}

function outOfRange(oid: number, text: string): InvalidRequestError {
  return new InvalidRequestError(`value ${preview(text)} is out of range for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(value: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    throw new InvalidRequestError('invalid byte sequence for encoding "UTF8" in a parameter');
  }
  if (text.includes('\u0000')) throw new InvalidRequestError('invalid byte sequence for encoding "UTF8": 0x00 in a parameter');
  return text;
}

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

function expectLength(value: Buffer, length: number, oid: number): void {
  if (value.length !== length) {
    throw new InvalidRequestError(`incorrect binary data format for type ${TYPE_NAMES[oid] ?? `oid ${oid}`}: expected ${length} bytes, got ${value.length}`);
  }
}

function decodeBinary(value: Buffer, oid: number): ParameterValue {
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

