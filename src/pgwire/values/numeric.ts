import type { ByteWriter } from './byte-writer.ts';

// ---------------------------------------------------------------------------------------------
// numeric binary: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits base-10000
// digits, most significant first, leading and trailing zero digits stripped (numeric_send).

export const NUMERIC_NEGATIVE = 0x4000;

export function writeNumeric(w: ByteWriter, negative: boolean, digits: string, scale: number): void {
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
export function writeNumericNumber(w: ByteWriter, negative: boolean, value: number, scale: number): void {
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

export function writeNumericBig(w: ByteWriter, value: bigint, scale: number): void {
  const negative = value < 0n;
  writeNumeric(w, negative, (negative ? -value : value).toString(), scale);
}
