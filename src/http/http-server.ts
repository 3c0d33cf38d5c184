import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { isVeilError, TooManyRequestsError, type ErrorCode } from '../errors/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import { adminRoutes } from './admin-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { auditStart, dataRoutes } from './data-routes.ts';
import { decisionFor, HTTP_STATUS } from './http-status.ts';
import { openApiDocument } from './openapi.ts';
import { clientApplicationOf, setRequestDeadline, type RequestContext } from './request-context.ts';
import { Router, sendJson, type Route } from './routing.ts';

export interface HttpServerOptions {
  /** Where internal errors are reported with their request id (never to clients). */
  readonly logError?: (requestId: string, error: unknown) => void;
}

/**
 * The HTTP door. Every request gets an id; /v1 requests are authenticated by their bearer token
 * alone and leave exactly one audit record, whatever their outcome.
 */
export function createHttpServer(runtime: VeilRuntime, options: HttpServerOptions = {}): Server {
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
    ...dataRoutes(runtime),
    ...catalogRoutes(runtime),
    ...adminRoutes(runtime),
    ...tokenRoutes(runtime),
    ...auditRoutes(runtime),
  ];
  const router = new Router(routes);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const clientApplication = clientApplicationOf(req);
    const startedAt = Date.now();
    setRequestDeadline(req, startedAt + runtime.settings.requestTimeoutMs, runtime.settings.requestTimeoutMs);
    const ctx: RequestContext = {
      requestId: randomUUID(),
      req,
      res,
      url: new URL(req.url ?? '/', 'http://veil.invalid'),
      params: {},
      startedAt,
      clientApplication,
      clientAddress: req.socket.remoteAddress ?? null,
      // The server names the door; what the client says of itself is only its application.
      door: 'http',
      principal: undefined,
      audit: { statement: null, statementType: 'request', datasets: [], columns: [], policies: [] },
    };
    const started = performance.now();
    let audited = !ctx.url.pathname.startsWith('/v1');
    try {
      const { route, params } = router.match(req.method ?? 'GET', ctx.url.pathname);
      (ctx as { params: Record<string, string> }).params = params;
      audited = !route.unaudited;
      if (!route.public) {
        const { principal, method, via } = runtime.authenticator.authenticateRequest(req.headers.authorization);
        ctx.principal = principal;
        ctx.authentication = { method, via };
      }
      await route.handler(ctx);
      if (audited) finishAudit(runtime, ctx, started, 'allowed', null);
    } catch (error) {
      const code: ErrorCode = isVeilError(error) ? error.code : 'INTERNAL';
      if (!isVeilError(error)) logError(ctx.requestId, error);
      if (audited) finishAudit(runtime, ctx, started, code === 'INTERNAL' ? 'error' : decisionFor(code), code);
      if (res.headersSent) {
        // Mid-stream failure: the only honest signal left is an incomplete response.
        res.destroy();
        return;
      }
      const message = isVeilError(error) ? error.message : `internal error (request ${ctx.requestId})`;
      const headers: Record<string, string> = code === 'UNAUTHENTICATED' || code === 'INVALID_TOKEN' ? { 'WWW-Authenticate': 'Bearer realm="veil"' } : {};
      if (error instanceof TooManyRequestsError) headers['Retry-After'] = String(error.retryAfterSeconds);
      // A body left unread (too slow, too large) cannot be skipped: the connection ends with the answer.
      if (!req.complete) headers['Connection'] = 'close';
      sendJson(ctx, HTTP_STATUS[code], { error: { code, message } }, headers);
    }
  };

  const { requestHeadersTimeoutMs, requestTimeoutMs } = runtime.settings;
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
  limitConnectionsPerClient(server, runtime.settings.maxConnectionsPerClient);
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

function finishAudit(runtime: VeilRuntime, ctx: RequestContext, started: number, decision: 'allowed' | 'denied' | 'error', errorCode: string | null): void {
  const completion = {
    decision,
    rows_returned: ctx.audit.rows ?? null,
    bytes_returned: ctx.audit.bytes ?? null,
    duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    error_code: errorCode,
  };
  if (ctx.audit.seq !== undefined) runtime.audit.finish(ctx.audit.seq, completion);
  else runtime.audit.record({ ...auditStart(ctx), ...completion });
}
