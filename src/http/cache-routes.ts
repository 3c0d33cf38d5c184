import type { VeilGateway } from '../gateway/index.ts';
import { optionalStringList, readJsonBody } from './request-context.ts';
import { sendJson, type Route } from './routing.ts';

/**
 * The columnar cache for administrators (docs/cache.md): each dataset's copy and a build's
 * progress, and rebuilding in the background (the answer comes at once; progress is polled).
 */
export function cacheRoutes(gateway: VeilGateway, logError: (error: unknown) => void): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/cache',
      handler: async (ctx) => {
        const datasets = ctx.url.searchParams.getAll('dataset');
        sendJson(ctx, 200, { datasets: await gateway.cache.status(ctx.scope, datasets) });
      },
    },
    {
      method: 'POST',
      path: '/v1/cache/rebuild',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const datasets = optionalStringList(body, 'datasets') ?? [];
        // Authorized and audited now; the builds go on after the answer, one at a time.
        const status = await gateway.cache.status(ctx.scope, datasets);
        gateway.cache.rebuild(ctx.scope, datasets).catch(logError);
        sendJson(ctx, 202, { datasets: status });
      },
    },
  ];
}
