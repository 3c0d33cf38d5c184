import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError, UnauthenticatedError } from '../errors/index.ts';
import type { Door } from '../audit/index.ts';
import type { AuthenticationMethod, Principal } from '../identity/index.ts';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What a handler knows about the request it serves. */
export interface RequestContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly startedAt: number;
  readonly clientApplication: string | null;
  readonly clientAddress: string | null;
  readonly door: Door;
  principal: Principal | undefined;
  /** How the principal was established (set with it). */
  authentication?: { readonly method: AuthenticationMethod; readonly via: string | null };
  /** Filled by handlers for the audit record. */
  audit: {
    statement: string | null;
    statementType: string;
    datasets: readonly string[];
    columns: readonly string[];
    policies: readonly string[];
    /** Sequence number once a durable record was begun (data requests). */
    seq?: number;
    rows?: number;
    bytes?: number;
  };
}

/** Maps the client header to the door recorded in the audit trail. */
export function doorOf(clientApplication: string | null): Door {
  const client = (clientApplication ?? '').toLowerCase();
  if (client.startsWith('python-veil')) return 'python';
  if (client.startsWith('veil-ts')) return 'ts';
  if (client.startsWith('veil-ui')) return 'ui';
  return 'http';
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

export async function readTextBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InvalidRequestError(`the request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function requirePrincipal(ctx: RequestContext): Principal {
  if (ctx.principal === undefined) throw new UnauthenticatedError();
  return ctx.principal;
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
  return value as string[];
}
