import { setTimeout as sleep } from 'node:timers/promises';
import { errorForResponse, VeilClientError, VeilConnectionError, VeilServerError } from './client-errors.ts';
import type { TokenSource } from './token-source.ts';

export interface TransportOptions {
  /** Base URL of the server; API paths are resolved relative to it, so a path prefix behind a proxy is kept. */
  readonly baseUrl: URL;
  readonly tokens: TokenSource;
  /** Value of `X-Veil-Client`. */
  readonly clientHeader: string;
  /** Upper bound on one call, connection retries and reading the whole response included. */
  readonly timeoutMs: number | undefined;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Relative to the base URL, without a leading slash: `v1/query`. */
  readonly path: string;
  readonly search?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly accept?: string;
}

/** A successful (2xx) response whose body has not been read yet. */
export interface OpenResponse {
  readonly response: Response;
  readonly requestId: string | null;
}

/** Connection failures are tried this often in all, waiting about 200 ms, then 400 ms, in between. */
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 200;

/**
 * System error codes meaning the request never got a response because the connection could not be
 * made or was dropped before any byte came back: the server may be restarting or a load balancer
 * may have cycled an idle keep-alive socket. Only these are retried, since a request that got any
 * HTTP answer, even a 5xx, was seen (and audited) by the server; every Veil call is a read, so a
 * repeat after a reset that may have reached the server is harmless.
 */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** Bounded size of an error body worth reading; Veil's are a few hundred bytes. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * HTTP exchange with a Veil server over Node's global fetch: authentication, the client header,
 * the timeout, retries of connection failures with exponential back-off, and the mapping of error
 * responses and transport failures to the client's error classes.
 */
export class HttpTransport {
  // A #private field: not shown by util.inspect or JSON.stringify, and it leads to the token.
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /** Where requests go, for messages: the origin and path prefix, never credentials. */
  get target(): string {
    return this.#options.baseUrl.href;
  }

  /** Sends a request and returns the response once it is known to be a success. */
  async open(spec: RequestSpec): Promise<OpenResponse> {
    const signal = this.#options.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.#options.timeoutMs);
    const token = await this.#options.tokens.token();
    const url = new URL(spec.path, this.#options.baseUrl);
    for (const [key, value] of Object.entries(spec.search ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'X-Veil-Client': this.#options.clientHeader,
      Accept: spec.accept ?? 'application/json',
    };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    const init: RequestInit = {
      method: spec.method,
      headers,
      // Not followed: a redirect is not part of the API, and following one would carry the token elsewhere.
      redirect: 'manual',
      ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
      ...(signal === undefined ? {} : { signal }),
    };
    const response = await this.fetchWithRetry(url, init, signal);
    const requestId = response.headers.get('x-request-id');
    if (response.ok) return { response, requestId };
    throw await this.errorFrom(response, requestId, signal);
  }

  /** A JSON (non-result) endpoint: the parsed body. */
  async json<T>(spec: RequestSpec): Promise<{ readonly body: T; readonly requestId: string | null }> {
    const open = await this.open(spec);
    const body = await this.read(open, async (response) => (await response.json()) as T);
    return { body, requestId: open.requestId };
  }

  /**
   * Reads a success body with `reader`, turning failures into client errors: the timeout, a
   * stream the server or network broke off (Veil aborts a response it cannot finish, so that a
   * partial result never looks complete), or a body that does not parse.
   */
  async read<T>(open: OpenResponse, reader: (response: Response) => Promise<T>): Promise<T> {
    try {
      return await reader(open.response);
    } catch (error) {
      if (error instanceof VeilClientError) throw error;
      if (isAbort(error)) throw this.timeoutError(open.requestId);
      if (error instanceof TypeError) {
        throw new VeilConnectionError(`the response from ${this.target} broke off before it was complete (request ${open.requestId ?? 'unknown'})`, {
          code: 'RESPONSE_INTERRUPTED',
          status: open.response.status,
          requestId: open.requestId,
          attempts: 1,
          cause: error,
        });
      }
      throw new VeilServerError(`the response from ${this.target} is not a valid result: ${errorMessage(error)}`, {
        code: 'INVALID_RESPONSE',
        status: open.response.status,
        requestId: open.requestId,
        cause: error,
      });
    }
  }

  private async fetchWithRetry(url: URL, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, init);
      } catch (error) {
        if (signal?.aborted === true || isAbort(error)) throw this.timeoutError(null, attempt);
        const code = systemCode(error);
        if (code === undefined || !RETRYABLE_CODES.has(code) || attempt >= MAX_ATTEMPTS) {
          const tries = attempt === 1 ? '' : ` after ${attempt} attempts`;
          throw new VeilConnectionError(`cannot reach the Veil server at ${this.target}${tries} (${code ?? errorMessage(error)})`, {
            code: 'CONNECTION_FAILED',
            attempts: attempt,
            cause: error,
          });
        }
        // Exponential back-off with jitter, so clients cut off together do not return together.
        const delay = BASE_DELAY_MS * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
        try {
          await sleep(delay, undefined, signal === undefined ? {} : { signal });
        } catch {
          throw this.timeoutError(null, attempt);
        }
      }
    }
  }

  private async errorFrom(response: Response, requestId: string | null, signal: AbortSignal | undefined): Promise<VeilClientError> {
    let code = `HTTP_${response.status}`;
    let message = `HTTP ${response.status} ${response.statusText}`.trim();
    try {
      const text = await response.text();
      const parsed = text.length <= MAX_ERROR_BODY ? (JSON.parse(text) as unknown) : undefined;
      const error = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
      if (typeof error === 'object' && error !== null) {
        const fields = error as { code?: unknown; message?: unknown };
        if (typeof fields.code === 'string') code = fields.code;
        if (typeof fields.message === 'string') message = fields.message;
      }
    } catch {
      // Not Veil's JSON error (a proxy's page, a cut-off body): the status alone decides the class.
      if (signal?.aborted === true) return this.timeoutError(requestId);
    }
    return errorForResponse(response.status, code, message, requestId);
  }

  private timeoutError(requestId: string | null, attempts = 1): VeilConnectionError {
    return new VeilConnectionError(`the call to ${this.target} did not complete within ${this.#options.timeoutMs ?? 0} ms`, {
      code: 'TIMEOUT',
      requestId,
      attempts,
    });
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * The operating system's (or undici's) error code behind a failed fetch. Node's fetch rejects with
 * `TypeError('fetch failed')` and puts the socket error in `cause`; with several addresses for a
 * host (localhost as ::1 and 127.0.0.1) the cause is an AggregateError of one error per address.
 */
function systemCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
