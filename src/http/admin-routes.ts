import { InvalidRequestError } from '../errors/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import { exportPolicyDocument, parsePolicyDocuments, policyToAuthored } from '../policy/index.ts';
import { sendJson, type Route } from './routing.ts';
import { readJsonBody, readTextBody } from './request-context.ts';

/** Who am I, users and policies: HTTP over the gateway's administration. */
export function adminRoutes(gateway: VeilGateway): Route[] {
  const { admin } = gateway;
  return [
    { method: 'GET', path: '/v1/me', handler: async (ctx) => sendJson(ctx, 200, admin.whoami(ctx.scope)) },
    { method: 'GET', path: '/v1/users', handler: async (ctx) => sendJson(ctx, 200, { users: await admin.listUsers(ctx.scope) }) },
    {
      method: 'PUT',
      path: '/v1/users/{user}',
      handler: async (ctx) => {
        const name = ctx.params['user'] ?? '';
        // Authorization before reading the body: a refused caller learns nothing about its validation.
        ctx.scope.describe('admin', `put user ${name}`);
        gateway.authorization.requireAdmin(ctx.scope);
        sendJson(ctx, 200, await admin.putUser(ctx.scope, name, await readJsonBody(ctx.req)));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/users/{user}',
      handler: async (ctx) => {
        const name = ctx.params['user'] ?? '';
        await admin.deleteUser(ctx.scope, name);
        sendJson(ctx, 200, { deleted: name });
      },
    },
    {
      method: 'GET',
      path: '/v1/policies',
      handler: async (ctx) => {
        const policies = await admin.listPolicies(ctx.scope);
        if ((ctx.req.headers.accept ?? '').includes('yaml')) {
          const text = exportPolicyDocument(policies);
          ctx.res.writeHead(200, { 'Content-Type': 'application/yaml; charset=utf-8', 'X-Request-Id': ctx.requestId });
          ctx.res.end(text);
          return;
        }
        sendJson(ctx, 200, { policies: policies.map((p) => ({ ...policyToAuthored(p), created_at: p.createdAt, updated_at: p.updatedAt })) });
      },
    },
    {
      method: 'POST',
      path: '/v1/policies',
      handler: async (ctx) => {
        ctx.scope.describe('admin', 'apply policies');
        gateway.authorization.requireAdmin(ctx.scope);
        const text = await readTextBody(ctx.req);
        // JSON is YAML, so one parser serves both content types.
        const policies = parsePolicyDocuments(text);
        if (policies.length === 0) throw new InvalidRequestError('no policies in the request body');
        const prune = ctx.url.searchParams.get('prune') === 'true';
        sendJson(ctx, 200, await admin.applyPolicies(ctx.scope, policies, { prune, describe: `apply policies (${text.length} characters)` }));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/policies/{policy}',
      handler: async (ctx) => {
        const name = ctx.params['policy'] ?? '';
        await admin.deletePolicy(ctx.scope, name);
        sendJson(ctx, 200, { deleted: name });
      },
    },
  ];
}
