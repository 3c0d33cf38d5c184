/**
 * The benchmark's HTTP client: POST /v1/query with fetch and read the whole response as a stream,
 * counting bytes and rows without keeping the body. It runs in a worker thread by default, so the
 * client's reading does not share the server's event loop (a real client is another process); with
 * VEIL_BENCH_CLIENT=inline it runs on the server's thread instead.
 */
import { Worker, parentPort } from 'node:worker_threads';
import { Message } from 'apache-arrow';

export interface FetchRequest {
  readonly url: string;
  readonly token: string;
  readonly sql: string;
  readonly accept: string;
  readonly timeoutMs: number;
}

export interface FetchOutcome {
  readonly status: number;
  readonly contentType: string;
  readonly ms: number;
  /** Time until the response headers arrived. */
  readonly headersMs: number;
  readonly bytes: number;
  /** Data rows (CSV: lines after the header; Arrow: sum of record batch lengths). */
  readonly rows: number;
  readonly batches: number;
  /** The first bytes of an error body, for the report. */
  readonly errorBody?: string;
}

const NEWLINE = 0x0a;

/** Counts CSV data lines: every line ends with \n (the generator never puts newlines in values). */
class CsvLineCounter {
  lines = 0;
  lastByte = -1;

  feed(chunk: Uint8Array): void {
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = buffer.indexOf(NEWLINE); at !== -1; at = buffer.indexOf(NEWLINE, at + 1)) this.lines++;
    if (chunk.byteLength > 0) this.lastByte = chunk[chunk.byteLength - 1]!;
  }

  finish(): { rows: number; batches: number } {
    if (this.lines === 0) throw new Error('CSV body without a header line');
    if (this.lastByte !== NEWLINE) throw new Error('CSV body does not end with a newline (truncated?)');
    return { rows: this.lines - 1, batches: 0 };
  }
}

/**
 * Walks the Arrow IPC stream framing (continuation marker, metadata length, flatbuffer metadata,
 * body) and sums record batch lengths. Only metadata is decoded; body bytes are skipped unseen.
 */
export class ArrowStreamCounter {
  rows = 0;
  batches = 0;
  schemas = 0;
  ended = false;
  private skip = 0;
  private pending: Buffer = Buffer.alloc(0);

  feed(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.skip > 0) {
      const skipped = Math.min(this.skip, data.length);
      this.skip -= skipped;
      data = data.subarray(skipped);
    }
    if (data.length === 0) return;
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    this.parse();
  }

  private parse(): void {
    // Each pass consumes at least 8 bytes or returns, so the loop is bounded by the input.
    while (this.pending.length > 0) {
      if (this.ended) throw new Error('bytes after the Arrow end-of-stream marker');
      if (this.pending.length < 8) return;
      let offset = 4;
      let metadataLength = this.pending.readInt32LE(0);
      if (metadataLength === -1) {
        metadataLength = this.pending.readInt32LE(4);
        offset = 8;
      }
      if (metadataLength < 0) throw new Error(`bad Arrow message length ${metadataLength}`);
      if (metadataLength === 0) {
        this.ended = true;
        this.pending = this.pending.subarray(offset);
        continue;
      }
      if (this.pending.length < offset + metadataLength) return;
      const message = Message.decode(this.pending.subarray(offset, offset + metadataLength));
      if (message.isRecordBatch()) {
        this.rows += Number(message.header().length);
        this.batches++;
      } else if (message.isSchema()) {
        this.schemas++;
      }
      const rest = this.pending.subarray(offset + metadataLength);
      const bodyInBuffer = Math.min(message.bodyLength, rest.length);
      this.skip = message.bodyLength - bodyInBuffer;
      this.pending = rest.subarray(bodyInBuffer);
    }
  }

  finish(): { rows: number; batches: number } {
    if (this.skip > 0 || this.pending.length > 0) throw new Error('Arrow stream ends inside a message (truncated)');
    if (this.schemas !== 1) throw new Error(`Arrow stream carried ${this.schemas} schema messages`);
    if (!this.ended) throw new Error('Arrow stream has no end-of-stream marker (truncated?)');
    return { rows: this.rows, batches: this.batches };
  }
}

/** Sends one query and consumes the whole response body as a stream. */
export async function fetchQuery(request: FetchRequest): Promise<FetchOutcome> {
  const started = performance.now();
  const response = await fetch(`${request.url}/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${request.token}`, Accept: request.accept },
    body: JSON.stringify({ sql: request.sql }),
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  const headersMs = performance.now() - started;
  const contentType = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    return { status: response.status, contentType, ms: performance.now() - started, headersMs, bytes: text.length, rows: 0, batches: 0, errorBody: text.slice(0, 500) };
  }
  const counter = contentType.startsWith('application/vnd.apache.arrow.stream') ? new ArrowStreamCounter() : new CsvLineCounter();
  let bytes = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      counter.feed(value);
    }
  } finally {
    reader.releaseLock();
  }
  const ms = performance.now() - started;
  const { rows, batches } = counter.finish();
  return { status: response.status, contentType, ms, headersMs, bytes, rows, batches };
}

type WorkerReply = { id: number; ok: true; outcome: FetchOutcome } | { id: number; ok: false; error: string };

/** Entry point of the worker thread (started through http-client-worker.mjs). */
export function serveWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorker must run in a worker thread');
  port.on('message', (message: { id: number; request: FetchRequest }) => {
    fetchQuery(message.request).then(
      (outcome) => port.postMessage({ id: message.id, ok: true, outcome } satisfies WorkerReply),
      (error: unknown) => port.postMessage({ id: message.id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies WorkerReply),
    );
  });
}

export type ClientMode = 'worker' | 'inline';

/** Issues benchmark requests either from a worker thread or from the current thread. */
export class BenchClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (o: FetchOutcome) => void; reject: (e: Error) => void }>();

  private constructor(readonly mode: ClientMode) {}

  static async start(mode: ClientMode): Promise<BenchClient> {
    const client = new BenchClient(mode);
    if (mode === 'worker') {
      const worker = new Worker(new URL('./http-client-worker.mjs', import.meta.url));
      worker.on('message', (reply: WorkerReply) => {
        const waiter = client.waiting.get(reply.id);
        if (waiter === undefined) return;
        client.waiting.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.outcome);
        else waiter.reject(new Error(`client worker: ${reply.error}`));
      });
      const failAll = (error: Error): void => {
        for (const waiter of client.waiting.values()) waiter.reject(error);
        client.waiting.clear();
      };
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`client worker exited with code ${code}`)));
      await new Promise<void>((resolve, reject) => {
        worker.once('online', resolve);
        worker.once('error', reject);
      });
      client.worker = worker;
    }
    return client;
  }

  query(request: FetchRequest): Promise<FetchOutcome> {
    const worker = this.worker;
    if (worker === undefined) return fetchQuery(request);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
