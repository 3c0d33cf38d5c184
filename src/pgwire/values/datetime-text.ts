import { ByteWriter, writeAscii, writeBytes, writePadded2 } from './byte-writer.ts';

// ---------------------------------------------------------------------------------------------
// Dates and times. DuckDB counts days and microseconds from 1970-01-01; PostgreSQL's binary
// format counts from 2000-01-01. Both use the proleptic Gregorian calendar with a year 0 (1 BC).

export const MICROS_PER_DAY = 86_400_000_000;
export const PG_EPOCH_DAYS = 10_957;
export const PG_EPOCH_MICROS = 946_684_800_000_000;
export const INT64_MAX = 0x7fffffffffffffffn;
export const INT32_MAX = 0x7fffffff;
export const INT32_MIN = -0x80000000;

/** YYYY-MM-DD of a day count; returns whether the year is BC (PostgreSQL appends " BC" last). */
export function writeDateBody(w: ByteWriter, days: number): boolean {
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
export function writeDate(w: ByteWriter, days: number): void {
  if (days === INT32_MAX) return writeAscii(w, 'infinity');
  if (days === -INT32_MAX) return writeAscii(w, '-infinity');
  if (writeDateBody(w, days)) writeBc(w);
}

/** HH:MM:SS[.ffffff] without trailing fraction zeros (AppendSeconds); `micros` is below 2^31 seconds. */
export function writeTimeOfDay(w: ByteWriter, micros: number): void {
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
export function writeTimestampMicros(w: ByteWriter, micros: number, withZone: boolean): void {
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
export function writeTimestampBig(w: ByteWriter, micros: bigint, withZone: boolean): void {
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
export function intervalText(months: number, days: number, micros: bigint): string {
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

export function timeTzText(micros: number, offsetSeconds: number): string {
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
