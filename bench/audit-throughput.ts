/**
 * Part (d): query throughput with the audit trail on versus off, same home, same process, rounds
 * interleaved (target: on/off at least 0.95). "On" is the production path: every request writes
 * a chained begin event durably before its first result byte and a chained outcome after it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createHttpServer } from '../src/http/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { median, progress, round } from './support.ts';
import { createGateway } from '../src/gateway/index.ts';

export const AUDIT_TARGET_RATIO = 0.95;
const ROWS = 20_000;
const QUERIES = [
  'SELECT arm, count(*) AS n, avg(dose_mg) AS dose FROM drug_xyz.trial_july2020 GROUP BY arm',
  "SELECT participant_id, email, zip FROM drug_xyz.trial_july2020 WHERE site_id = 'S001' LIMIT 50",
  "SELECT severity, count(*) FROM drug_xyz.adverse_events GROUP BY severity",
];

export interface AuditThroughputOptions {
  readonly benchHome: string;
  readonly requestsPerRound: number;
  readonly rounds: number;
  readonly concurrency: number;
}

export interface AuditThroughputReport {
  readonly rounds: number;
  readonly requestsPerRound: number;
  readonly concurrency: number;
  readonly onPerSecond: number;
  readonly offPerSecond: number;
  readonly ratio: number;
  readonly samples: { on: number[]; off: number[] };
  readonly auditedRecords: number;
}

async function serve(runtime: VeilRuntime): Promise<{ server: Server; url: string }> {
  const server = createHttpServer(createGateway(runtime), { logError: (id, error) => progress(`audit bench: request ${id} failed: ${String(error)}`) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function round_(url: string, token: string, requests: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const sql = QUERIES[next++ % QUERIES.length]!;
        const response = await fetch(`${url}/v1/query`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ sql }) });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`audit bench query failed with ${response.status}`);
      }
    }),
  );
  return requests / ((performance.now() - started) / 1000);
}

export async function runAuditThroughputBenchmark(options: AuditThroughputOptions): Promise<AuditThroughputReport> {
  const home = path.join(options.benchHome, `audit-${ROWS}`);
  progress(`audit bench: home ${home}`);
  const audited = await openRuntime(home);
  await setupDemo(audited, ROWS, (line) => progress(`audit bench: ${line}`));
  const unaudited = await openRuntime(home, { auditOffForBenchmark: true });
  const on = await serve(audited);
  const off = await serve(unaudited);
  try {
    const token = audited.issuer.issue('alice', 3600);
    const before = (audited.audit as unknown as { db: { prepare(sql: string): { get(): unknown } } }).db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number };
    // Warm-up: views, prepared statements, page cache, JIT, on both.
    await round_(on.url, token, 30, options.concurrency);
    await round_(off.url, token, 30, options.concurrency);
    const samples = { on: [] as number[], off: [] as number[] };
    for (let r = 1; r <= options.rounds; r++) {
      // Alternate which goes first so that drift in machine load does not favour one side.
      const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const side of order) {
        const perSecond = await round_(side === 'on' ? on.url : off.url, token, options.requestsPerRound, options.concurrency);
        samples[side].push(perSecond);
        progress(`audit bench round ${r}/${options.rounds} audit ${side.padEnd(3)}: ${perSecond.toFixed(0)} requests/s`);
      }
    }
    const after = (audited.audit as unknown as { db: { prepare(sql: string): { get(): unknown } } }).db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number };
    const onPerSecond = median(samples.on);
    const offPerSecond = median(samples.off);
    return {
      rounds: options.rounds,
      requestsPerRound: options.requestsPerRound,
      concurrency: options.concurrency,
      onPerSecond,
      offPerSecond,
      ratio: onPerSecond / offPerSecond,
      samples,
      auditedRecords: after.n - before.n,
    };
  } finally {
    for (const { server } of [on, off]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await unaudited.close();
    await audited.close();
  }
}

export function formatAuditThroughputReport(report: AuditThroughputReport): string {
  const verdict = report.ratio >= AUDIT_TARGET_RATIO ? 'met' : 'MISSED';
  return [
    `(d) audit: query throughput with the audit trail on vs off (${ROWS.toLocaleString('en-US')}-row demo, ${report.concurrency} concurrent clients, ${report.requestsPerRound} requests per round, medians of ${report.rounds} interleaved rounds)`,
    `    audit off  ${report.offPerSecond.toFixed(0)} requests/s`,
    `    audit on   ${report.onPerSecond.toFixed(0)} requests/s   ratio ${round(report.ratio, 3)}  (target >= ${AUDIT_TARGET_RATIO}: ${verdict})`,
    `    check ${report.auditedRecords >= report.rounds * report.requestsPerRound ? 'ok    ' : 'FAILED'} every audited request left a record (${report.auditedRecords})`,
  ].join('\n');
}
