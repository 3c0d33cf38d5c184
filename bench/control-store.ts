/**
 * Part (k): what the PostgreSQL control store costs a request, and how fast a change made on one
 * replica is in force on another (docs/scale-out.md). Two homes with the same demo data and keys:
 * one on SQLite, one on PostgreSQL 15 (started by the bench with its durability settings as
 * shipped: commits are fsynced on both sides). Small requests are timed in interleaved rounds,
 * SQLite as the baseline of the same run. Then a second replica opens the PostgreSQL home's schema,
 * and alice's region is changed on the first replica again and again: each time, the very next
 * request on the second replica must see it.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestPostgres, type TestPostgres } from '../scripts/test-postgres.mjs';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createGateway } from '../src/gateway/index.ts';
import { createHttpServer } from '../src/http/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { errorMessage, formatMs, latencySummary, progress, round, table, type LatencySummary } from './support.ts';

export interface ControlStoreBenchReport {
  readonly skipped?: string;
  readonly iterations: number;
  readonly rows: readonly { readonly kind: string; readonly sqlite: LatencySummary; readonly postgres: LatencySummary; readonly ratio: number }[];
  readonly propagation: { readonly trials: number; readonly seenAtOnce: number; readonly changeP50Ms: number; readonly nextRequestP50Ms: number };
  readonly checks: readonly { name: string; ok: boolean; detail: string }[];
}

const PROBE = 'SELECT count(*) AS n, max(country) AS country FROM drug_xyz.trial_july2020';
const SCHEMA = 'veil_bench';

interface Served {
  readonly runtime: VeilRuntime;
  readonly url: string;
  readonly server: Server;
}

async function serve(home: string, demo: boolean): Promise<Served> {
  const runtime = await openRuntime(home);
  if (demo) await setupDemo(runtime, 2000);
  const server = createHttpServer(createGateway(runtime), {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { runtime, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopServing(served: Served | undefined): Promise<void> {
  if (served === undefined) return;
  served.server.closeAllConnections();
  await new Promise<void>((resolve) => served.server.close(() => resolve()));
  await served.runtime.close();
}

export async function runControlStoreBenchmark(options: { iterations: number }): Promise<ControlStoreBenchReport> {
  let cluster: TestPostgres;
  try {
    cluster = await startTestPostgres({ durable: true });
  } catch (error) {
    return { skipped: errorMessage(error), iterations: 0, rows: [], propagation: { trials: 0, seenAtOnce: 0, changeP50Ms: 0, nextRequestP50Ms: 0 }, checks: [] };
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-bench-store-'));
  const served: Served[] = [];
  try {
    const config = `control_store: postgres\npostgres_url: ${JSON.stringify(cluster.url)}\npostgres_schema: ${SCHEMA}\n`;
    const sqliteHome = path.join(scratch, 'sqlite');
    const postgresHome = path.join(scratch, 'postgres');
    const replicaHome = path.join(scratch, 'replica');
    mkdirSync(postgresHome);
    writeFileSync(path.join(postgresHome, 'config.yaml'), config);
    const sqlite = await serve(sqliteHome, true);
    served.push(sqlite);
    const postgres = await serve(postgresHome, true);
    served.push(postgres);
    // The second replica: the same schema, keys and storage; its own caches.
    mkdirSync(replicaHome);
    writeFileSync(path.join(replicaHome, 'config.yaml'), config);
    cpSync(path.join(postgresHome, 'keys'), path.join(replicaHome, 'keys'), { recursive: true });
    symlinkSync(path.join(postgresHome, 'storage'), path.join(replicaHome, 'storage'));
    const replica = await serve(replicaHome, false);
    served.push(replica);

    const checks: { name: string; ok: boolean; detail: string }[] = [];
    const call = async (side: Served, user: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${side.url}${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${side.runtime.issuer.issue(user, 3600)}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const kinds: { kind: string; run: (side: Served) => Promise<number> }[] = [
      { kind: 'GET /v1/me (authentication, one audit record)', run: async (side) => (await call(side, 'alice', 'GET', '/v1/me')).status },
      { kind: "alice's count over HTTP (policies, audit begin + finish)", run: async (side) => (await call(side, 'alice', 'POST', '/v1/query', { sql: PROBE })).status },
      { kind: 'GET /v1/datasets (catalog, as bob)', run: async (side) => (await call(side, 'bob', 'GET', '/v1/datasets')).status },
    ];
    const samples = new Map<string, { sqlite: number[]; postgres: number[] }>(kinds.map((k) => [k.kind, { sqlite: [], postgres: [] }]));
    for (let i = 0; i < options.iterations; i++) {
      for (const k of kinds) {
        const order: ['sqlite' | 'postgres', Served][] = i % 2 === 0 ? [['sqlite', sqlite], ['postgres', postgres]] : [['postgres', postgres], ['sqlite', sqlite]];
        for (const [name, side] of order) {
          const started = performance.now();
          const status = await k.run(side);
          samples.get(k.kind)![name].push(performance.now() - started);
          if (status !== 200 && checks.every((c) => c.name !== `${k.kind} on ${name}`)) checks.push({ name: `${k.kind} on ${name}`, ok: false, detail: `status ${status}` });
        }
      }
      if ((i + 1) % 100 === 0) progress(`control store: ${i + 1}/${options.iterations} rounds`);
    }
    const rows = kinds.map((k) => {
      const s = samples.get(k.kind)!;
      const sqliteLatency = latencySummary(s.sqlite);
      const postgresLatency = latencySummary(s.postgres);
      return { kind: k.kind, sqlite: sqliteLatency, postgres: postgresLatency, ratio: round(postgresLatency.p50 / sqliteLatency.p50, 2) };
    });

    // Propagation: change on one replica, read on the other at once.
    const trials = Math.max(10, Math.floor(options.iterations / 10));
    const changeMs: number[] = [];
    const nextMs: number[] = [];
    let seenAtOnce = 0;
    for (let i = 0; i < trials; i++) {
      const region = i % 2 === 0 ? 'DE' : 'US';
      const started = performance.now();
      const changed = await call(postgres, 'erin', 'PUT', '/v1/users/alice', { groups: ['data_science'], attributes: { region } });
      const committed = performance.now();
      const seen = await call(replica, 'alice', 'POST', '/v1/query', { sql: PROBE });
      changeMs.push(committed - started);
      nextMs.push(performance.now() - committed);
      const rowsSeen = seen.json['rows'] as unknown[][] | undefined;
      if (changed.status === 200 && rowsSeen?.[0]?.[1] === region) seenAtOnce++;
    }
    checks.push({ name: 'the first request on the other replica after each change saw it', ok: seenAtOnce === trials, detail: `${seenAtOnce} of ${trials}` });
    return {
      iterations: options.iterations,
      rows,
      propagation: { trials, seenAtOnce, changeP50Ms: round(latencySummary(changeMs).p50, 2), nextRequestP50Ms: round(latencySummary(nextMs).p50, 2) },
      checks,
    };
  } finally {
    for (const side of served.reverse()) await stopServing(side).catch(() => undefined);
    cluster.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function formatControlStoreReport(report: ControlStoreBenchReport): string {
  if (report.skipped !== undefined) return `(k) the PostgreSQL control store: skipped (${report.skipped})`;
  const p = report.propagation;
  return [
    `(k) the control store on PostgreSQL 15 (durable commits) against SQLite, ${report.iterations} interleaved rounds, loopback`,
    table(
      ['request', '>SQLite p50', '>SQLite p99', '>PostgreSQL p50', '>PostgreSQL p99', '>PostgreSQL / SQLite p50'],
      report.rows.map((r) => [r.kind, formatMs(r.sqlite.p50), formatMs(r.sqlite.p99), formatMs(r.postgres.p50), formatMs(r.postgres.p99), r.ratio.toFixed(2)]),
    ).replace(/^/gm, '    '),
    `    a change on replica 1 (alice's region), then alice's next query on replica 2: seen at once in ${p.seenAtOnce} of ${p.trials} trials; ` +
      `the change took ${formatMs(p.changeP50Ms)}, the next query ${formatMs(p.nextRequestP50Ms)} (p50)`,
    `    checks: ${report.checks.every((c) => c.ok) ? 'all passed' : report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
  ].join('\n');
}
