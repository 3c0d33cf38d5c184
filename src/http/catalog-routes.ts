import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import { InvalidRequestError, isVeilError } from '../errors/index.ts';
import { errorCodeOf, type VeilGateway } from '../gateway/index.ts';
import { MAX_SEARCH_RESULTS } from '../query/index.ts';
import { sendJson, type Route } from './routing.ts';
import { optionalStringList, readJsonBody, stringField, type RequestContext } from './request-context.ts';

/** Listing, search, description and management of datasets: HTTP over the gateway's catalog operations. */
export function catalogRoutes(gateway: VeilGateway): Route[] {
  const { catalog } = gateway;
  const name = (ctx: RequestContext): string => ctx.params['name'] ?? '';
  return [
    {
      method: 'GET',
      path: '/v1/datasets',
      handler: async (ctx) => {
        const database = ctx.url.searchParams.get('database') ?? undefined;
        const datasets = await catalog.list(ctx.scope, {
          ...(database === undefined ? {} : { database }),
          includeSystem: ctx.url.searchParams.get('include_system') === 'true',
          describe: `list datasets${ctx.url.search}`,
        });
        sendJson(ctx, 200, { datasets });
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/classification',
      handler: async (ctx) => sendJson(ctx, 200, await catalog.classification(ctx.scope, name(ctx))),
    },
    {
      method: 'POST',
      path: '/v1/datasets/{name}/classification',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        sendJson(ctx, 200, await catalog.decideClassification(ctx.scope, name(ctx), { accept: decisions(body, 'accept'), reject: decisions(body, 'reject') }));
      },
    },
    {
      method: 'POST',
      path: '/v1/catalog/crawl',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const owner = stringField(body, 'owner', false);
        const prefix = stringField(body, 'prefix', true);
        const options = { database: stringField(body, 'database', true), ...(owner === undefined ? {} : { owner }) };
        if (!acceptsNdjson(ctx.req)) return sendJson(ctx, 200, await catalog.crawl(ctx.scope, prefix, options));
        await streamCrawl(ctx, (onProgress) => catalog.crawl(ctx.scope, prefix, { ...options, onProgress }));
      },
    },
    {
      method: 'GET',
      path: '/v1/search',
      handler: async (ctx) => {
        const params = ctx.url.searchParams;
        const limitText = params.get('limit');
        const limit = limitText === null ? undefined : Number(limitText);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_RESULTS)) throw new InvalidRequestError(`limit must be a whole number from 1 to ${MAX_SEARCH_RESULTS}`);
        const optional = (key: string): Record<string, string> => {
          const value = params.get(key);
          return value === null || value === '' ? {} : { [key]: value };
        };
        const results = await catalog.search(ctx.scope, {
          query: params.get('q') ?? '',
          ...optional('database'),
          ...optional('tag'),
          ...optional('owner'),
          ...optional('certification'),
          ...(limit === undefined ? {} : { limit }),
          includeSystem: params.get('include_system') === 'true',
        });
        sendJson(ctx, 200, { results });
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => sendJson(ctx, 200, await catalog.describeDataset(ctx.scope, name(ctx))),
    },
    {
      method: 'POST',
      path: '/v1/datasets',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const format = stringField(body, 'format', false);
        if (format !== undefined && !['csv', 'parquet', 'json'].includes(format)) throw new InvalidRequestError('format must be csv, parquet or json');
        const csv = (body['csv'] ?? {}) as Record<string, unknown>;
        const description = stringField(body, 'description', false);
        const owner = stringField(body, 'owner', false);
        const tags = optionalStringList(body, 'tags');
        const registered = await catalog.register(ctx.scope, {
          name: stringField(body, 'name', true),
          location: stringField(body, 'location', true),
          ...(format === undefined ? {} : { format: format as 'csv' | 'parquet' | 'json' }),
          csv: {
            ...(typeof csv['header'] === 'boolean' ? { header: csv['header'] } : {}),
            ...(typeof csv['delimiter'] === 'string' ? { delimiter: csv['delimiter'] } : {}),
            ...(typeof csv['null_string'] === 'string' ? { nullString: csv['null_string'] } : {}),
          },
          ...(description === undefined ? {} : { description }),
          ...(owner === undefined ? {} : { owner }),
          ...(tags === undefined ? {} : { tags }),
          ...(isRecord(body['column_tags']) ? { columnTags: body['column_tags'] as Record<string, string[]> } : {}),
          ...(isRecord(body['column_types']) ? { columnTypes: body['column_types'] as Record<string, string> } : {}),
          ...(isRecord(body['column_descriptions']) ? { columnDescriptions: body['column_descriptions'] as Record<string, string> } : {}),
        });
        sendJson(ctx, 201, registered);
      },
    },
    {
      method: 'PATCH',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const description = stringField(body, 'description', false);
        const owner = stringField(body, 'owner', false);
        const steward = stringField(body, 'steward', false);
        const certification = isRecord(body['certification']) ? body['certification'] : undefined;
        if (body['certification'] !== undefined && certification === undefined) throw new InvalidRequestError('"certification" must be an object {"status", "note"?}');
        const status = certification === undefined ? undefined : stringField(certification, 'status', true);
        const note = certification === undefined ? undefined : stringField(certification, 'note', false);
        const by = ctx.scope.principal?.user ?? '';
        sendJson(
          ctx,
          200,
          await catalog.update(ctx.scope, name(ctx), {
            ...(description === undefined ? {} : { description }),
            ...(owner === undefined ? {} : { owner }),
            ...(steward === undefined ? {} : { steward }),
            ...(status === undefined ? {} : { certification: { status, by, ...(note === undefined ? {} : { note }) } }),
            ...(isRecord(body['column_descriptions']) ? { columnDescriptions: body['column_descriptions'] as Record<string, string> } : {}),
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/v1/datasets/{name}/tags',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const add = optionalStringList(body, 'add');
        const remove = optionalStringList(body, 'remove');
        sendJson(
          ctx,
          200,
          await catalog.tag(ctx.scope, name(ctx), {
            ...(add === undefined ? {} : { add }),
            ...(remove === undefined ? {} : { remove }),
            ...(isRecord(body['columns']) ? { columns: body['columns'] as Record<string, { add?: string[]; remove?: string[] }> } : {}),
          }),
        );
      },
    },
    {
      method: 'DELETE',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => sendJson(ctx, 200, { dropped: await catalog.drop(ctx.scope, name(ctx)) }),
    },
  ];
}

function decisions(body: Record<string, unknown>, key: string): { column: string; tag: string }[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((d) => isRecord(d) && typeof d['column'] === 'string' && typeof d['tag'] === 'string')) {
    throw new InvalidRequestError(`"${key}" must be a list of {"column", "tag"}`);
  }
  return value.map((d) => ({ column: String((d as Record<string, unknown>)['column']), tag: String((d as Record<string, unknown>)['tag']) }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NDJSON = 'application/x-ndjson';

/** One progress line of a streamed crawl. */
interface CrawlProgressLine {
  readonly done: number;
  readonly total: number;
  readonly location: string;
  readonly phase: string;
}

/** Whether the client asked for NDJSON among the media ranges it accepts (parameters such as q ignored). */
function acceptsNdjson(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((range) => range.split(';')[0]?.trim().toLowerCase() === NDJSON);
}

/**
 * A crawl answered as NDJSON: `{"progress":…}` lines as it goes, then `{"report":…}`. The status
 * line waits for the first line, so a refusal or a bad prefix (thrown before any progress) still
 * answers with its own status and JSON error. A failure after that can only be told in the stream:
 * a last `{"error":…}` line ends the response, and once it has left the error is rethrown, so the
 * server records the audit decision and logs an internal error as for any request (it then closes
 * the connection, which no longer matters to the finished response).
 */
async function streamCrawl(ctx: RequestContext, crawl: (onProgress: (progress: CrawlProgressLine) => void) => Promise<unknown>): Promise<void> {
  const lines = ndjsonLines(ctx);
  try {
    const report = await crawl(({ done, total, location, phase }) => lines.write({ progress: { done, total, location, phase } }));
    await lines.end({ report });
  } catch (error) {
    if (!ctx.res.headersSent) throw error;
    const message = isVeilError(error) ? error.message : `internal error (request ${ctx.requestId})`;
    await lines.end({ error: { code: errorCodeOf(error), message } });
    throw error;
  }
}

/** Writes JSON values one per line, sending the headers with the first; counts the bytes for the audit record. */
function ndjsonLines(ctx: RequestContext): { write(value: unknown): void; end(last: unknown): Promise<void> } {
  const write = (value: unknown): void => {
    if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': NDJSON, 'X-Request-Id': ctx.requestId, 'Cache-Control': 'no-store' });
    const line = `${JSON.stringify(value)}\n`;
    ctx.scope.bytes = (ctx.scope.bytes ?? 0) + Buffer.byteLength(line);
    // Lines are small and bounded by the crawl's file limit: buffered when the client reads slowly.
    ctx.res.write(line);
  };
  return {
    write,
    end: async (last) => {
      write(last);
      ctx.res.end();
      // Resolved once the last line has been handed to the socket (or the client has gone).
      await finished(ctx.res).catch(() => undefined);
    },
  };
}
