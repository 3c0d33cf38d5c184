import { DuckDBTypeId, type ResultColumn } from '../../engine/index.ts';
import { pgColumnType } from '../pg-types.ts';
import { arrayCodec } from './array-values.ts';
import type { Codec } from './codec.ts';
import { dateCodec, intervalCodec, timeCodec, timestampCodec, timeTzCodec } from './datetime-codecs.ts';
import { bigIntCodec, bigNumCodec, booleanCodec, decimalCodec, doubleCodec, floatCodec, hugeIntCodec, smallIntCodec, uBigIntCodec } from './number-codecs.ts';
import { blobCodec, enumCodec, textFormCodec, uuidCodec, varcharCodec } from './string-codecs.ts';

// The codec of each result column.

/** The codec of a DuckDB scalar type (LIST/ARRAY here are nested elements: sent in their text form). */
function scalarCodec(typeId: DuckDBTypeId): Codec {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return booleanCodec;
    case DuckDBTypeId.TINYINT:
      return smallIntCodec(typeId, Int8Array);
    case DuckDBTypeId.SMALLINT:
      return smallIntCodec(typeId, Int16Array);
    case DuckDBTypeId.INTEGER:
      return smallIntCodec(typeId, Int32Array);
    case DuckDBTypeId.UTINYINT:
      return smallIntCodec(typeId, Uint8Array);
    case DuckDBTypeId.USMALLINT:
      return smallIntCodec(typeId, Uint16Array);
    case DuckDBTypeId.UINTEGER:
      return smallIntCodec(typeId, Uint32Array);
    case DuckDBTypeId.BIGINT:
      return bigIntCodec;
    case DuckDBTypeId.UBIGINT:
      return uBigIntCodec;
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return hugeIntCodec(typeId);
    case DuckDBTypeId.BIGNUM:
      return bigNumCodec;
    case DuckDBTypeId.FLOAT:
      return floatCodec;
    case DuckDBTypeId.DOUBLE:
      return doubleCodec;
    case DuckDBTypeId.DECIMAL:
      return decimalCodec;
    case DuckDBTypeId.DATE:
      return dateCodec;
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return timeCodec(typeId);
    case DuckDBTypeId.TIME_TZ:
      return timeTzCodec;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestampCodec(typeId, false);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return timestampCodec(typeId, true);
    case DuckDBTypeId.INTERVAL:
      return intervalCodec;
    case DuckDBTypeId.UUID:
      return uuidCodec;
    case DuckDBTypeId.VARCHAR:
      return varcharCodec;
    case DuckDBTypeId.BLOB:
      return blobCodec;
    case DuckDBTypeId.ENUM:
      return enumCodec;
    default:
      return textFormCodec(typeId);
  }
}

/** The codec of a result column, matching what pgColumnType announces for it. */
export function columnCodec(column: ResultColumn): Codec {
  const announced = pgColumnType(column);
  if (announced.type.elementOid !== 0 && column.elementTypeId !== undefined && (column.typeId === DuckDBTypeId.LIST || column.typeId === DuckDBTypeId.ARRAY)) {
    return arrayCodec(column.typeId, scalarCodec(column.elementTypeId));
  }
  return scalarCodec(column.typeId);
}
