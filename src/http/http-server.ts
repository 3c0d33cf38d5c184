import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isVeilError, TooManyRequestsError } from '../errors/index.ts';
import { errorCodeOf, type VeilGateway } from '../gateway/index.ts';
import { adminRoutes } from './admin-routes.ts';
import { cacheRoutes } from './cache-routes.ts';
import { governanceRoutes } from './governance-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { signInRoutes, tokenEndpointOrigins } from './sign-in-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { dataRoutes, type PgAddress } from './data-routes.ts';
import { HTTP_STATUS } from './http-status.ts';
import { openApiDocument } from './openapi.ts';
import { clientApplicationOf, setRequestDeadline, type RequestContext } from './request-context.ts';
import { Router, sendJson, type Route } from './routing.ts';
import { serveUi, uiSecurityHeaders } from './static-assets.ts';

export interface HttpServerOptions {
  /** Where internal errors are reported with their request id (never to clients). */
  readonly logError?: (requestId: string, error: unknown) => void;
  /** The PostgreSQL door's address, for access snippets (when it listens). */
  readonly pg?: PgAddress;
}

/**
 * The HTTP door: a thin adapter over the gateway. Every request gets a gateway scope; /v1 requests
 * are authenticated by their bearer token alone and leave exactly one audit record (written by the
 * gateway), whatever their outcome.
 */
export function createHttpServer(gateway: VeilGateway, options: HttpServerOptions = {}): Server {
  const logError = options.logError ?? ((id, error) => console.error(`[veil] request ${id} failed:`, error));
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', public: true, unaudited: true, handler: async (ctx) => sendJson(ctx, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/openapi.json',
      public: true,
      unaudited: true,
      handler: async (ctx) => sendJson(ctx, 200, openApiDocument()),
    },
    ...dataRoutes(gateway, options.pg),
    ...catalogRoutes(gateway),
    ...adminRoutes(gateway),
    ...governanceRoutes(gateway),
    ...cacheRoutes(gateway, (error) => logError('cache-rebuild', error)),
    ...tokenRoutes(gateway),
    ...auditRoutes(gateway),
    ...signInRoutes(gateway),
  ];
  const router = new Router(routes);
  // Browser sign-in posts the authorization code to the providers' token endpoints: the UI's CSP
  // lets it connect to exactly those origins, and to nothing else.
  const ui = { securityHeaders: uiSecurityHeaders(tokenEndpointOrigins(gateway)) };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The server names the door; what the client says of itself is only its application.
    const scope = gateway.open({ door: 'http', clientApplication: clientApplicationOf(req), clientAddress: req.socket.remoteAddress ?? null });
    setRequestDeadline(req, scope.startedAt + gateway.settings.requestTimeoutMs, gateway.settings.requestTimeoutMs);
    const url = new URL(req.url ?? '/', 'http://veil.invalid');
    // The web UI: its pages and assets are public files; everything it shows comes from /v1, with
    // the viewer's token, under the same rules as any other client.
    if (!url.pathname.startsWith('/v1/') && url.pathname !== '/v1' && url.pathname !== '/healthz' && url.pathname !== '/openapi.json' && serveUi(req, res, url.pathname, ui)) return;
    let params: Record<string, string> = {};
    let audited = url.pathname.startsWith('/v1');
    try {
      const match = router.match(req.method ?? 'GET', url.pathname);
      params = match.params;
      audited = !match.route.unaudited;
      if (!match.route.public) await gateway.authenticateHeader(scope, req.headers.authorization);
      const ctx: RequestContext = { requestId: scope.requestId, req, res, url, params, scope };
      await match.route.handler(ctx);
      if (audited) await gateway.finish(scope);
    } catch (error) {
      const code = audited ? ((await gateway.finish(scope, error)) ?? 'INTERNAL') : errorCodeOf(error);
      if (!isVeilError(error)) logError(scope.requestId, error);
      if (res.headersSent) {
        // Mid-stream failure: the only honest signal left is an incomplete response.
        res.destroy();
        return;
      }
      const message = isVeilError(error) ? error.message : `internal error (request ${scope.requestId})`;
      const headers: Record<string, string> = code === 'UNAUTHENTICATED' || code === 'INVALID_TOKEN' ? { 'WWW-Authenticate': 'Bearer realm="veil"' } : {};
      if (error instanceof TooManyRequestsError) headers['Retry-After'] = String(error.retryAfterSeconds);
      // A body left unread (too slow, too large) cannot be skipped: the connection ends with the answer.
      if (!req.complete) headers['Connection'] = 'close';
      sendJson({ requestId: scope.requestId, req, res, url, params, scope }, HTTP_STATUS[code], { error: { code, message } }, headers);
    }
  };

  const { requestHeadersTimeoutMs, requestTimeoutMs } = gateway.settings;
  const server = createServer(
    {
      // Identity-provider tokens with many groups exceed Node's 16 KiB header default.
      maxHeaderSize: 64 * 1024,
      // Slow clients: headers must arrive in time (Node answers 408), and the whole request too
      // (readTextBody answers 408 at requestTimeoutMs; Node's own limit is the backstop). Results
      // may stream for as long as they take: these bound receiving the request, not the response.
      headersTimeout: Math.min(requestHeadersTimeoutMs, requestTimeoutMs),
      requestTimeout: requestTimeoutMs + 5_000,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logError('unknown', error);
        res.destroy();
      });
    },
  );
  limitConnectionsPerClient(server, gateway.settings.maxConnectionsPerClient);
  return server;
}

/**
 * At most `limit` open connections per client address: one address holding hundreds of idle or
 * trickling sockets gets 429 on the next one, and every other client is served as usual.
 */
function limitConnectionsPerClient(server: Server, limit: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limit) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(TOO_MANY_CONNECTIONS_BODY)}\r\n\r\n${TOO_MANY_CONNECTIONS_BODY}`);
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

const TOO_MANY_CONNECTIONS_BODY = JSON.stringify({ error: { code: 'TOO_MANY_REQUESTS', message: 'too many connections from this address' } });
