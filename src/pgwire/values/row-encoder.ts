import type { DuckDBDataChunk, ResultColumn } from '../../engine/index.ts';
import { FeatureNotSupportedError } from '../../errors/index.ts';
import { ByteWriter, patchInt32, writeInt32 } from './byte-writer.ts';
import type { BoundVector } from './codec.ts';
import { columnCodec } from './column-codecs.ts';
import type { RawVector } from './vector-reading.ts';

// ---------------------------------------------------------------------------------------------
// The row encoder

/** Encodes rows [startRow, startRow + maxRows) of a chunk (default: all) as consecutive DataRow messages. */
export type RowEncoder = (chunk: DuckDBDataChunk, maxRows?: number, startRow?: number) => Buffer;

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
