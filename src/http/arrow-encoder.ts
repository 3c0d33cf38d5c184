import {
  Binary, Bool, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, Schema, Struct, TimestampMicrosecond, TimestampMillisecond,
  TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8, Utf8, RecordBatch, makeData, type DataType,
} from 'apache-arrow';
import { chunkColumnForArrow, chunkColumnsJson, DuckDBTypeId, type DuckDBDataChunk, type ResultColumn } from '../gateway/index.ts';
import { buildColumn, buildFixedColumn, buildUtf8Column } from './arrow-columns.ts';

/**
 * Turns DuckDB result chunks into Arrow record batches. Types map one to one where Arrow has an
 * equivalent (timestamps keep DuckDB's unit, TIMESTAMPTZ is UTC); DECIMAL becomes Float64 and
 * nested or exotic types (LIST, STRUCT, INTERVAL, TIME, HUGEINT) travel as their JSON text,
 * documented in the README.
 */
interface ColumnEncoding {
  readonly arrowType: DataType;
  /** 'native' = read from the vector (raw buffer or items), 'json' = JSON text of the value */
  readonly source: 'native' | 'json';
}

function encodingFor(typeId: DuckDBTypeId): ColumnEncoding {
  const native = (arrowType: DataType): ColumnEncoding => ({ arrowType, source: 'native' });
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN: return native(new Bool());
    case DuckDBTypeId.TINYINT: return native(new Int8());
    case DuckDBTypeId.SMALLINT: return native(new Int16());
    case DuckDBTypeId.INTEGER: return native(new Int32());
    case DuckDBTypeId.BIGINT: return native(new Int64());
    case DuckDBTypeId.UTINYINT: return native(new Uint8());
    case DuckDBTypeId.USMALLINT: return native(new Uint16());
    case DuckDBTypeId.UINTEGER: return native(new Uint32());
    case DuckDBTypeId.UBIGINT: return native(new Uint64());
    case DuckDBTypeId.FLOAT: return native(new Float32());
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL: return native(new Float64());
    case DuckDBTypeId.VARCHAR: return native(new Utf8());
    case DuckDBTypeId.BLOB: return native(new Binary());
    case DuckDBTypeId.DATE: return native(new DateDay());
    case DuckDBTypeId.TIMESTAMP: return native(new TimestampMicrosecond());
    case DuckDBTypeId.TIMESTAMP_TZ: return native(new TimestampMicrosecond('UTC'));
    case DuckDBTypeId.TIMESTAMP_S: return native(new TimestampSecond());
    case DuckDBTypeId.TIMESTAMP_MS: return native(new TimestampMillisecond());
    case DuckDBTypeId.TIMESTAMP_NS: return native(new TimestampNanosecond());
    default: return { arrowType: new Utf8(), source: 'json' };
  }
}

export class ArrowBatchEncoder {
  readonly schema: Schema;
  private readonly encodings: ColumnEncoding[];

  constructor(private readonly columns: readonly ResultColumn[]) {
    this.encodings = columns.map((c) => encodingFor(c.typeId));
    this.schema = new Schema(columns.map((c, i) => new Field(uniqueName(columns, i), this.encodings[i]!.arrowType, true)));
  }

  encode(chunk: DuckDBDataChunk): RecordBatch {
    const jsonColumns = this.encodings.some((e) => e.source === 'json') ? chunkColumnsJson(chunk) : [];
    const children = this.encodings.map((encoding, i) => {
      if (encoding.source === 'json') {
        const values = (jsonColumns[i] ?? []).map((v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)));
        return buildColumn(encoding.arrowType, values);
      }
      const column = chunkColumnForArrow(chunk, i, this.columns[i]!.typeId);
      if (column.kind === 'fixed') return buildFixedColumn(encoding.arrowType, column.data, column.validity, chunk.rowCount);
      if (column.kind === 'utf8') return buildUtf8Column(encoding.arrowType, column.offsets, column.data, column.validity, chunk.rowCount);
      return buildColumn(encoding.arrowType, column.values);
    });
    const data = makeData({ type: new Struct(this.schema.fields), length: chunk.rowCount, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}

/** Arrow field names must be unique for pandas; DuckDB may return duplicates (SELECT a, a). */
function uniqueName(columns: readonly ResultColumn[], index: number): string {
  const name = columns[index]!.name;
  const earlier = columns.slice(0, index).filter((c) => c.name === name).length;
  return earlier === 0 ? name : `${name}_${earlier}`;
}
