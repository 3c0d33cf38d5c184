/** How COPY … TO STDOUT writes rows. */
export interface CopyFormat {
  readonly format: 'text' | 'csv';
  readonly delimiter: string;
  readonly nullString: string;
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/**
 * Rewrites a run of text-format DataRow messages (the same PostgreSQL text forms the query
 * protocol sends) as COPY lines: tab-separated with backslash escapes and \N for NULL (text), or
 * RFC 4180 fields with NULL unquoted-empty and an empty string quoted (csv), as PostgreSQL writes them.
 *
 * @see https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9 (File Formats)
 */
export function encodeCopyRows(dataRows: Buffer, format: CopyFormat): Buffer {
  const delimiter = Buffer.from(format.delimiter);
  const nullText = Buffer.from(format.nullString);
  const delimiterByte = delimiter.length === 1 ? delimiter[0]! : -1;
  // A field grows at most to double its size (escapes or quotes) plus separators.
  let out = Buffer.allocUnsafe(dataRows.length * 2 + 64);
  let at = 0;
  const ensure = (n: number): void => {
    if (at + n <= out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + n));
    out.copy(bigger, 0, 0, at);
    out = bigger;
  };
  let offset = 0;
  while (offset < dataRows.length) {
    const length = dataRows.readInt32BE(offset + 1);
    const end = offset + 1 + length;
    const fields = dataRows.readInt16BE(offset + 5);
    let p = offset + 7;
    for (let f = 0; f < fields; f++) {
      if (f > 0) {
        ensure(delimiter.length);
        at += delimiter.copy(out, at);
      }
      const size = dataRows.readInt32BE(p);
      p += 4;
      if (size < 0) {
        ensure(nullText.length);
        at += nullText.copy(out, at);
        continue;
      }
      const value = dataRows.subarray(p, p + size);
      p += size;
      ensure(value.length * 2 + 2);
      if (format.format === 'text') at = escapeText(value, out, at, delimiterByte);
      else at = quoteCsv(value, out, at, delimiterByte);
    }
    ensure(1);
    out[at++] = 0x0a;
    offset = end;
  }
  return out.subarray(0, at);
}

function escapeText(value: Buffer, out: Buffer, at: number, delimiter: number): number {
  for (const byte of value) {
    if (byte === BACKSLASH || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === delimiter) {
      out[at++] = BACKSLASH;
      out[at++] = byte === 0x0a ? 0x6e : byte === 0x0d ? 0x72 : byte === 0x09 ? 0x74 : byte;
    } else out[at++] = byte;
  }
  return at;
}

function quoteCsv(value: Buffer, out: Buffer, at: number, delimiter: number): number {
  let needsQuotes = value.length === 0;
  for (const byte of value) {
    if (byte === QUOTE || byte === 0x0a || byte === 0x0d || byte === delimiter) {
      needsQuotes = true;
      break;
    }
  }
  if (!needsQuotes) return at + value.copy(out, at);
  out[at++] = QUOTE;
  for (const byte of value) {
    if (byte === QUOTE) out[at++] = QUOTE;
    out[at++] = byte;
  }
  out[at++] = QUOTE;
  return at;
}
