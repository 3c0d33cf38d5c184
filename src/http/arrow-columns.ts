import { Binary, Bool, DateDay, Float32, Float64, Int16, Int32, Int64, Int8, Timestamp, TimestampMillisecond, Uint16, Uint32, Uint64, Uint8, Utf8, makeData, type Data, type DataType } from 'apache-arrow';

/**
 * Builds Arrow column data straight from a chunk's JS values into typed arrays, instead of
 * apache-arrow's generic per-value builders: strings are encoded once per column (one UTF-8
 * encode of the joined text, offsets from the JS lengths when it is ASCII), numbers are copied
 * into their typed array. This is the per-value work left in the Arrow path, so it is kept tight.
 */
export function buildColumn(type: DataType, values: readonly unknown[]): Data {
  const length = values.length;
  const { bitmap, nullCount } = validity(values);
  const base = { length, nullCount, ...(nullCount > 0 ? { nullBitmap: bitmap } : {}) };
  if (type instanceof Utf8) return makeData({ type, ...base, ...utf8(values) });
  if (type instanceof Binary) return makeData({ type, ...base, ...binary(values) });
  if (type instanceof Bool) return makeData({ type, ...base, data: bits(values) });
  if (type instanceof Float64) return makeData({ type, ...base, data: Float64Array.from(values, (v) => (typeof v === 'number' ? v : 0)) });
  if (type instanceof Float32) return makeData({ type, ...base, data: Float32Array.from(values, (v) => (typeof v === 'number' ? v : 0)) });
  if (type instanceof Int8) return makeData({ type, ...base, data: Int8Array.from(values, num) });
  if (type instanceof Int16) return makeData({ type, ...base, data: Int16Array.from(values, num) });
  if (type instanceof Int32) return makeData({ type, ...base, data: Int32Array.from(values, num) });
  if (type instanceof Uint8) return makeData({ type, ...base, data: Uint8Array.from(values, num) });
  if (type instanceof Uint16) return makeData({ type, ...base, data: Uint16Array.from(values, num) });
  if (type instanceof Uint32) return makeData({ type, ...base, data: Uint32Array.from(values, num) });
  if (type instanceof Int64) return makeData({ type, ...base, data: BigInt64Array.from(values, big) });
  if (type instanceof Uint64) return makeData({ type, ...base, data: BigUint64Array.from(values, big) });
  if (type instanceof DateDay) {
    return makeData({ type, ...base, data: Int32Array.from(values, (v) => (v instanceof Date ? Math.floor(v.getTime() / 86_400_000) : 0)) });
  }
  if (type instanceof TimestampMillisecond) {
    return makeData({ type, ...base, data: BigInt64Array.from(values, (v) => (v instanceof Date ? BigInt(v.getTime()) : 0n)) });
  }
  if (type instanceof Timestamp) {
    // Only reached for values DuckDB converted to Date (millisecond precision): express them in the unit.
    const fromMs = (ms: number): bigint => [BigInt(Math.floor(ms / 1000)), BigInt(ms), BigInt(ms) * 1000n, BigInt(ms) * 1_000_000n][type.unit] ?? BigInt(ms);
    return makeData({ type, ...base, data: BigInt64Array.from(values, (v) => (v instanceof Date ? fromMs(v.getTime()) : 0n)) });
  }
  throw new TypeError(`no Arrow column builder for ${String(type)}`);
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let b = i; b > 0; b >>= 1) n += b & 1;
  return n;
});

/** A column whose values arrive as DuckDB's raw fixed-width buffer plus its validity bitmap. */
export function buildFixedColumn(type: DataType, data: ArrayBufferView, validity: Uint8Array | null, length: number): Data {
  const nullCount = countNulls(validity, length);
  return makeData({ type, length, nullCount, ...(nullCount > 0 && validity !== null ? { nullBitmap: validity } : {}), data: data as never } as never);
}

/** A Utf8 column from ready offsets and UTF-8 bytes (straight from DuckDB's string slots). */
export function buildUtf8Column(type: DataType, offsets: Int32Array, data: Uint8Array, validity: Uint8Array | null, length: number): Data {
  const nullCount = countNulls(validity, length);
  return makeData({ type, length, nullCount, ...(nullCount > 0 && validity !== null ? { nullBitmap: validity } : {}), valueOffsets: offsets, data } as never);
}

function countNulls(validity: Uint8Array | null, length: number): number {
  if (validity === null) return 0;
  let valid = 0;
  const fullBytes = length >> 3;
  for (let i = 0; i < fullBytes; i++) valid += POPCOUNT[validity[i]!]!;
  for (let i = fullBytes << 3; i < length; i++) if ((validity[i >> 3]! >> (i & 7)) & 1) valid++;
  return length - valid;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
}

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

function bits(values: readonly unknown[]): Uint8Array {
  const out = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i] === true) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function utf8(values: readonly unknown[]): { valueOffsets: Int32Array; data: Uint8Array } {
  const strings = values.map((v) => (typeof v === 'string' ? v : ''));
  const joined = strings.join('');
  const data = Buffer.from(joined, 'utf8');
  const valueOffsets = new Int32Array(values.length + 1);
  const ascii = data.length === joined.length;
  let offset = 0;
  for (let i = 0; i < strings.length; i++) {
    offset += ascii ? strings[i]!.length : Buffer.byteLength(strings[i]!, 'utf8');
    valueOffsets[i + 1] = offset;
  }
  return { valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function binary(values: readonly unknown[]): { valueOffsets: Int32Array; data: Uint8Array } {
  const parts = values.map((v) => (v instanceof Uint8Array ? v : new Uint8Array()));
  const valueOffsets = new Int32Array(values.length + 1);
  for (let i = 0; i < parts.length; i++) valueOffsets[i + 1] = valueOffsets[i]! + parts[i]!.byteLength;
  const data = new Uint8Array(valueOffsets[values.length]!);
  parts.forEach((p, i) => data.set(p, valueOffsets[i]));
  return { valueOffsets, data };
}
