import { InvalidRequestError } from '../errors/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import { readTextBody } from './request-context.ts';
import { sendJson, type Route } from './routing.ts';

/** Policy history, the preview of a policy change, and "view as": HTTP over the gateway's governance. */
export function governanceRoutes(gateway: VeilGateway): Route[] {
  const { governance } = gateway;
  return [
    {
      method: 'GET',
      path: '/v1/policies/history',
      handler: async (ctx) => {
        const query = ctx.url.searchParams;
        const policy = query.get('policy') ?? undefined;
        const changes = await governance.history(ctx.scope, {
          ...(policy === undefined || policy === '' ? {} : { policy }),
          ...optionalInteger(query.get('limit'), 'limit', 1, 1000, (limit) => ({ limit })),
          ...optionalInteger(query.get('before'), 'before', 1, Number.MAX_SAFE_INTEGER, (before) => ({ before })),
        });
        sendJson(ctx, 200, {
          changes: changes.map((c) => ({ id: c.id, policy: c.policy, change: c.change, changed_by: c.changedBy, changed_at: c.changedAt, before: c.before, after: c.after })),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/policies/preview',
      handler: async (ctx) => {
        // Authorization before reading the body: a refused caller learns nothing about its validation.
        ctx.scope.describe('admin', 'preview policy change');
        gateway.authorization.requireAdmin(ctx.scope);
        const text = await readTextBody(ctx.req);
        sendJson(ctx, 200, await governance.previewChange(ctx.scope, text, { prune: ctx.url.searchParams.get('prune') === 'true' }));
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/view-as',
      handler: async (ctx) => {
        const user = ctx.url.searchParams.get('user');
        if (user === null || user === '') throw new InvalidRequestError('name the user to view the dataset as (?user=…)');
        const view = await governance.viewAs(ctx.scope, ctx.params['name'] ?? '', user);
        sendJson(ctx, 200, {
          user: view.user,
          dataset: view.dataset,
          visible: view.visible,
          readable: view.readable,
          denial: view.denial,
          explanation: view.explanation,
          preview: view.preview,
          preview_withheld: view.previewWithheld,
        });
      },
    },
  ];
}

function optionalInteger<T>(text: string | null, name: string, min: number, max: number, wrap: (n: number) => T): T | Record<string, never> {
  if (text === null || text === '') return {};
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidRequestError(`${name} must be a whole number from ${min} to ${max}`);
  return wrap(n);
}
