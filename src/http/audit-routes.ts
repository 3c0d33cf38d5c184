import { parseInsightsOptions } from '../audit/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import { sendJson, type Route } from './routing.ts';

export function auditRoutes(gateway: VeilGateway): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit/insights',
      handler: async (ctx) => {
        const params = ctx.url.searchParams;
        // The options are parsed only once the caller is known to be entitled (inside the gateway).
        sendJson(ctx, 200, await gateway.admin.insights(ctx.scope, () => parseInsightsOptions({ days: params.get('days'), top: params.get('top') })));
      },
    },
    {
      method: 'GET',
      path: '/v1/audit/verify',
      handler: async (ctx) => sendJson(ctx, 200, await gateway.admin.verifyAudit(ctx.scope)),
    },
  ];
}
