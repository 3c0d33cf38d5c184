import { InvalidRequestError } from '../errors/index.ts';

/**
 * PostgreSQL protocol 3.0 messages: builders for the backend messages Veil sends and bounds-checked
 * parsers for the frontend messages it reads. Every message is a type byte, an int32 length that
 * counts itself and the body (not the type byte), then the body; integers are big-endian and
 * strings are UTF-8 terminated by a zero byte.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 * @see https://www.postgresql.org/docs/current/protocol-message-types.html
 */

export interface FieldDescription {
  readonly name: string;
  /** OID of the table the column comes from, else 0. */
  readonly tableOid: number;
  /** Attribute number of the column in that table, else 0. */
  readonly columnNumber: number;
  readonly typeOid: number;
  /** pg_type.typlen: bytes of a fixed-width type, -1 for variable width. */
  readonly typeLength: number;
  /** pg_attribute.atttypmod, -1 when there is none. */
  readonly typeModifier: number;
  readonly format: 0 | 1;
}

export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL';
  /** SQLSTATE, five characters. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the query text. */
  readonly position?: number;
}

export interface NoticeFields extends Omit<ErrorFields, 'severity'> {
  readonly severity: 'NOTICE' | 'WARNING';
}

export type TransactionStatus = 'I' | 'T' | 'E';

// ---------------------------------------------------------------------------------------------
// Building backend messages

/** Accumulates one message body; `finish` prefixes the type byte and length. */
class MessageWriter {
  private buf: Buffer;
  private pos = 5;

  constructor(private readonly type: string, size = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 16));
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(value: number): this {
    this.ensure(1);
    this.buf.writeUInt8(value & 0xff, this.pos);
    this.pos += 1;
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(value & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /**
   * A zero-terminated UTF-8 string. A NUL inside would end the string early and desynchronise
   * the client, so it becomes U+FFFD (PostgreSQL text can never hold one).
   */
  cstring(value: string): this {
    const text = value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
    this.ensure(text.length * 3 + 1);
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  finish(): Buffer {
    this.buf.write(this.type, 0, 'latin1');
    this.buf.writeUInt32BE(this.pos - 1, 1);
    return this.buf.subarray(0, this.pos);
  }
}

/** A message with an empty body (length 4). */
function bare(type: string): Buffer {
  return new MessageWriter(type, 5).finish();
}

/** RowDescription ('T'): one field per result column. */
export function rowDescription(fields: readonly FieldDescription[]): Buffer {
  const w = new MessageWriter('T', 7 + fields.length * 32).int16(fields.length);
  for (const field of fields) {
    w.cstring(field.name).int32(field.tableOid).int16(field.columnNumber).int32(field.typeOid).int16(field.typeLength).int32(field.typeModifier).int16(field.format);
  }
  return w.finish();
}

/** ParameterDescription ('t'): the type OIDs of a prepared statement's parameters. */
export function parameterDescription(oids: readonly number[]): Buffer {
  const w = new MessageWriter('t', 7 + oids.length * 4).int16(oids.length);
  for (const oid of oids) w.int32(oid);
  return w.finish();
}

/**
 * DataRow ('D') from ready values: strings are sent as UTF-8 (text format), buffers as they are,
 * null as length -1. For small in-process results (SHOW, catalog answers); query results use the
 * row encoder of pg-values.ts.
 */
export function dataRow(values: readonly (Buffer | string | null)[]): Buffer {
  const w = new MessageWriter('D', 7 + values.length * 16).int16(values.length);
  for (const value of values) {
    if (value === null) {
      w.int32(-1);
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      w.int32(bytes.length).bytes(bytes);
    }
  }
  return w.finish();
}

/** CommandComplete ('C'), e.g. "SELECT 42". */
export function commandComplete(tag: string): Buffer {
  return new MessageWriter('C', 6 + tag.length).cstring(tag).finish();
}

/** EmptyQueryResponse ('I'): the query string was empty. */
export function emptyQueryResponse(): Buffer {
  return bare('I');
}

/** NoData ('n'): the described statement or portal returns no rows. */
export function noData(): Buffer {
  return bare('n');
}

/** ParseComplete ('1'). */
export function parseComplete(): Buffer {
  return bare('1');
}

/** BindComplete ('2'). */
export function bindComplete(): Buffer {
  return bare('2');
}

/** CloseComplete ('3'). */
export function closeComplete(): Buffer {
  return bare('3');
}

/** PortalSuspended ('s'): Execute's row limit was reached before the portal ended. */
export function portalSuspended(): Buffer {
  return bare('s');
}

/** ReadyForQuery ('Z'): I idle, T in a transaction block, E in a failed transaction block. */
export function readyForQuery(status: TransactionStatus): Buffer {
  return new MessageWriter('Z', 6).int8(status.charCodeAt(0)).finish();
}

/**
 * The fields shared by ErrorResponse and NoticeResponse: S (localized severity), V (severity,
 * never localized; PostgreSQL 9.6+), C (SQLSTATE), M, then D, H, P when given; a zero byte ends them.
 * @see https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
function errorFields(type: 'E' | 'N', fields: ErrorFields | NoticeFields): Buffer {
  const w = new MessageWriter(type, 64 + fields.message.length * 3);
  w.int8(0x53).cstring(fields.severity);
  w.int8(0x56).cstring(fields.severity);
  w.int8(0x43).cstring(fields.code);
  w.int8(0x4d).cstring(fields.message);
  if (fields.detail !== undefined) w.int8(0x44).cstring(fields.detail);
  if (fields.hint !== undefined) w.int8(0x48).cstring(fields.hint);
  if (fields.position !== undefined) w.int8(0x50).cstring(String(fields.position));
  return w.int8(0).finish();
}

/** ErrorResponse ('E'). */
export function errorResponse(fields: ErrorFields): Buffer {
  return errorFields('E', fields);
}

/** NoticeResponse ('N'). */
export function noticeResponse(fields: NoticeFields): Buffer {
  return errorFields('N', fields);
}

/** ParameterStatus ('S'): a run-time parameter's current value (server_version, TimeZone, …). */
export function parameterStatus(name: string, value: string): Buffer {
  return new MessageWriter('S', 8 + (name.length + value.length) * 3).cstring(name).cstring(value).finish();
}

/** BackendKeyData ('K'): the process ID and secret key a CancelRequest must quote. */
export function backendKeyData(processId: number, secretKey: number): Buffer {
  return new MessageWriter('K', 13).int32(processId).int32(secretKey).finish();
}

/** CopyOutResponse ('H'): overall format (0 text, 1 binary), then one format code per column. */
export function copyOutResponse(overallFormat: 0 | 1, columnFormats: readonly number[]): Buffer {
  const w = new MessageWriter('H', 8 + columnFormats.length * 2).int8(overallFormat).int16(columnFormats.length);
  for (const format of columnFormats) w.int16(format);
  return w.finish();
}

/** CopyData ('d'). */
export function copyData(payload: Uint8Array): Buffer {
  return new MessageWriter('d', 5 + payload.length).bytes(payload).finish();
}

/** CopyDone ('c'). */
export function copyDone(): Buffer {
  return bare('c');
}

// ---------------------------------------------------------------------------------------------
// Parsing frontend messages. Each parser takes one whole message, type byte included (as
// pg-gateway hands them over), and checks every length against the bytes actually present.

export interface ParseMessage {
  readonly statement: string;
  readonly query: string;
  /** Declared parameter types; 0 leaves a type unspecified. */
  readonly parameterTypes: number[];
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  readonly parameterFormats: number[];
  /** Copies of the parameter bytes (the caller's buffer may be reused), null for SQL NULL. */
  readonly parameters: (Buffer | null)[];
  readonly resultFormats: number[];
}

export interface DescribeMessage {
  readonly kind: 'S' | 'P';
  readonly name: string;
}

export interface ExecuteMessage {
  readonly portal: string;
  /** Row limit; 0 means no limit (negative values are read as 0, as PostgreSQL does). */
  readonly maxRows: number;
}

export type CloseMessage = DescribeMessage;

export interface CancelRequest {
  readonly processId: number;
  readonly secretKey: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over one message; any read past its end is a malformed message, never a RangeError. */
class MessageReader {
  private pos = 5;
  private readonly view: Buffer;

  constructor(
    message: Uint8Array,
    private readonly type: string,
    private readonly what: string,
  ) {
    this.view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    if (this.view.length < 5 || this.view[0] !== type.charCodeAt(0) || this.view.readUInt32BE(1) !== this.view.length - 1) throw this.malformed();
  }

  malformed(): InvalidRequestError {
    return new InvalidRequestError(`malformed ${this.what} message`);
  }

  private need(bytes: number): void {
    if (bytes < 0 || this.pos + bytes > this.view.length) throw this.malformed();
  }

  byte(): number {
    this.need(1);
    return this.view[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const value = this.view.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.view.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.view.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  cstring(): string {
    const end = this.view.indexOf(0, this.pos);
    if (end < 0) throw this.malformed();
    let text: string;
    try {
      text = utf8.decode(this.view.subarray(this.pos, end));
    } catch {
      throw new InvalidRequestError(`malformed ${this.what} message: invalid UTF-8`);
    }
    this.pos = end + 1;
    return text;
  }

  /** A copy: the message buffer belongs to the connection's reader and may be reused. */
  bytes(length: number): Buffer {
    this.need(length);
    const copy = Buffer.from(this.view.subarray(this.pos, this.pos + length));
    this.pos += length;
    return copy;
  }

  /** A count that precedes `width`-byte items: it must fit in what is left. */
  count(width: number): number {
    const count = this.int16();
    if (count < 0) throw this.malformed();
    this.need(count * width);
    return count;
  }

  /** pq_getmsgend: a message with bytes left over is as malformed as a short one. */
  end(): void {
    if (this.pos !== this.view.length) throw this.malformed();
  }
}

/** Query ('Q'): a simple-protocol query string. */
export function parseQuery(message: Uint8Array): string {
  const r = new MessageReader(message, 'Q', 'Query');
  const query = r.cstring();
  r.end();
  return query;
}

/** Parse ('P'): statement name, query, declared parameter type OIDs. */
export function parseParse(message: Uint8Array): ParseMessage {
  const r = new MessageReader(message, 'P', 'Parse');
  const statement = r.cstring();
  const query = r.cstring();
  const count = r.count(4);
  const parameterTypes: number[] = [];
  for (let i = 0; i < count; i++) parameterTypes.push(r.uint32());
  r.end();
  return { statement, query, parameterTypes };
}

/** Bind ('B'): portal, statement, parameter format codes, parameter values, result format codes. */
export function parseBind(message: Uint8Array): BindMessage {
  const r = new MessageReader(message, 'B', 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const parameterFormats: number[] = [];
  for (let i = 0, n = r.count(2); i < n; i++) parameterFormats.push(r.int16());
  const parameters: (Buffer | null)[] = [];
  for (let i = 0, n = r.count(4); i < n; i++) {
    const length = r.int32();
    if (length === -1) parameters.push(null);
    else if (length < 0) throw r.malformed();
    else parameters.push(r.bytes(length));
  }
  const resultFormats: number[] = [];
  for (let i = 0, n = r.count(2); i < n; i++) resultFormats.push(r.int16());
  r.end();
  return { portal, statement, parameterFormats, parameters, resultFormats };
}

function parseTarget(message: Uint8Array, type: 'D' | 'C', what: string): DescribeMessage {
  const r = new MessageReader(message, type, what);
  const kind = r.byte();
  if (kind !== 0x53 && kind !== 0x50) throw r.malformed();
  const name = r.cstring();
  r.end();
  return { kind: kind === 0x53 ? 'S' : 'P', name };
}

/** Describe ('D'): S for a prepared statement, P for a portal. */
export function parseDescribe(message: Uint8Array): DescribeMessage {
  return parseTarget(message, 'D', 'Describe');
}

/** Close ('C'): S for a prepared statement, P for a portal. */
export function parseClose(message: Uint8Array): CloseMessage {
  return parseTarget(message, 'C', 'Close');
}

/** Execute ('E'): portal name and row limit. */
export function parseExecute(message: Uint8Array): ExecuteMessage {
  const r = new MessageReader(message, 'E', 'Execute');
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { portal, maxRows: maxRows > 0 ? maxRows : 0 };
}

const CANCEL_REQUEST_CODE = 80877102;

/**
 * CancelRequest: a 16-byte startup-phase message without a type byte (length 16, code
 * 80877102, process ID, secret key). Anything else is not a cancel request: undefined.
 */
export function parseCancelRequest(message: Uint8Array): CancelRequest | undefined {
  if (message.byteLength !== 16) return undefined;
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (view.readInt32BE(0) !== 16 || view.readInt32BE(4) !== CANCEL_REQUEST_CODE) return undefined;
  return { processId: view.readInt32BE(8), secretKey: view.readInt32BE(12) };
}

/**
 * Bind's format-code rule: no codes means all text, one code applies to every value, otherwise
 * one code per value. Codes are 0 (text) or 1 (binary).
 */
export function expandFormats(formats: readonly number[], count: number): (0 | 1)[] {
  for (const format of formats) {
    if (format !== 0 && format !== 1) throw new InvalidRequestError(`unsupported format code: ${format}`);
  }
  if (formats.length === 0) return new Array<0 | 1>(count).fill(0);
  if (formats.length === 1) return new Array<0 | 1>(count).fill(formats[0] as 0 | 1);
  if (formats.length !== count) throw new InvalidRequestError(`bind message has ${formats.length} format codes for ${count} values`);
  return formats.map((format) => format as 0 | 1);
}
