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
        sendJson(ctx, 200, gateway.demoSignIn(ctx.scope, stringField(body, 'user', true)));
      },
    },
  ];
}
