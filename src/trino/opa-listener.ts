import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AccessDeniedError, InvalidRequestError, isVeilError } from '../errors/index.ts';
import type { TrinoQuestion, TrinoResource, VeilGateway } from '../gateway/index.ts';
import type { Settled } from '../util/settled.ts';

/**
 * The Trino door: answers Trino's OPA access-control plugin (plugin/trino-opa, Trino 438+; batch
 * column masks 453+) at OPA's paths, so Trino's etc/access-control.properties points at Veil as
 * it would at OPA (docs/scale-out.md):
 *
 *   POST /v1/data/veil/allow         {"input":{context, action}} → {"result": true|false}
 *   POST /v1/data/veil/batch         Filter* with filterResources → {"result": [allowed indices]}
 *   POST /v1/data/veil/row_filters   GetRowFilters → {"result": [{"expression": …}]}
 *   POST /v1/data/veil/column_masks  GetColumnMask with filterResources → {"result": [{"index", "viewExpression"}]}
 *   POST /v1/data/veil/column_mask   GetColumnMask of one column (Trino before 453) → {"result": {"expression"}} or {}
 *
 * A thin adapter: it parses the plugin's JSON and writes the answer; the gateway decides and audits
 * every answer (door trino, Trino's query id in the statement). The plugin sends no credentials:
 * trust is by network position (loopback unless configured otherwise) or, optionally, by Trino's
 * client certificate (mutual TLS). An error is
 * a non-2xx answer, which the plugin turns into a failed query, never into "allowed".
 */
export interface TrinoListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

const PATHS = {
  '/v1/data/veil/allow': 'allow',
  '/v1/data/veil/batch': 'batch',
  '/v1/data/veil/row_filters': 'row_filters',
  '/v1/data/veil/column_masks': 'column_masks',
  '/v1/data/veil/column_mask': 'column_mask',
} as const;

/** Trino's requests are small (a table's columns at most); larger bodies are refused. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface TrinoListenerOptions {
  readonly port: number;
  readonly host: string;
  /**
   * HTTPS with these PEM files; with `clientCa`, only clients holding a certificate that CA signed
   * may connect (mutual TLS: Trino's opa.http-client.key-store-path), and the rest are refused
   * during the handshake, before any request is read.
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
}

export async function startTrinoListener(gateway: VeilGateway, options: TrinoListenerOptions): Promise<TrinoListener> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void answer(gateway, req, res);
  };
  const tls = options.tls;
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : createTlsServer(
          {
            cert: readFileSync(tls.cert),
            key: readFileSync(tls.key),
            ...(tls.clientCa === undefined ? {} : { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: true }),
          },
          handler,
        );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(gateway: VeilGateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const endpoint = PATHS[(req.url ?? '').split('?')[0] as keyof typeof PATHS];
  if (req.method !== 'POST' || endpoint === undefined) {
    send(res, 404, { error: 'not found: POST /v1/data/veil/{allow,batch,row_filters,column_masks,column_mask}' });
    return;
  }
  let question: TrinoQuestion;
  try {
    question = parseQuestion(await readBody(req));
  } catch (error) {
    send(res, 400, { error: error instanceof Error ? error.message : 'invalid request' });
    return;
  }
  const scope = gateway.open({ door: 'trino', clientApplication: `trino ${question.trinoVersion}`, clientAddress: req.socket.remoteAddress ?? null });
  try {
    let result: unknown;
    let denied = false;
    switch (endpoint) {
      case 'allow':
        result = await gateway.trino.allow(scope, question);
        denied = result === false;
        break;
      case 'batch': {
        const allowed = await gateway.trino.batch(scope, question);
        scope.rows = allowed.length;
        denied = allowed.length === 0 && (question.filterResources ?? []).length > 0;
        result = allowed;
        break;
      }
      case 'row_filters': {
        const filters = await gateway.trino.rowFilters(scope, question);
        denied = filters.some((f) => f.expression === 'FALSE');
        result = filters;
        break;
      }
      case 'column_masks':
        result = await gateway.trino.columnMasks(scope, question);
        break;
      case 'column_mask': {
        // The one-column form: the same answer as a batch of one ({} is "no mask" there).
        // A question without a column is refused there (an error, never "no mask").
        const masks = await gateway.trino.columnMasks(scope, { ...question, filterResources: [question.resource ?? {}] });
        const mask = masks[0]?.viewExpression;
        await gateway.finish(scope);
        send(res, 200, mask === undefined ? {} : { result: mask });
        return;
      }
    }
    // A denial is recorded as one; Trino still gets its ordinary answer (false, no indices, FALSE).
    await gateway.finish(scope, denied ? new AccessDeniedError(`${question.operation} denied to Trino user ${question.user}`) : undefined);
    send(res, 200, { result });
  } catch (error) {
    const code = await gateway.finish(scope, error);
    // Veil's own errors say what was refused; anything else is not described (it could name server paths).
    send(res, 500, { error: code ?? 'INTERNAL', message: isVeilError(error) ? error.message : 'internal error' });
  }
}

function send<T>(res: ServerResponse, status: number, body: T & Settled<T>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) throw new InvalidRequestError(`request body larger than ${MAX_BODY_BYTES} bytes`);
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch {
    throw new InvalidRequestError('request body is not JSON');
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InvalidRequestError(`${what} must be a string`);
  return value;
}

/** The plugin's request (OpaQueryInput: context and action), checked field by field. */
export function parseQuestion(body: unknown): TrinoQuestion {
  const input = isObject(body) ? body['input'] : undefined;
  if (!isObject(input)) throw new InvalidRequestError('expected {"input": {"context": …, "action": …}}');
  const context = input['context'];
  const action = input['action'];
  if (!isObject(context) || !isObject(action)) throw new InvalidRequestError('input needs context and action');
  const identity = context['identity'];
  if (!isObject(identity)) throw new InvalidRequestError('context.identity is required');
  const groups = identity['groups'] ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) throw new InvalidRequestError('context.identity.groups must be a list of strings');
  const stack = context['softwareStack'];
  const queryId = context['queryId'];
  const resource = action['resource'];
  const filterResources = action['filterResources'];
  if (filterResources !== undefined && !Array.isArray(filterResources)) throw new InvalidRequestError('action.filterResources must be a list');
  return {
    user: text(identity['user'], 'context.identity.user'),
    groups,
    trinoVersion: isObject(stack) && typeof stack['trinoVersion'] === 'string' ? stack['trinoVersion'] : 'unknown',
    queryId: typeof queryId === 'string' ? queryId : null,
    operation: text(action['operation'], 'action.operation'),
    ...(resource === undefined || resource === null ? {} : { resource: parseResource(resource) }),
    ...(filterResources === undefined ? {} : { filterResources: filterResources.map(parseResource) }),
  };
}

function parseResource(value: unknown): TrinoResource {
  if (!isObject(value)) throw new InvalidRequestError('a resource must be an object');
  const out: { -readonly [K in keyof TrinoResource]: TrinoResource[K] } = {};
  const catalog = value['catalog'];
  if (isObject(catalog)) out.catalog = { name: text(catalog['name'], 'catalog.name') };
  const schema = value['schema'];
  if (isObject(schema)) out.schema = { catalogName: text(schema['catalogName'], 'schema.catalogName'), schemaName: text(schema['schemaName'], 'schema.schemaName') };
  const table = value['table'];
  if (isObject(table)) {
    const columns = table['columns'];
    if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))) throw new InvalidRequestError('table.columns must be a list of strings');
    out.table = {
      catalogName: text(table['catalogName'], 'table.catalogName'),
      schemaName: text(table['schemaName'], 'table.schemaName'),
      tableName: text(table['tableName'], 'table.tableName'),
      ...(columns === undefined ? {} : { columns }),
    };
  }
  const column = value['column'];
  if (isObject(column)) {
    out.column = {
      catalogName: text(column['catalogName'], 'column.catalogName'),
      schemaName: text(column['schemaName'], 'column.schemaName'),
      tableName: text(column['tableName'], 'column.tableName'),
      columnName: text(column['columnName'], 'column.columnName'),
      columnType: text(column['columnType'], 'column.columnType'),
    };
  }
  const user = value['user'];
  if (isObject(user)) out.user = { user: text(user['user'], 'user.user') };
  return out;
}
