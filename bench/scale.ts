/**
 * Part (i): scale and load, on demo trials of several sizes (VEIL_BENCH_SCALE_SIZES, default
 * 1,000,000, 4,000,000 and 16,000,000 rows; each home kept between runs), over HTTP as alice with the
 * columnar copy warm:
 *   - scale: alice's full SELECT * as CSV, time per delivered row at each size against the smallest
 *     (target: within ±20%), and the growth of the process's resident memory during the scan above
 *     its level just before (target: under 300 MB at every size; the bench client is a worker
 *     thread of the same process, so its buffers count too);
 *   - load (at the smallest size): 4 clients each streaming alice's full scan while a fifth runs
 *     `SELECT count(*) … WHERE arm = 'placebo'` in a loop: the count's p99 (target ≤ 100 ms) and
 *     the scans' total throughput against the same 4 scans alone (target ≥ 0.8).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createGateway } from '../src/gateway/index.ts';
import { createHttpServer } from '../src/http/index.ts';
import { principalOf } from '../src/identity/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { BenchClient, type ClientMode, type FetchOutcome } from './http-client.ts';
import { sourceViewSql } from './source-view.ts';
import { formatBytes, formatCount, formatMs, formatSeconds, latencySummary, median, progress, table, type LatencySummary } from './support.ts';

const DATASET = 'drug_xyz.trial_july2020';
const SCAN_SQL = `SELECT * FROM ${DATASET}`;
const COUNT_SQL = `SELECT count(*) FROM ${DATASET} WHERE arm = 'placebo'`;
export const SCALE_TARGET_SPREAD = 0.2;
export const SCALE_TARGET_RSS_BYTES = 300 * 1024 * 1024;
export const LOAD_TARGET_COUNT_P99_MS = 100;
export const LOAD_TARGET_THROUGHPUT = 0.8;
const LOAD_SCANS = 4;

export interface ScaleOptions {
  readonly benchHome: string;
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly clientMode: ClientMode;
  readonly timeoutMs: number;
}

export interface SizeResult {
  readonly rows: number;
  readonly deliveredRows: number;
  readonly bytes: number;
  readonly ms: readonly number[];
  readonly nsPerRow: number;
  /** ns per delivered row / that of the smallest size. */
  readonly perRowRatio: number;
  readonly peakRssGrowthBytes: number;
}

export interface LoadResult {
  readonly rows: number;
  readonly aloneMs: number;
  readonly loadedMs: number;
  /** (4 scans' rows / time) under load with the count loop, against the 4 scans alone. */
  readonly throughputRatio: number;
  readonly count: LatencySummary;
}

export interface ScaleReport {
  readonly sizes: readonly SizeResult[];
  readonly load: LoadResult | undefined;
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail: string }[];
}

interface Running {
  readonly runtime: VeilRuntime;
  readonly server: Server;
  readonly url: string;
  readonly token: string;
}

export async function runScaleBenchmark(options: ScaleOptions): Promise<ScaleReport> {
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
    if (!ok) progress(`CHECK FAILED: ${name}: ${detail}`);
  };
  const sizes: Omit<SizeResult, 'perRowRatio'>[] = [];
  let load: LoadResult | undefined;
  const client = await BenchClient.start(options.clientMode);
  try {
    for (const [index, rows] of [...options.sizes].sort((a, b) => a - b).entries()) {
      const side = await start(path.join(options.benchHome, `scale-rows-${rows}`), rows);
      try {
        const query = (sql: string): Promise<FetchOutcome> => client.query({ url: side.url, token: side.token, sql, accept: 'text/csv', timeoutMs: options.timeoutMs });
        await query(`${SCAN_SQL} LIMIT 1000`); // warm-up
        const ms: number[] = [];
        let peak = 0;
        let delivered = 0;
        let bytes = 0;
        for (let run = 0; run < options.runs; run++) {
          const sampler = startRssSampler();
          const outcome = await query(SCAN_SQL);
          const growth = sampler.stop();
          if (outcome.status !== 200) throw new Error(`scan failed with ${outcome.status}: ${outcome.errorBody ?? ''}`);
          ms.push(outcome.ms);
          peak = Math.max(peak, growth);
          delivered = outcome.rows;
          bytes = outcome.bytes;
          progress(`scale ${formatCount(rows)}: run ${run + 1}/${options.runs} ${formatSeconds(outcome.ms)}, ${formatCount(outcome.rows)} rows, RSS +${formatBytes(growth)}`);
        }
        check(`scale ${rows}: alice gets about 60% of the rows`, delivered > rows * 0.55 && delivered < rows * 0.65, `${delivered} of ${rows}`);
        sizes.push({ rows, deliveredRows: delivered, bytes, ms, nsPerRow: (median(ms) * 1e6) / delivered, peakRssGrowthBytes: peak });
        if (index === 0) load = await measureLoad(side, client, options, check);
      } finally {
        await stop(side);
      }
    }
  } finally {
    await client.close();
  }
  const base = sizes[0]?.nsPerRow ?? Number.NaN;
  return { sizes: sizes.map((s) => ({ ...s, perRowRatio: s.nsPerRow / base })), load, checks };
}

/** 4 full scans alone, then the same 4 with a count loop beside them (other clients of the same bench worker). */
async function measureLoad(side: Running, client: BenchClient, options: ScaleOptions, check: (name: string, ok: boolean, detail: string) => void): Promise<LoadResult> {
  const scans = async (): Promise<{ ms: number; rows: number }> => {
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: LOAD_SCANS }, () => client.query({ url: side.url, token: side.token, sql: SCAN_SQL, accept: 'text/csv', timeoutMs: options.timeoutMs })));
    for (const o of outcomes) if (o.status !== 200) throw new Error(`load scan failed with ${o.status}: ${o.errorBody ?? ''}`);
    return { ms: performance.now() - started, rows: outcomes.reduce((sum, o) => sum + o.rows, 0) };
  };
  const count = (): Promise<FetchOutcome> => client.query({ url: side.url, token: side.token, sql: COUNT_SQL, accept: 'text/csv', timeoutMs: options.timeoutMs });
  for (let i = 0; i < 3; i++) await count(); // as a dashboard sends it: kept from the second run
  progress(`load: ${LOAD_SCANS} full scans alone`);
  const alone = await scans();
  progress(`load: ${LOAD_SCANS} full scans alone ${formatSeconds(alone.ms)}; again with a count loop`);
  const latencies: number[] = [];
  let loading = true;
  const loop = (async () => {
    // Bounded: stops when the scans end, or after 10,000 counts.
    for (let i = 0; loading && i < 10_000; i++) {
      const outcome = await count();
      if (outcome.status !== 200) throw new Error(`count failed with ${outcome.status}: ${outcome.errorBody ?? ''}`);
      latencies.push(outcome.ms);
    }
  })();
  const loaded = await scans();
  loading = false;
  await loop;
  check('load: the same rows with and without the count loop', loaded.rows === alone.rows, `${loaded.rows} / ${alone.rows}`);
  const summary = latencySummary(latencies);
  progress(`load: with the count loop ${formatSeconds(loaded.ms)}; count p50 ${formatMs(summary.p50)}, p99 ${formatMs(summary.p99)} over ${summary.n}`);
  return { rows: alone.rows, aloneMs: alone.ms, loadedMs: loaded.ms, throughputRatio: alone.ms / loaded.ms, count: summary };
}

/** Samples the process's resident memory every 20 ms; stop() gives the peak above the level at start. */
function startRssSampler(): { stop(): number } {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak - before;
    },
  };
}

async function start(home: string, rows: number): Promise<Running> {
  mkdirSync(home, { recursive: true });
  const runtime = await openRuntime(home);
  try {
    await setupDemo(runtime, rows, (line) => progress(`scale ${formatCount(rows)}: ${line}`));
    const [status] = await runtime.cache.status([DATASET]);
    if (status?.state !== 'fresh') {
      progress(`scale ${formatCount(rows)}: building the columnar copy`);
      await runtime.cache.rebuild([DATASET]);
    }
    const server = createHttpServer(createGateway(runtime));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const side: Running = { runtime, server, url, token: runtime.issuer.issue('alice', 24 * 3600) };
    // First use of a copy this process did not build: it is checked before it is read.
    for (let i = 0; i < 600; i++) {
      if ((await sourceViewSql(runtime, DATASET)).includes('read_parquet')) break;
      await runtime.queries.describe(await runtime.queries.prepareScan(principalOf(await runtime.users.get('alice')), DATASET));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return side;
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

async function stop(side: Running): Promise<void> {
  // A request's audit record is finished just after its last byte: let the last ones finish.
  await new Promise((resolve) => setTimeout(resolve, 250));
  side.server.closeAllConnections();
  side.server.close();
  await side.runtime.close();
}

export function scaleJson(report: ScaleReport): unknown {
  return {
    sizes: report.sizes.map((s) => ({
      rows: s.rows,
      delivered_rows: s.deliveredRows,
      bytes: s.bytes,
      times_ms: s.ms.map((ms) => Math.round(ms)),
      ns_per_row: Math.round(s.nsPerRow),
      per_row_ratio_to_smallest: Number(s.perRowRatio.toFixed(3)),
      peak_rss_growth_bytes: s.peakRssGrowthBytes,
    })),
    per_row_within_target: report.sizes.every((s) => Math.abs(s.perRowRatio - 1) <= SCALE_TARGET_SPREAD),
    rss_within_target: report.sizes.every((s) => s.peakRssGrowthBytes < SCALE_TARGET_RSS_BYTES),
    load:
      report.load === undefined
        ? null
        : {
            rows: report.load.rows,
            alone_ms: Math.round(report.load.aloneMs),
            loaded_ms: Math.round(report.load.loadedMs),
            throughput_ratio: Number(report.load.throughputRatio.toFixed(3)),
            count_p50_ms: Number(report.load.count.p50.toFixed(2)),
            count_p99_ms: Number(report.load.count.p99.toFixed(2)),
            counts: report.load.count.n,
            meets_targets: report.load.count.p99 <= LOAD_TARGET_COUNT_P99_MS && report.load.throughputRatio >= LOAD_TARGET_THROUGHPUT,
          },
    checks: report.checks,
  };
}

export function formatScaleReport(report: ScaleReport): string {
  const lines = [`(i) Scale and load: alice's SELECT * as CSV over HTTP, columnar copy warm`];
  lines.push(
    table(
      ['trial rows', '>alice rows', '>median', '>ns / row', '>vs smallest', '>peak RSS growth'],
      report.sizes.map((s) => [formatCount(s.rows), formatCount(s.deliveredRows), formatSeconds(median(s.ms)), String(Math.round(s.nsPerRow)), `${s.perRowRatio.toFixed(2)}×`, formatBytes(s.peakRssGrowthBytes)]),
    ),
  );
  const spreadOk = report.sizes.every((s) => Math.abs(s.perRowRatio - 1) <= SCALE_TARGET_SPREAD);
  const rssOk = report.sizes.every((s) => s.peakRssGrowthBytes < SCALE_TARGET_RSS_BYTES);
  lines.push(`    time per row within ±${SCALE_TARGET_SPREAD * 100}%: ${spreadOk ? 'met' : 'MISSED'}; peak RSS growth under ${formatBytes(SCALE_TARGET_RSS_BYTES)}: ${rssOk ? 'met' : 'MISSED'}`);
  const load = report.load;
  if (load !== undefined) {
    lines.push(
      `    load (${formatCount(load.rows / LOAD_SCANS)}-row scans ×${LOAD_SCANS}): alone ${formatSeconds(load.aloneMs)}, with a count loop ${formatSeconds(load.loadedMs)} = ${load.throughputRatio.toFixed(2)} of the throughput (target ≥ ${LOAD_TARGET_THROUGHPUT}: ${load.throughputRatio >= LOAD_TARGET_THROUGHPUT ? 'met' : 'MISSED'}); ` +
        `count p50 ${formatMs(load.count.p50)}, p99 ${formatMs(load.count.p99)} over ${load.count.n} (target p99 ≤ ${LOAD_TARGET_COUNT_P99_MS} ms: ${load.count.p99 <= LOAD_TARGET_COUNT_P99_MS ? 'met' : 'MISSED'})`,
    );
  }
  const failed = report.checks.filter((c) => !c.ok);
  if (failed.length > 0) lines.push(`    checks FAILED: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
  return lines.join('\n');
}
