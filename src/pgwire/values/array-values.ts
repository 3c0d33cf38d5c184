import { DuckDBTypeId } from '../../engine/index.ts';
import { type ByteWriter, patchInt32, writeAscii, writeInt32 } from './byte-writer.ts';
import type { Codec } from './codec.ts';
import { isValid, layoutError, type RawVector, typeField, validityOf } from './vector-reading.ts';

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

export function arrayCodec(typeId: DuckDBTypeId.LIST | DuckDBTypeId.ARRAY, element: Codec): Codec {
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
