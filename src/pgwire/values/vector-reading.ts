// ---------------------------------------------------------------------------------------------
// Reading DuckDB vectors. @duckdb/node-api 1.5's vector classes keep their data in fields that
// are declared private but stable: typed `items`, a `dataView` of fixed-size slots, and a
// `validity` with DuckDB's little-endian validity words (the engine's Arrow path reads the same
// fields, src/engine/duckdb-engine.ts RawVector). They are read here without per-value objects;
// a layout change fails loudly, and pg-values.test.ts pins every type.

export interface RawVector {
  readonly itemCount: number;
  readonly type: unknown;
  getItem(index: number): unknown;
  readonly items?: unknown;
  readonly dataView?: unknown;
  readonly validity?: { readonly data?: unknown; readonly offset?: unknown };
  /** ARRAY vectors: the flat child vector. */
  readonly childData?: unknown;
  /** LIST vectors (public API). */
  getEntryOffset?(index: number): number;
  getEntryLength?(index: number): number;
  readonly childVector?: unknown;
  /** BLOB vectors (public API). */
  getItemBytes?(index: number): Uint8Array | null;
}

export type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

export function layoutError(what: string): Error {
  return new Error(`unexpected @duckdb/node-api vector layout (${what}); pgwire/values/vector-reading.ts must be updated`);
}

/** Validity bits (bit i of byte i>>3), or null when every item is valid. */
export function validityOf(vector: RawVector): Uint8Array | null {
  const validity = vector.validity;
  if (validity === undefined || (validity.offset !== undefined && validity.offset !== 0)) throw layoutError('validity');
  const data = validity.data;
  if (data === null) return null;
  if (!(data instanceof BigUint64Array)) throw layoutError('validity words');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function itemsOf<T extends ArrayBufferView & { readonly length: number }>(vector: RawVector, ctor: TypedArrayCtor<T>): T {
  const items = vector.items;
  if (!(items instanceof (ctor as unknown as new () => T)) || (items).length < vector.itemCount) throw layoutError(`items of ${String(vector.type)}`);
  return items;
}

export function viewOf(vector: RawVector, width: number): DataView {
  const view = vector.dataView;
  if (!(view instanceof DataView) || view.byteLength < vector.itemCount * width) throw layoutError(`slots of ${String(vector.type)}`);
  return view;
}

export function bytesOfView(view: DataView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function dataViewOf(items: ArrayBufferView): DataView {
  return new DataView(items.buffer, items.byteOffset, items.byteLength);
}

export function typeField(vector: RawVector, field: string): unknown {
  const type = vector.type as Record<string, unknown> | null;
  return type === null || typeof type !== 'object' ? undefined : type[field];
}

export function isValid(valid: Uint8Array | null, index: number): boolean {
  return valid === null || ((valid[index >> 3]! >> (index & 7)) & 1) === 1;
}

/** Little-endian 64-bit integers read as a safe number when they fit (no BigInt per value). */
export function int64At(view: DataView, offset: number): number | undefined {
  const hi = view.getInt32(offset + 4, true);
  if (hi < -0x200000 || hi >= 0x200000) return undefined;
  return hi * 4294967296 + view.getUint32(offset, true);
}

export function uint64At(view: DataView, offset: number): number | undefined {
  const hi = view.getUint32(offset + 4, true);
  if (hi >= 0x200000) return undefined;
  return hi * 4294967296 + view.getUint32(offset, true);
}

export function bytesOf(items: ArrayBufferView): Uint8Array {
  return new Uint8Array(items.buffer, items.byteOffset, items.byteLength);
}
