import { InvalidRequestError } from '../errors/index.ts';
import { validateUser } from '../identity/index.ts';
import { exportPolicyDocument, parsePolicyDocuments, policyToAuthored, validatePolicy, type PolicyDefinition } from '../policy/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import { isAdmin, requireAdmin } from './catalog-routes.ts';
import { sendJson, type Route } from './routing.ts';
import { readJsonBody, readTextBody, requirePrincipal } from './request-context.ts';

export function adminRoutes(runtime: VeilRuntime): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/me',
      handler: async (ctx) => {
        ctx.audit.statementType = 'whoami';
        const principal = requirePrincipal(ctx);
        sendJson(ctx, 200, {
          user: principal.user,
          groups: principal.groups,
          attributes: principal.attributes,
          authenticated_by: ctx.authentication ?? null,
          admin: isAdmin(runtime, principal),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/users',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        ctx.audit.statement = 'list users';
        requireAdmin(runtime, ctx);
        sendJson(ctx, 200, { users: runtime.users.list() });
      },
    },
    {
      method: 'PUT',
      path: '/v1/users/{user}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const name = ctx.params['user'] ?? '';
        ctx.audit.statement = `put user ${name}`;
        requireAdmin(runtime, ctx);
        const body = await readJsonBody(ctx.req);
        sendJson(ctx, 200, runtime.users.put(validateUser({ ...body, name })));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/users/{user}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const name = ctx.params['user'] ?? '';
        ctx.audit.statement = `delete user ${name}`;
        requireAdmin(runtime, ctx);
        runtime.users.delete(name);
        sendJson(ctx, 200, { deleted: name });
      },
    },
    {
      method: 'GET',
      path: '/v1/policies',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        ctx.audit.statement = 'list policies';
        requireAdmin(runtime, ctx);
        const policies = runtime.policies.list();
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
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const text = await readTextBody(ctx.req);
        ctx.audit.statement = `apply policies (${text.length} characters)`;
        // JSON is YAML, so one parser serves both content types.
        const policies: PolicyDefinition[] = parsePolicyDocuments(text);
        if (policies.length === 0) throw new InvalidRequestError('no policies in the request body');
        const prune = ctx.url.searchParams.get('prune') === 'true';
        sendJson(ctx, 200, runtime.policies.apply(policies.map((p) => validatePolicy(policyToAuthored(p))), { prune }));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/policies/{policy}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const name = ctx.params['policy'] ?? '';
        ctx.audit.statement = `delete policy ${name}`;
        requireAdmin(runtime, ctx);
        runtime.policies.delete(name);
        sendJson(ctx, 200, { deleted: name });
      },
    },
  ];
}
