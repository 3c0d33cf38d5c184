import {
  Binary, Bool, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, Schema, Struct, TimestampMillisecond, Uint16, Uint32,
  Uint64, Uint8, Utf8, RecordBatch, makeData, type DataType,
} from 'apache-arrow';
import { buildColumn } from './arrow-columns.ts';
import { chunkColumnsJs, chunkColumnsJson, DuckDBTypeId, type DuckDBDataChunk, type ResultColumn } from '../engine/index.ts';

/**
 * Turns DuckDB result chunks into Arrow record batches. Types map one to one where Arrow has an
 * equivalent; DECIMAL becomes Float64 and nested or exotic types (LIST, STRUCT, INTERVAL, TIME,
 * HUGEINT) travel as their JSON text, documented in docs/http-api.md.
 */
interface ColumnEncoding {
  readonly arrowType: DataType;
  /** 'js' = JS values (Date, bigint, number), 'json' = JSON text of the JSON-converted value */
  readonly source: 'js' | 'json';
}

function encodingFor(typeId: DuckDBTypeId): ColumnEncoding {
  const js = (arrowType: DataType): ColumnEncoding => ({ arrowType, source: 'js' });
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN: return js(new Bool());
    case DuckDBTypeId.TINYINT: return js(new Int8());
    case DuckDBTypeId.SMALLINT: return js(new Int16());
    case DuckDBTypeId.INTEGER: return js(new Int32());
    case DuckDBTypeId.BIGINT: return js(new Int64());
    case DuckDBTypeId.UTINYINT: return js(new Uint8());
    case DuckDBTypeId.USMALLINT: return js(new Uint16());
    case DuckDBTypeId.UINTEGER: return js(new Uint32());
    case DuckDBTypeId.UBIGINT: return js(new Uint64());
    case DuckDBTypeId.FLOAT: return js(new Float32());
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL: return js(new Float64());
    case DuckDBTypeId.VARCHAR: return js(new Utf8());
    case DuckDBTypeId.BLOB: return js(new Binary());
    case DuckDBTypeId.DATE: return js(new DateDay());
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ: return js(new TimestampMillisecond());
    default: return { arrowType: new Utf8(), source: 'json' };
  }
}

export class ArrowBatchEncoder {
  readonly schema: Schema;
  private readonly encodings: ColumnEncoding[];

  constructor(columns: readonly ResultColumn[]) {
    this.encodings = columns.map((c) => encodingFor(c.typeId));
    this.schema = new Schema(columns.map((c, i) => new Field(uniqueName(columns, i), this.encodings[i]!.arrowType, true)));
  }

  encode(chunk: DuckDBDataChunk): RecordBatch {
    const needsJs = this.encodings.some((e) => e.source === 'js');
    const needsJson = this.encodings.some((e) => e.source === 'json');
    const jsColumns = needsJs ? chunkColumnsJs(chunk) : [];
    const jsonColumns = needsJson ? chunkColumnsJson(chunk) : [];
    const children = this.encodings.map((encoding, i) => {
      const values =
        encoding.source === 'json'
          ? (jsonColumns[i] ?? []).map((v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)))
          : (jsColumns[i] ?? []);
      return buildColumn(encoding.arrowType, values);
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
