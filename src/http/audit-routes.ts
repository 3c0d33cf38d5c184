import { computeInsights, parseInsightsOptions } from '../audit/index.ts';
import { AccessDeniedError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import { isAdmin } from './catalog-routes.ts';
import { sendJson, type Route } from './routing.ts';
import { requirePrincipal } from './request-context.ts';

/**
 * Groups that may read insights besides the admin groups. Insights aggregate everyone's records
 * outside the policy engine, so they are limited to those the built-in audit policies already let
 * read the whole trail (veil-audit-compliance) and to administrators.
 */
export const INSIGHTS_GROUPS: readonly string[] = ['compliance'];

export function mayReadInsights(runtime: VeilRuntime, principal: Principal): boolean {
  return isAdmin(runtime, principal) || principal.groups.some((g) => INSIGHTS_GROUPS.includes(g));
}

export function auditRoutes(runtime: VeilRuntime): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit/insights',
      handler: async (ctx) => {
        ctx.audit.statementType = 'audit';
        ctx.audit.statement = `audit insights${ctx.url.search.slice(0, 200)}`;
        const principal = requirePrincipal(ctx);
        // Authorization before validation: callers without access learn nothing about the parameters.
        if (!mayReadInsights(runtime, principal)) {
          throw new AccessDeniedError(`audit insights need membership in ${[...INSIGHTS_GROUPS, ...runtime.settings.adminGroups].join(', ')}`);
        }
        const { days, top } = parseInsightsOptions({ days: ctx.url.searchParams.get('days'), top: ctx.url.searchParams.get('top') });
        ctx.audit.statement = `audit insights (${days} days)`;
        sendJson(ctx, 200, await computeInsights(runtime, { days, top }));
      },
    },
  ];
}
