import type { DuckDBDataChunk, DuckDBTypeId } from '../../engine/index.ts';
import { pgScalarFor } from '../pg-types.ts';
import { type ByteWriter, writeUtf8 } from './byte-writer.ts';
import { type RawVector, validityOf } from './vector-reading.ts';

// ---------------------------------------------------------------------------------------------
// Codecs: per DuckDB type, how to bind a vector (once per chunk) into writers of one item.

/** Writes the bytes of item `index` (known valid): its text form or its binary form, no length prefix. */
export type ItemWriter = (w: ByteWriter, index: number) => void;

export interface BoundVector {
  readonly valid: Uint8Array | null;
  readonly write: ItemWriter;
}

/** A result column's place in its chunk, for readers the engine offers per column. */
export interface ChunkColumn {
  readonly chunk: DuckDBDataChunk;
  readonly index: number;
}

export interface Codec {
  /** The PostgreSQL type announced for a value (array element OID in binary arrays). */
  readonly oid: number;
  /** Its text form can never need quotes inside an array literal. */
  readonly plainText: boolean;
  readonly hasBinary: boolean;
  /** Binds a vector: a result column (with `column`) or the child vector of a list. */
  bind(vector: RawVector, binary: boolean, column?: ChunkColumn): BoundVector;
}

/** A codec over fixed per-type writers. */
export function fixedCodec(typeId: DuckDBTypeId, plainText: boolean, text: (v: RawVector) => ItemWriter, binary?: (v: RawVector) => ItemWriter): Codec {
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
export function valueCodec(typeId: DuckDBTypeId, plainText: boolean, text: (value: unknown) => string, binary?: (w: ByteWriter, value: unknown) => void): Codec {
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
