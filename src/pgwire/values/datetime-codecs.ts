import { DuckDBTypeId } from '../../engine/index.ts';
import { writeAscii, writeInt32, writeInt64Big, writeInt64Number } from './byte-writer.ts';
import { type Codec, fixedCodec, valueCodec } from './codec.ts';
import { INT32_MAX, INT32_MIN, INT64_MAX, intervalText, PG_EPOCH_DAYS, PG_EPOCH_MICROS, timeTzText, writeDate, writeTimeOfDay, writeTimestampBig, writeTimestampMicros } from './datetime-text.ts';
import { dataViewOf, int64At, itemsOf, viewOf } from './vector-reading.ts';

// Codecs of dates, times, timestamps and intervals.

export const dateCodec = fixedCodec(
  DuckDBTypeId.DATE,
  false,
  (v) => {
    const items = itemsOf(v, Int32Array);
    return (w, i) => writeDate(w, items[i]!);
  },
  (v) => {
    const items = itemsOf(v, Int32Array);
    return (w, i) => {
      const days = items[i]!;
      w.ensure(4);
      // date_send: infinities are INT32_MAX / INT32_MIN; dates beyond PostgreSQL's range clamp to them.
      if (days === INT32_MAX) writeInt32(w, INT32_MAX);
      else if (days === -INT32_MAX) writeInt32(w, INT32_MIN);
      else writeInt32(w, Math.max(INT32_MIN, Math.min(INT32_MAX, days - PG_EPOCH_DAYS)));
    };
  },
);

/** TIME (µs) and TIME_NS (ns) since midnight, as microseconds. */
export function timeCodec(typeId: DuckDBTypeId.TIME | DuckDBTypeId.TIME_NS): Codec {
  const divisor = typeId === DuckDBTypeId.TIME ? 1 : 1000;
  const micros = (view: DataView, i: number): number => Math.floor((int64At(view, i * 8) ?? 0) / divisor);
  return fixedCodec(
    typeId,
    true,
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => writeTimeOfDay(w, micros(view, i));
    },
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        w.ensure(8);
        writeInt64Number(w, micros(view, i));
      };
    },
  );
}

/** TIMESTAMP variants as microseconds since 1970: a safe number, or a bigint (also ±INT64_MAX for the infinities). */
export function timestampCodec(typeId: DuckDBTypeId, withZone: boolean): Codec {
  const unit = typeId === DuckDBTypeId.TIMESTAMP_S ? 1_000_000n : typeId === DuckDBTypeId.TIMESTAMP_MS ? 1000n : 1n;
  const nanos = typeId === DuckDBTypeId.TIMESTAMP_NS;
  const micros = (view: DataView, i: number): number | bigint => {
    if (unit === 1n && !nanos) {
      const fast = int64At(view, i * 8);
      if (fast !== undefined) return fast;
    }
    const raw = view.getBigInt64(i * 8, true);
    if (raw >= INT64_MAX || raw <= -INT64_MAX) return raw;
    if (nanos) {
      // Floor to microseconds (PostgreSQL has no finer precision).
      const floored = raw / 1000n - (raw % 1000n < 0n ? 1n : 0n);
      return Number.isSafeInteger(Number(floored)) ? Number(floored) : floored;
    }
    const scaled = raw * unit;
    return Number.isSafeInteger(Number(scaled)) ? Number(scaled) : scaled;
  };
  return fixedCodec(
    typeId,
    false,
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        const value = micros(view, i);
        if (typeof value === 'number') writeTimestampMicros(w, value, withZone);
        else writeTimestampBig(w, value, withZone);
      };
    },
    (v) => {
      const view = dataViewOf(itemsOf(v, BigInt64Array));
      return (w, i) => {
        const value = micros(view, i);
        w.ensure(8);
        if (typeof value === 'number') {
          const shifted = value - PG_EPOCH_MICROS;
          if (Number.isSafeInteger(shifted)) return writeInt64Number(w, shifted);
        }
        const big = BigInt(value);
        // timestamp_send: infinities are INT64_MAX / INT64_MIN; values beyond int64 after the epoch shift clamp to them.
        if (big >= INT64_MAX) return writeInt64Big(w, INT64_MAX);
        if (big <= -INT64_MAX) return writeInt64Big(w, -INT64_MAX - 1n);
        const shifted = big - BigInt(PG_EPOCH_MICROS);
        writeInt64Big(w, shifted < -INT64_MAX - 1n ? -INT64_MAX - 1n : shifted);
      };
    },
  );
}

export const intervalCodec = fixedCodec(DuckDBTypeId.INTERVAL, false, (v) => {
  const view = viewOf(v, 16);
  return (w, i) => {
    const at = i * 16;
    writeAscii(w, intervalText(view.getInt32(at, true), view.getInt32(at + 4, true), view.getBigInt64(at + 8, true)));
  };
});

interface TimeTzLike {
  readonly micros: bigint;
  readonly offset: number;
}

export const timeTzCodec = valueCodec(DuckDBTypeId.TIME_TZ, false, (value) => {
  const { micros, offset } = value as TimeTzLike;
  return timeTzText(Number(micros), offset);
});
