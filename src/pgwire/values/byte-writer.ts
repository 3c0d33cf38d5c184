// ---------------------------------------------------------------------------------------------
// Output buffer

/** A growable output buffer; the hot loops read `buf` after `ensure` and advance `pos` themselves. */
export class ByteWriter {
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

export function writeInt32(w: ByteWriter, value: number): void {
  const buf = w.buf;
  const p = w.pos;
  buf[p] = value >>> 24;
  buf[p + 1] = value >>> 16;
  buf[p + 2] = value >>> 8;
  buf[p + 3] = value;
  w.pos = p + 4;
}

export function patchInt32(buf: Buffer, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/** A safe integer as a big-endian int64. */
export function writeInt64Number(w: ByteWriter, value: number): void {
  const hi = Math.floor(value / 4294967296);
  writeInt32(w, hi | 0);
  writeInt32(w, value - hi * 4294967296);
}

export function writeInt64Big(w: ByteWriter, value: bigint): void {
  writeInt32(w, Number(BigInt.asIntN(32, value >> 32n)));
  writeInt32(w, Number(BigInt.asUintN(32, value)));
}

/** Copies `size` little-endian bytes as big-endian (DuckDB stores native little-endian; the wire is network order). */
export function writeReversed(w: ByteWriter, bytes: Uint8Array, at: number, size: number): void {
  const buf = w.buf;
  let p = w.pos;
  for (let k = at + size - 1; k >= at; k--) buf[p++] = bytes[k]!;
  w.pos = p;
}

/** A string known to be ASCII (digits, signs, date punctuation). */
export function writeAscii(w: ByteWriter, text: string): void {
  w.ensure(text.length);
  const buf = w.buf;
  let p = w.pos;
  for (let k = 0; k < text.length; k++) buf[p++] = text.charCodeAt(k);
  w.pos = p;
}

export function writeUtf8(w: ByteWriter, text: string): void {
  w.ensure(text.length * 3);
  w.pos += w.buf.write(text, w.pos, 'utf8');
}

export function writeBytes(w: ByteWriter, bytes: Uint8Array): void {
  w.ensure(bytes.length);
  w.buf.set(bytes, w.pos);
  w.pos += bytes.length;
}

const DIGITS = new Uint8Array(64);

/**
 * A non-negative safe integer as decimal digits, with a decimal point `scale` digits from the
 * right (zero-padded so that at least one digit precedes the point): numeric(p,s) output.
 */
export function writeScaledDigits(w: ByteWriter, value: number, scale: number): void {
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

export function writeSafeInt(w: ByteWriter, value: number): void {
  if (value < 0) {
    w.ensure(1);
    w.buf[w.pos++] = 45;
    writeScaledDigits(w, -value, 0);
  } else {
    writeScaledDigits(w, value, 0);
  }
}

/** Decimal digits of an integer's magnitude with the point `scale` digits from the right. */
export function scaledText(negative: boolean, digits: string, scale: number): string {
  let text = digits;
  if (scale > 0) {
    if (text.length <= scale) text = '0'.repeat(scale - text.length + 1) + text;
    text = `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`;
  }
  return negative ? `-${text}` : text;
}

/** Two ASCII digits for 0..99. */
export function writePadded2(buf: Buffer, p: number, value: number): void {
  const tens = (value / 10) | 0;
  buf[p] = 48 + tens;
  buf[p + 1] = 48 + value - tens * 10;
}
