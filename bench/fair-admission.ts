/**
 * Part (f): fairness under load. The latency of a small query of one user (a filtered count) while
 * another user keeps ten heavy queries in flight (a three-way cross join that only the statement
 * timeout stops), against the same small query on an idle server, in the same run (target: at most
 * 3x; before admission by user share the small query waited behind the heavy ones for minutes).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createHttpServer } from '../src/http/index.ts';
import { openRuntime } from '../src/runtime/index.ts';
import { median, progress } from './support.ts';
import { createGateway } from '../src/gateway/index.ts';

export const FAIRNESS_TARGET_RATIO = 3;
const SMALL = "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE arm = 'placebo'";
const HEAVY = 'SELECT count(*) FROM drug_xyz.trial_july2020 a, drug_xyz.trial_july2020 b, drug_xyz.trial_july2020 c WHERE a.dose_mg > b.dose_mg + c.dose_mg';

export interface FairnessReport {
  readonly idleMs: number[];
  readonly loadedMs: number[];
  readonly ratio: number;
  readonly heavyOutcomes: Record<string, number>;
}

async function timed(url: string, token: string, sql: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/query`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ sql }) });
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

export async function runFairnessBenchmark(options: { readonly benchHome: string; readonly samples: number }): Promise<FairnessReport> {
  const home = path.join(options.benchHome, 'fairness');
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(home, 'config.yaml'), 'statement_timeout_ms: 20000\n');
  const runtime = await openRuntime(home);
  await setupDemo(runtime, 20_000);
  const server: Server = createHttpServer(createGateway(runtime));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const alice = runtime.issuer.issue('alice', 3600);
  const bob = runtime.issuer.issue('bob', 3600);
  try {
    await timed(url, alice, SMALL); // warm: scan views, prepared cache
    const idleMs: number[] = [];
    for (let i = 0; i < options.samples; i++) idleMs.push((await timed(url, alice, SMALL)).ms);
    const heavy = Array.from({ length: 10 }, () => timed(url, bob, HEAVY));
    // Let bob's share fill before alice asks.
    for (let i = 0; i < 100 && (runtime.admission.status().users['bob']?.running ?? 0) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const loadedMs: number[] = [];
    for (let i = 0; i < options.samples; i++) {
      const { ms, status } = await timed(url, alice, SMALL);
      if (status !== 200) throw new Error(`alice's query failed with ${status} under load`);
      loadedMs.push(ms);
    }
    const heavyOutcomes: Record<string, number> = {};
    for (const { status } of await Promise.all(heavy)) heavyOutcomes[status] = (heavyOutcomes[status] ?? 0) + 1;
    progress(`fairness: idle ${Math.round(median(idleMs))} ms, under load ${Math.round(median(loadedMs))} ms; bob's heavy queries: ${JSON.stringify(heavyOutcomes)}`);
    return { idleMs, loadedMs, ratio: median(loadedMs) / median(idleMs), heavyOutcomes };
  } finally {
    server.closeAllConnections();
    server.close();
    await runtime.close();
  }
}

export function formatFairnessReport(report: FairnessReport): string {
  return [
    `(f) A small query of alice while bob keeps ten heavy queries in flight (two run, eight wait), medians of ${report.loadedMs.length}:`,
    `    idle server        ${Math.round(median(report.idleMs))} ms`,
    `    bob saturating     ${Math.round(median(report.loadedMs))} ms  (ratio ${report.ratio.toFixed(2)}, target <= ${FAIRNESS_TARGET_RATIO}: ${report.ratio <= FAIRNESS_TARGET_RATIO ? 'met' : 'MISSED'}); bob's heavy queries answered ${JSON.stringify(report.heavyOutcomes)}`,
  ].join('\n');
}
