import { InvalidRequestError, NotFoundError } from '../errors/index.ts';
import type { RequestContext } from './request-context.ts';
import type { Settled } from '../util/settled.ts';

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with {param} segments, e.g. /v1/datasets/{name} */
  readonly path: string;
  /** Routes without authentication (health, OpenAPI). */
  readonly public?: boolean;
  /** Not written to the audit trail (health checks, the API description). */
  readonly unaudited?: boolean;
  readonly handler: (ctx: RequestContext) => Promise<void>;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { ...route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(match[i + 1] ?? '');
        } catch {
          throw new InvalidRequestError(`malformed percent-encoding in ${name}`);
        }
      });
      return { route, params };
    }
    throw new NotFoundError(pathMatched ? `${method} ${pathname}` : `route ${pathname}`);
  }

  list(): readonly Route[] {
    return this.routes;
  }
}

export function sendJson<T>(ctx: RequestContext, status: number, body: T & Settled<T>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  ctx.res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Request-Id': ctx.requestId,
    'Cache-Control': 'no-store',
    ...headers,
  });
  ctx.res.end(text);
  ctx.scope.bytes = Buffer.byteLength(text);
}
