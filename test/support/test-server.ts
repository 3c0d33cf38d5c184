import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setupDemo } from '../../src/demo/demo-setup.ts';
import { createHttpServer } from '../../src/http/index.ts';
import { openRuntime, type VeilRuntime } from '../../src/runtime/index.ts';
import { createGateway } from '../../src/gateway/index.ts';
import { startPgServer } from '../../src/pgwire/index.ts';

export interface TestServer {
  readonly runtime: VeilRuntime;
  readonly url: string;
  readonly home: string;
  /** The PostgreSQL door's port (every test server has one, on loopback). */
  readonly pgPort: number;
  /** A fresh token for a demo user. */
  token(user: string): string;
  /** POST JSON with a user's token (or no token when user is null). */
  post(user: string | null, route: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(user: string | null, route: string, headers?: Record<string, string>): Promise<Response>;
  /** POST /v1/query as JSON; returns the parsed body and status. */
  query(user: string, sql: string, maxRows?: number): Promise<{ status: number; body: QueryBody }>;
  /** Rows of a query that must succeed. */
  rows(user: string, sql: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

export interface QueryBody {
  columns?: { name: string; type: string }[];
  rows?: unknown[][];
  row_count?: number;
  truncated?: boolean;
  error?: { code: string; message: string };
}

/**
 * A real Veil on loopback: temp home, deterministic demo data, real DuckDB, SQLite and HTTP.
 * Internal errors are collected so tests can assert none happened.
 */
export async function startTestServer(
  options: {
    rows?: number;
    demo?: boolean;
    /** Runs on the fresh home before Veil opens it: write config.yaml, JWKS files, … */
    prepareHome?: (home: string) => void;
  } = {},
): Promise<TestServer & { internalErrors: unknown[] }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'veil-test-'));
  options.prepareHome?.(home);
  const runtime = await openRuntime(home);
  const demo = options.demo !== false ? await setupDemo(runtime, options.rows ?? 2000) : undefined;
  const internalErrors: unknown[] = [];
  const gateway = createGateway(runtime);
  if (demo !== undefined) gateway.enableDemoSignIn(demo.users);
  const pg = await startPgServer(gateway, { port: 0, host: '127.0.0.1', logError: (error) => internalErrors.push(error) });
  const server: Server = createHttpServer(gateway, { logError: (_id, error) => internalErrors.push(error), pg: { port: pg.address.port } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const auth = (user: string | null): Record<string, string> => (user === null ? {} : { Authorization: `Bearer ${runtime.issuer.issue(user, 600)}` });
  const post = (user: string | null, route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...auth(user), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (user: string | null, route: string, headers: Record<string, string> = {}) => fetch(`${url}${route}`, { headers: { ...auth(user), ...headers } });
  const query = async (user: string, sql: string, maxRows?: number) => {
    const response = await post(user, '/v1/query', maxRows === undefined ? { sql } : { sql, max_rows: maxRows });
    return { status: response.status, body: (await response.json()) as QueryBody };
  };
  return {
    runtime,
    url,
    home,
    pgPort: pg.address.port,
    internalErrors,
    token: (user) => runtime.issuer.issue(user, 600),
    post,
    get,
    query,
    rows: async (user, sql) => {
      const { status, body } = await query(user, sql);
      if (status !== 200) throw new Error(`query failed with ${status}: ${JSON.stringify(body.error)}\n${sql}`);
      return body.rows ?? [];
    },
    close: async () => {
      await pg.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
