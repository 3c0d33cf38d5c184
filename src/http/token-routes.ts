import { AccessDeniedError, InvalidRequestError, NotFoundError } from '../errors/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import { isAdmin } from './catalog-routes.ts';
import { optionalPositiveInteger, readJsonBody, requirePrincipal, stringField, type RequestContext } from './request-context.ts';
import { sendJson, type Route } from './routing.ts';

/**
 * API tokens for service accounts. Administrators manage everyone's tokens; other users manage
 * their own. A request authenticated by an API token cannot mint more tokens, so revoking a
 * leaked token is enough to cut the access it gave.
 */
export function tokenRoutes(runtime: VeilRuntime): Route[] {
  /** A token the caller may not manage is answered like one that does not exist. */
  const manageable = (ctx: RequestContext, id: string) => {
    const principal = requirePrincipal(ctx);
    const info = runtime.apiTokens.find(id);
    if (info === undefined || (info.user !== principal.user && !isAdmin(runtime, principal))) throw new NotFoundError(`API token ${id}`);
    return info;
  };

  return [
    {
      method: 'POST',
      path: '/v1/tokens',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const principal = requirePrincipal(ctx);
        const body = await readJsonBody(ctx.req);
        for (const key of Object.keys(body)) if (!['user', 'label', 'expires_in_days'].includes(key)) throw new InvalidRequestError(`unknown field "${key}"`);
        const user = stringField(body, 'user', false) ?? principal.user;
        const label = stringField(body, 'label', true);
        ctx.audit.statement = `create API token "${label}" for ${user}`;
        if (ctx.authentication?.method === 'api_token') throw new AccessDeniedError('API tokens cannot create API tokens; sign in with your own identity');
        if (user !== principal.user && !isAdmin(runtime, principal)) throw new AccessDeniedError('only administrators create API tokens for other users');
        // Tokens belong to users Veil stores (service accounts are stored users with their groups).
        runtime.users.get(user);
        const expiresInDays = optionalPositiveInteger(body, 'expires_in_days');
        const { token, info } = runtime.apiTokens.create({ user, label, createdBy: principal.user, ...(expiresInDays === undefined ? {} : { expiresInDays }) });
        sendJson(ctx, 201, { ...info, token, note: 'Store this token now: Veil keeps only its hash and cannot show it again.' });
      },
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        ctx.audit.statement = 'list API tokens';
        const principal = requirePrincipal(ctx);
        const requested = ctx.url.searchParams.get('user') ?? undefined;
        const admin = isAdmin(runtime, principal);
        if (requested !== undefined && requested !== principal.user && !admin) throw new AccessDeniedError('only administrators list other users\' tokens');
        sendJson(ctx, 200, { tokens: runtime.apiTokens.list(admin ? requested : principal.user) });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/{id}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const id = ctx.params['id'] ?? '';
        ctx.audit.statement = `revoke API token ${id}`;
        manageable(ctx, id);
        sendJson(ctx, 200, runtime.apiTokens.revoke(id));
      },
    },
  ];
}
