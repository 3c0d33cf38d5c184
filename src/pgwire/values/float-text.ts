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
