/**
 * Turns the CSV DuckDB's writer produces in PostgreSQL's text forms (postgresCsv: delimiter ',',
 * quote '"' doubled inside quotes, NULL as an unquoted empty field, an empty string as "") into
 * DataRow messages in text format: the fast way to send a large text-format result, since DuckDB
 * writes CSV in parallel and this pass only moves bytes. Input arrives in arbitrary pieces; a line
 * split across pieces is carried over.
 *
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html (DataRow)
 */
export class CsvDataRows {
  private carry: Buffer = Buffer.alloc(0);
  /** Rows converted so far. */
  rows = 0;

  constructor(private readonly columnCount: number) {}

  /** DataRow messages for every complete line in what arrived so far. */
  push(piece: Buffer): Buffer {
    const input = this.carry.length === 0 ? piece : Buffer.concat([this.carry, piece]);
    const { messages, consumed } = this.convert(input, false);
    this.carry = consumed === input.length ? Buffer.alloc(0) : Buffer.from(input.subarray(consumed));
    return messages;
  }

  /** The last line, if the writer did not end it with a newline. */
  end(): Buffer {
    if (this.carry.length === 0) return Buffer.alloc(0);
    const { messages } = this.convert(this.carry, true);
    this.carry = Buffer.alloc(0);
    return messages;
  }

  private convert(input: Buffer, final: boolean): { messages: Buffer; consumed: number } {
    // A DataRow is never longer than its line plus 5 + 2 + 4 bytes per field.
    let out = Buffer.allocUnsafe(input.length + 64 + (input.length >> 2));
    let at = 0;
    const ensure = (n: number): void => {
      if (at + n <= out.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + n));
      out.copy(bigger, 0, 0, at);
      out = bigger;
    };
    const n = input.length;
    let lineStart = 0;
    let consumed = 0;
    while (lineStart < n) {
      // Find the end of this line (a newline outside quotes), or stop for more input.
      let i = lineStart;
      let quoted = false;
      while (i < n) {
        const byte = input[i]!;
        if (byte === 0x22) quoted = !quoted;
        else if (byte === 0x0a && !quoted) break;
        i++;
      }
      if (i === n && !final) break;
      const lineEnd = i;
      ensure(7 + (lineEnd - lineStart) + 4 * this.columnCount);
      const messageStart = at;
      out[at] = 0x44; // 'D'
      at += 5;
      out.writeInt16BE(this.columnCount, at);
      at += 2;
      let p = lineStart;
      for (let field = 0; field < this.columnCount; field++) {
        const lengthAt = at;
        at += 4;
        if (p < lineEnd && input[p] === 0x22) {
          // Quoted: copy up to the closing quote, a doubled quote standing for one.
          p++;
          const valueStart = at;
          while (p < lineEnd) {
            const byte = input[p]!;
            if (byte === 0x22) {
              if (input[p + 1] === 0x22) {
                out[at++] = 0x22;
                p += 2;
                continue;
              }
              p++;
              break;
            }
            out[at++] = byte;
            p++;
          }
          out.writeInt32BE(at - valueStart, lengthAt);
        } else {
          let fieldEnd = p;
          while (fieldEnd < lineEnd && input[fieldEnd] !== 0x2c) fieldEnd++;
          if (fieldEnd === p) out.writeInt32BE(-1, lengthAt); // unquoted empty: NULL
          else {
            out.writeInt32BE(fieldEnd - p, lengthAt);
            at += input.copy(out, at, p, fieldEnd);
          }
          p = fieldEnd;
        }
        if (p < lineEnd && input[p] === 0x2c) p++;
      }
      out.writeInt32BE(at - messageStart - 1, messageStart + 1);
      this.rows++;
      lineStart = lineEnd + 1;
      consumed = Math.min(lineStart, n);
    }
    return { messages: out.subarray(0, at), consumed };
  }
}
