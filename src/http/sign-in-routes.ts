import type { VeilGateway } from '../gateway/index.ts';
import { readJsonBody, stringField } from './request-context.ts';
import { sendJson, type Route } from './routing.ts';

/** What a sign-in screen needs: how one may sign in here, and the demo's user picker. */
export function signInRoutes(gateway: VeilGateway): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sign-in/options',
      public: true,
      unaudited: true,
      handler: async (ctx) => sendJson(ctx, 200, gateway.signInOptions()),
    },
    {
      method: 'POST',
      path: '/v1/sign-in/demo',
      public: true,
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        sendJson(ctx, 200, await gateway.demoSignIn(ctx.scope, stringField(body, 'user', true)));
      },
    },
  ];
}

/** The origins of the configured token endpoints (validated https, or http on loopback, at startup). */
export function tokenEndpointOrigins(gateway: VeilGateway): string[] {
  return gateway.signInOptions().identity_providers.flatMap((p) => (p.token_endpoint === undefined ? [] : [new URL(p.token_endpoint).origin]));
}
