import net from 'node:net';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { parse, serialize } from 'pg-protocol';
import type { TestServer } from './test-server.ts';

/**
 * Helpers for tests of the PostgreSQL door: a pg.Client per user, answers in a uniform shape,
 * a raw-protocol client for exact message sequences, CancelRequest, and the audit store.
 * Every wait is bounded (a hung door fails the test instead of hanging the suite).
 */

/** Text-format values as the wire sends them: no client-side parsing of numbers, dates or booleans. */
export const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/** Bound on any single wait for the server (a liveness bound, not a performance assertion). */
export const WAIT_MS = 60_000;

export interface PgAnswer {
  readonly ok: boolean;
  readonly fields: { readonly name: string; readonly dataTypeID: number }[];
  readonly rows: (string | null)[][];
  /** SQLSTATE of the error, if any. */
  readonly code: string | undefined;
  /** Veil's own error code, from the error's detail ("Veil error code X"). */
  readonly veilCode: string | undefined;
  readonly message: string;
  readonly detail: string | undefined;
  /** Everything the client received, as text (for leak scans). */
  readonly text: string;
}

export async function connectPg(server: Pick<TestServer, 'pgPort' | 'token'>, user: string, options: { password?: string; applicationName?: string; database?: string } = {}): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.pgPort,
    user,
    password: options.password ?? server.token(user),
    database: options.database ?? 'veil',
    application_name: options.applicationName ?? 'veil-pg-tests',
    connectionTimeoutMillis: WAIT_MS,
  });
  client.on('error', () => undefined); // a server-side close after a test's last query is not a failure
  await client.connect();
  return client;
}

/** One query on a client; never throws for a server error (it becomes part of the answer). */
export async function pgQuery(client: pg.Client, text: string, values?: unknown[], options: { extended?: boolean; name?: string } = {}): Promise<PgAnswer> {
  try {
    const config: pg.QueryArrayConfig = { text, rowMode: 'array', types: RAW_TEXT };
    if (values !== undefined) config.values = values;
    if (options.name !== undefined) config.name = options.name;
    if (options.extended === true) (config as { queryMode?: string }).queryMode = 'extended';
    const result = (await client.query(config)) as pg.QueryArrayResult | pg.QueryArrayResult[];
    // Several statements in one simple query give one result each: their rows together, the last one's fields.
    const results = Array.isArray(result) ? result : [result];
    const rows = results.flatMap((r) => (r.rows ?? []) as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));
    const fields = (results.at(-1)?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
    return { ok: true, fields, rows, code: undefined, veilCode: undefined, message: '', detail: undefined, text: JSON.stringify({ fields, rows }) };
  } catch (error) {
    const { code, detail, message } = error as { code?: string; detail?: string; message: string };
    const veilCode = /Veil error code ([A-Z_]+)/.exec(detail ?? '')?.[1];
    return { ok: false, fields: [], rows: [], code, veilCode, message, detail, text: JSON.stringify({ code, detail, message }) };
  }
}

/** Opens a connection, runs one statement, closes. */
export async function pgOnce(server: Pick<TestServer, 'pgPort' | 'token'>, user: string, text: string, values?: unknown[], options: { extended?: boolean } = {}): Promise<PgAnswer> {
  const client = await connectPg(server, user);
  try {
    return await pgQuery(client, text, values, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Reads a whole query through a pg-cursor portal in batches; returns the fields and rows seen. */
export async function readCursor(
  client: pg.Client,
  text: string,
  batch: number,
  onBatch: (rows: (string | null)[][], fields: { name: string; dataTypeID: number }[]) => void,
  maxBatches = 10_000,
): Promise<{ rows: number; fields: { name: string; dataTypeID: number }[] }> {
  const cursor = client.query(new Cursor<(string | null)[]>(text, null, { rowMode: 'array', types: RAW_TEXT }));
  let fields: { name: string; dataTypeID: number }[] = [];
  let total = 0;
  try {
    for (let i = 0; i < maxBatches; i++) {
      const rows = await new Promise<(string | null)[][]>((resolve, reject) => {
        cursor.read(batch, (error, got, result) => {
          if (error) reject(error);
          else {
            if (fields.length === 0) fields = (result.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
            resolve(got);
          }
        });
      });
      if (rows.length === 0) return { rows: total, fields };
      total += rows.length;
      onBatch(rows, fields);
      if (rows.length < batch) return { rows: total, fields };
    }
    throw new Error(`cursor read more than ${maxBatches} batches`);
  } finally {
    await new Promise<void>((resolve) => cursor.close(() => resolve()));
  }
}

// ---- raw protocol ------------------------------------------------------------------------------

export interface RawMessage {
  readonly name: string;
  readonly [key: string]: unknown;
}

/**
 * A minimal frontend speaking the protocol message by message (pg-protocol's serializer and
 * parser), for sequences a driver never sends: Bind of a name never parsed, COPY data, CancelRequest.
 */
export class RawPgClient {
  private readonly inbox: RawMessage[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  processId = 0;
  secretKey = 0;

  private constructor(private readonly socket: net.Socket) {
    void parse(socket, (message) => {
      this.inbox.push(message as unknown as RawMessage);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** Connects and authenticates (clear-text password over loopback); rejects with the server's error. */
  static async connect(port: number, user: string, password: string, parameters: Record<string, string> = {}): Promise<RawPgClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawPgClient(socket);
    client.send(serialize.startup({ user, database: 'veil', ...parameters }));
    for (let i = 0; i < 100; i++) {
      const message = await client.next();
      if (message.name === 'authenticationCleartextPassword') client.send(serialize.password(password));
      else if (message.name === 'backendKeyData') {
        client.processId = Number(message['processID']);
        client.secretKey = Number(message['secretKey']);
      } else if (message.name === 'error') {
        client.close();
        throw Object.assign(new Error(String(message['message'])), { code: message['code'], detail: message['detail'] });
      } else if (message.name === 'readyForQuery') return client;
    }
    client.close();
    throw new Error('no ReadyForQuery after 100 startup messages');
  }

  get closed(): boolean {
    return this.ended;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** The next backend message (bounded wait). */
  async next(timeoutMs = WAIT_MS): Promise<RawMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift();
      if (message !== undefined) return message;
      if (this.ended) return { name: 'connectionClosed' };
      const left = deadline - Date.now();
      if (left <= 0) return { name: 'timeout' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Messages up to and including ReadyForQuery (or the connection's end). */
  async untilReady(maxMessages = 1_000_000): Promise<RawMessage[]> {
    const got: RawMessage[] = [];
    for (let i = 0; i < maxMessages; i++) {
      const message = await this.next();
      got.push(message);
      if (message.name === 'readyForQuery' || message.name === 'connectionClosed' || message.name === 'timeout') return got;
    }
    return got;
  }

  /** A simple-protocol query; the messages it produced. */
  async simple(text: string): Promise<RawMessage[]> {
    this.send(serialize.query(text));
    return this.untilReady();
  }

  close(): void {
    if (!this.ended && this.socket.writable) this.socket.write(serialize.end());
    this.socket.destroy();
  }
}

/** The rows (text) of DataRow messages. */
export function dataRows(messages: readonly RawMessage[]): (string | null)[][] {
  return messages.filter((m) => m.name === 'dataRow').map((m) => (m['fields'] as (string | null)[]).map((v) => (v === null ? null : String(v))));
}

export function errorsOf(messages: readonly RawMessage[]): { code: string; message: string; detail: string | undefined }[] {
  return messages.filter((m) => m.name === 'error').map((m) => ({ code: String(m['code']), message: String(m['message']), detail: m['detail'] === undefined ? undefined : String(m['detail']) }));
}

/** Sends a CancelRequest on a new connection, as libpq does; resolves when the server closes it. */
export async function sendCancel(port: number, processId: number, secretKey: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, WAIT_MS);
    socket.once('connect', () => socket.write(serialize.cancel(processId, secretKey)));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => undefined);
  });
}

// ---- audit store -------------------------------------------------------------------------------

export interface AuditRecord {
  readonly seq: number;
  readonly request_id: string;
  readonly user: string | null;
  readonly door: string;
  readonly statement: string | null;
  readonly statement_type: string;
  readonly decision: string;
  readonly error_code: string | null;
  readonly rows_returned: number | null;
  readonly client_application: string | null;
}

// The audit trail of a home, on either backend: auditMark, auditSince and awaitAudit are in doors-helpers.ts.

// ---- comparing with the HTTP door --------------------------------------------------------------

const NESTED_TYPE = /^(STRUCT|MAP|UNION|JSON)|\[\d*\]$/;

/**
 * One cell in a form both doors agree on: HTTP JSON values and PostgreSQL text values of the same
 * column type compare equal. Nested values (structs, lists, JSON) are written differently by each
 * door and are compared by count only (their content is still scanned for leaks).
 */
export function comparableCell(value: unknown, type: string): string {
  if (value === null || value === undefined) return '<null>';
  if (NESTED_TYPE.test(type)) return '<nested>';
  if (type === 'BOOLEAN') return value === true || value === 't' || value === 'true' ? 't' : 'f';
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(type)) return String(Number(value));
  return String(value);
}

/** The rows as a sorted multiset of comparable lines. */
export function comparableRows(rows: readonly (readonly unknown[])[], types: readonly string[]): string[] {
  return rows.map((row) => types.map((type, i) => comparableCell(row[i], type)).join('\u0001')).sort();
}

/** Why a pg answer differs from HTTP's answer to the same SQL (null when it does not). */
export function differenceFromHttp(wire: PgAnswer, http: { status: number; body: { columns?: { name: string; type: string }[]; rows?: unknown[][]; error?: { code: string; message: string } } }): string | null {
  if (http.status !== 200) {
    if (wire.ok) return `HTTP refused with ${http.body.error?.code}, pg answered ${wire.rows.length} rows`;
    if (wire.veilCode !== http.body.error?.code) return `HTTP refused with ${http.body.error?.code}, pg with ${wire.veilCode ?? `SQLSTATE ${wire.code}`}: ${wire.message}`;
    return null;
  }
  if (!wire.ok) return `HTTP answered, pg refused with ${wire.veilCode ?? `SQLSTATE ${wire.code}`}: ${wire.message}`;
  const types = (http.body.columns ?? []).map((c) => c.type);
  const names = (http.body.columns ?? []).map((c) => c.name);
  if (JSON.stringify(wire.fields.map((f) => f.name)) !== JSON.stringify(names)) return `columns differ: pg ${JSON.stringify(wire.fields.map((f) => f.name))} http ${JSON.stringify(names)}`;
  const a = comparableRows(wire.rows, types);
  const b = comparableRows(http.body.rows ?? [], types);
  if (a.length !== b.length) return `pg ${a.length} rows, HTTP ${b.length}`;
  const at = a.findIndex((line, i) => line !== b[i]);
  return at < 0 ? null : `rows differ: pg ${JSON.stringify(a[at])} vs http ${JSON.stringify(b[at])}`;
}
