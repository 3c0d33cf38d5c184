import { chunkColumnForArrow, DuckDBTypeId, largestStringBytes } from '../../engine/index.ts';
import { PG_SCALAR_TYPES } from '../pg-types.ts';
import { type ByteWriter, writeBytes, writeUtf8 } from './byte-writer.ts';
import { type Codec, fixedCodec, type ItemWriter, valueCodec } from './codec.ts';
import { bytesOfView, layoutError, type RawVector, typeField, validityOf, viewOf } from './vector-reading.ts';

// Codecs of UUID, VARCHAR, BLOB, ENUM, and of the types sent as DuckDB's own text form.

const HEX = Buffer.from('0123456789abcdef');

/** DuckDB stores a UUID as a hugeint with the top bit flipped; the 16 bytes in network order. */
function uuidByte(bytes: Uint8Array, at: number, k: number): number {
  const byte = bytes[at + 15 - k]!;
  return k === 0 ? byte ^ 0x80 : byte;
}

export const uuidCodec = fixedCodec(
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
export const varcharCodec: Codec = {
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

export const blobCodec = fixedCodec(
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

export const enumCodec = fixedCodec(DuckDBTypeId.ENUM, false, enumWriter, enumWriter);

/** Everything PostgreSQL has no type for travels as text: DuckDB's own text form of the value. */
export function textFormCodec(typeId: DuckDBTypeId): Codec {
  const text = (value: unknown): string => String(value);
  return valueCodec(typeId, false, text, (w, value) => writeUtf8(w, text(value)));
}
