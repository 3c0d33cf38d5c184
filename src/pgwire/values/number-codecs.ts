import { DuckDBTypeId } from '../../engine/index.ts';
import { PG_SCALAR_TYPES, pgScalarFor } from '../pg-types.ts';
import { scaledText, writeAscii, writeInt32, writeInt64Number, writeReversed, writeSafeInt, writeScaledDigits } from './byte-writer.ts';
import { type Codec, fixedCodec, valueCodec } from './codec.ts';
import { pgFloat4Text, pgFloat8Text } from './float-text.ts';
import { writeNumeric, writeNumericBig, writeNumericNumber } from './numeric.ts';
import { bytesOf, bytesOfView, dataViewOf, int64At, itemsOf, layoutError, type RawVector, type TypedArrayCtor, typeField, uint64At, viewOf } from './vector-reading.ts';

// Codecs of booleans and numbers: integers, floats, DECIMAL and BIGNUM.

const TRUE_TEXT = 116; // 't'
const FALSE_TEXT = 102; // 'f'

export const booleanCodec = fixedCodec(
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
export function smallIntCodec<T extends ArrayBufferView & ArrayLike<number>>(typeId: DuckDBTypeId, ctor: TypedArrayCtor<T>): Codec {
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

export const bigIntCodec = fixedCodec(
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

/** UBIGINT is announced as numeric (it overflows int8). */
export const uBigIntCodec = fixedCodec(
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

export function hugeIntCodec(typeId: DuckDBTypeId.HUGEINT | DuckDBTypeId.UHUGEINT): Codec {
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

export const floatCodec = fixedCodec(
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

export const doubleCodec = fixedCodec(
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

export const decimalCodec = fixedCodec(
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

export const bigNumCodec = valueCodec(
  DuckDBTypeId.BIGNUM,
  true,
  (value) => String(value),
  (w, value) => writeNumericBig(w, value as bigint, 0),
);
