import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientDisconnectedError, InvalidRequestError, RequestTimeoutError } from '../errors/index.ts';
import type { RequestScope } from '../gateway/index.ts';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What a handler knows about the request it serves: the HTTP exchange, and its gateway scope. */
export interface RequestContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  /** The request in the gateway: who asks, and what its audit record will say. */
  readonly scope: RequestScope;
}

export function clientApplicationOf(req: IncomingMessage): string | null {
  const header = req.headers['x-veil-client'] ?? req.headers['user-agent'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value === '' ? null : value.slice(0, 256);
}

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readTextBody(req);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** When each request's body must have arrived (set by the server for every request it accepts). */
const bodyDeadlines = new WeakMap<IncomingMessage, { readonly at: number; readonly timeoutMs: number }>();

export function setRequestDeadline(req: IncomingMessage, at: number, timeoutMs: number): void {
  bodyDeadlines.set(req, { at, timeoutMs });
}

/**
 * The request body, whole, within the request's deadline: a client that trickles its body gets
 * 408 and its connection closed instead of holding it forever. Stops reading at MAX_BODY_BYTES.
 */
export function readTextBody(req: IncomingMessage): Promise<string> {
  const deadline = bodyDeadlines.get(req);
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error === undefined) resolve(Buffer.concat(chunks).toString('utf8'));
      else {
        // Nothing more is read from this connection: it closes after the error response.
        req.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) done(new InvalidRequestError(`the request body exceeds ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = (): void => done(undefined);
    const onError = (): void => done(new ClientDisconnectedError());
    const onClose = (): void => {
      if (!req.complete) done(new ClientDisconnectedError());
    };
    const timer =
      deadline === undefined ? undefined : setTimeout(() => done(new RequestTimeoutError(deadline.timeoutMs)), Math.max(0, deadline.at - Date.now()));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    if (req.complete && req.readableEnded) done(undefined);
  });
}

export function stringField(body: Record<string, unknown>, key: string, required: true): string;
export function stringField(body: Record<string, unknown>, key: string, required: false): string | undefined;
export function stringField(body: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (required) throw new InvalidRequestError(`"${key}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new InvalidRequestError(`"${key}" must be a string`);
  return value;
}

export function optionalPositiveInteger(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidRequestError(`"${key}" must be a non-negative integer`);
  return value;
}

export function optionalStringList(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new InvalidRequestError(`"${key}" must be a list of strings`);
  return value;
}
