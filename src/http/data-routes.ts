import { InvalidRequestError } from '../errors/index.ts';
import type { ServerAddress, VeilGateway } from '../gateway/index.ts';
import type { PreparedQuery } from '../query/index.ts';
import { sendJson, type Route } from './routing.ts';
import { optionalPositiveInteger, optionalStringList, readJsonBody, stringField, type RequestContext } from './request-context.ts';
import { deliverResult, negotiateFormat } from './result-writers.ts';

/** POST /v1/query, /v1/scan, /v1/explain: the data doors of the HTTP API. */
/** Where the PostgreSQL door listens, for snippets (host omitted: the host the caller used). */
export interface PgAddress {
  readonly host?: string;
  readonly port: number;
}

export function dataRoutes(gateway: VeilGateway, pgAddress?: PgAddress): Route[] {
  const { settings } = gateway;
  const deliver = async (ctx: RequestContext, prepared: PreparedQuery, requestedMaxRows: number | undefined): Promise<void> => {
    const format = negotiateFormat(ctx.req.headers.accept);
    const maxRows = Math.min(requestedMaxRows ?? settings.maxResultRows, settings.maxResultRows);
    await gateway.data.startDelivery(ctx.scope, prepared);
    const outcome = await deliverResult(ctx.res, format, prepared, gateway.data.results, { maxRows, rowLimitRequested: requestedMaxRows !== undefined && requestedMaxRows < settings.maxResultRows, maxBytes: settings.maxResultBytes, includeSchema: wantsResultSchema(ctx) }, settings.spoolDirectory, {
      'X-Request-Id': ctx.requestId,
      'X-Veil-Row-Limit': String(maxRows),
      'Cache-Control': 'no-store',
    });
    gateway.data.delivered(ctx.scope, outcome.rows, outcome.bytes);
  };

  return [
    {
      method: 'POST',
      path: '/v1/query',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const sql = stringField(body, 'sql', true);
        const maxRows = optionalPositiveInteger(body, 'max_rows');
        await deliver(ctx, await gateway.data.query(ctx.scope, sql), maxRows);
      },
    },
    {
      method: 'POST',
      path: '/v1/scan',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const dataset = stringField(body, 'dataset', true);
        const columns = optionalStringList(body, 'columns');
        const maxRows = optionalPositiveInteger(body, 'max_rows');
        await deliver(ctx, await gateway.data.scan(ctx.scope, dataset, columns), maxRows);
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/preview',
      handler: async (ctx) => {
        const limitText = ctx.url.searchParams.get('limit');
        const limit = limitText === null ? DEFAULT_PREVIEW_ROWS : Number(limitText);
        await deliver(ctx, await gateway.data.preview(ctx.scope, ctx.params['name'] ?? '', limit), limit);
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/access',
      handler: async (ctx) => {
        sendJson(ctx, 200, await gateway.data.accessSnippets(ctx.scope, ctx.params['name'] ?? '', serverAddress(ctx, settings.publicUrl, pgAddress)));
      },
    },
    {
      method: 'POST',
      path: '/v1/explain',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        sendJson(ctx, 200, await gateway.data.explain(ctx.scope, stringField(body, 'sql', true)));
      },
    },
  ];
}

function wantsResultSchema(ctx: RequestContext): boolean {
  const value = ctx.req.headers['x-veil-result-schema'];
  return (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase() === 'include';
}

const DEFAULT_PREVIEW_ROWS = 20;

/**
 * Where clients reach this server, for ready-to-paste snippets: the configured public URL (behind
 * a proxy or TLS terminator), else the Host the caller used when it is a valid host name or IP
 * literal with a valid port, else this socket's own address. Nothing a client sends reaches a
 * snippet unvalidated: they are pasted into shells and notebooks.
 */
function serverAddress(ctx: RequestContext, publicUrl: string, pg: PgAddress | undefined): ServerAddress {
  const withPg = (address: { host: string; port: number; url: string }): ServerAddress => (pg === undefined ? address : { ...address, pg: { host: pg.host ?? address.host, port: pg.port } });
  if (publicUrl !== '') {
    const url = new URL(publicUrl);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return withPg({ host: url.hostname, port, url: url.origin });
  }
  const localPort = ctx.req.socket.localPort ?? 7070;
  const host = (ctx.req.headers.host ?? '').trim();
  const match = /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(host);
  const port = match?.[2] === undefined ? (match === null ? localPort : 80) : Number(match[2]);
  if (match === null || match[1] === undefined || port < 1 || port > 65535) return withPg({ host: '127.0.0.1', port: localPort, url: `http://127.0.0.1:${localPort}` });
  return withPg({ host: match[1], port, url: `http://${match[1]}${match[2] === undefined ? '' : `:${port}`}` });
}

export function ensureNoBody(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw new InvalidRequestError(`unknown field "${key}"`);
}
