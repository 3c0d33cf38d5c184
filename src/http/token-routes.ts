import { InvalidRequestError } from '../errors/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import { optionalPositiveInteger, readJsonBody, stringField } from './request-context.ts';
import { sendJson, type Route } from './routing.ts';

/** API tokens for service accounts (who may manage which is decided by the gateway). */
export function tokenRoutes(gateway: VeilGateway): Route[] {
  const { admin } = gateway;
  return [
    {
      method: 'POST',
      path: '/v1/tokens',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        for (const key of Object.keys(body)) if (!['user', 'label', 'expires_in_days'].includes(key)) throw new InvalidRequestError(`unknown field "${key}"`);
        const user = stringField(body, 'user', false);
        const expiresInDays = optionalPositiveInteger(body, 'expires_in_days');
        const { token, info } = await admin.createApiToken(ctx.scope, {
          label: stringField(body, 'label', true),
          ...(user === undefined ? {} : { user }),
          ...(expiresInDays === undefined ? {} : { expiresInDays }),
        });
        sendJson(ctx, 201, { ...info, token, note: 'Store this token now: Veil keeps only its hash and cannot show it again.' });
      },
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      handler: async (ctx) => sendJson(ctx, 200, { tokens: await admin.listApiTokens(ctx.scope, ctx.url.searchParams.get('user') ?? undefined) }),
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/{id}',
      handler: async (ctx) => sendJson(ctx, 200, await admin.revokeApiToken(ctx.scope, ctx.params['id'] ?? '')),
    },
  ];
}
