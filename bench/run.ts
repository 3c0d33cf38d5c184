/**
 * `npm run bench`: the performance figures of issue "benchmark" for alice's policy.
 *
 *   (a) SELECT * of alice's view of a generated 2,000,000-row trial, delivered over HTTP as CSV and
 *       as Arrow, from a CSV and from a Parquet source, next to DuckDB's own COPY of the same rows and
 *       columns unmasked from the raw file (targets: CSV at most 0.8x warm and 1.3x cold, right after
 *       the file changed; Arrow at most 1.0x CSV), and DuckDB's COPY of the same masked projection.
 *   (b) the rewrite overhead per query, p50 and p99, for a 200-column dataset under 500 policies
 *       (target: p99 at most 5 ms).
 *   (d) query throughput with the audit trail on versus off (target: at least 0.95).
 *   (e) restart with an audit trail of 1,000,000 records until a query over it is answered, next to
 *       an empty trail (target: under 5 s).
 *   (f) a small query of one user while another saturates their share with heavy queries, next to
 *       the same query on an idle server (target: at most 3x).
 *   (c) alice's scan_as_pandas of the same trial through the Python client, next to
 *       pandas.read_csv of the raw file plus the same row filter (target: at most 0.35x).
 *   (g) alice's SELECT * of the same trial through the PostgreSQL door, with psql \copy … TO STDOUT
 *       (CSV) and with pandas.read_sql over psycopg2, next to PostgreSQL 15 itself (started by the
 *       bench; row-level security + a security_barrier masking view) holding the same rows
 *       (target: PostgreSQL at least 3x slower on both paths). Skipped without PostgreSQL 15.
 *   (h) the columnar cache: alice's count of placebo participants over HTTP, p50/p99, cache off (the
 *       CSV parsed by every query) against warm (its Parquet copy), and alice's SELECT * as CSV with
 *       the cache on against off, on a home of its own (same data and keys on both sides).
 *
 * The machine is shared and noisy: every figure is compared with a baseline measured in the same run
 * (PERFORMANCE.md), and delivery times are medians of interleaved runs.
 *
 * Environment:
 *   VEIL_BENCH_HOME          where generated data is kept between runs (default <repo>/.bench-home)
 *   VEIL_BENCH_ROWS          rows of the generated trial (default 2000000; e.g. 200000 for a quick run)
 *   VEIL_BENCH_RUNS          interleaved delivery runs (default 3)
 *   (i) scale and load: alice's full scan as CSV at several sizes (time per row, peak RSS growth),
 *       and 4 such scans with a count loop beside them (count p99, scans' throughput).
 *
 *   (j) Trino's questions to Veil's OPA listener (allow, filters, row filters, masks): p50/p99 next
 *       to the bare HTTP round trip to the same listener.
 *
 *   (k) the control store on PostgreSQL against SQLite: small requests' p50/p99 (interleaved, SQLite
 *       as the baseline), and whether a change on one replica is seen by the next request on another.
 *
 *   VEIL_BENCH_PARTS         any of a, b, c, d, e, f, g, h, i, j, k, comma-separated (default all)
 *   VEIL_BENCH_STORE_ITERS   rounds of part (k) (default 300)
 *   VEIL_BENCH_TRINO_ITERS   rounds of part (j) (default 300)
 *   VEIL_BENCH_SCALE_SIZES   trial sizes of part (i) (default 1000000,4000000,16000000; homes kept)
 *   VEIL_BENCH_CACHE_ITERS   count queries per side of part (h) (default 200)
 *   VEIL_BENCH_AUDIT_RECORDS audit records of part (e) (default 1000000; kept between runs)
 *   VEIL_BENCH_AUDIT_ROUNDS  rounds of part (d) (default 5), VEIL_BENCH_AUDIT_REQUESTS requests per round (default 300)
 *   VEIL_BENCH_CLIENT        worker (default: HTTP client in a worker thread) or inline (same thread as the server)
 *   VEIL_BENCH_DIAGNOSTICS   1 (default) adds the breakdown rows to (a) and (g); 0 skips them
 *   VEIL_BENCH_REWRITE_ITERS warm prepare iterations per query shape (default 1000)
 *   VEIL_BENCH_COLD_ITERS    cold prepare iterations per query shape (default 50)
 *   VEIL_BENCH_TIMEOUT_MS    limit of one delivery measurement (default 600000)
 *   VEIL_BENCH_PYTHON        interpreter of parts (c) and (g) (default /usr/bin/python3: pandas, no pyarrow; psycopg2 for g)
 *   VEIL_BENCH_PG_BIN        PostgreSQL binaries of part (g) (default /usr/lib/postgresql/15/bin)
 *
 * Output: the report on stdout, progress on stderr, a JSON summary in bench/results/latest.json.
 * Exit status 1 when anything failed (including a consistency check); missed targets are reported,
 * not failures.
 */
import { MAX_TRIAL_ROWS } from '../src/demo/trial-data-generator.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLD_TARGET_RATIO, DELIVERY_TARGET_RATIO, RAW_TARGET_RATIO, formatDeliveryReport, runDeliveryBenchmark, type DeliveryReport } from './delivery.ts';
import { formatRewriteReport, REWRITE_TARGET_P99_MS, roundLatency, runRewriteBenchmark, type RewriteReport } from './rewrite.ts';
import { AUDIT_TARGET_RATIO, formatAuditThroughputReport, runAuditThroughputBenchmark, type AuditThroughputReport } from './audit-throughput.ts';
import { formatPandasReport, PANDAS_TARGET_RATIO, runPandasBenchmark, type PandasReport } from './pandas.ts';
import { formatAuditRestartReport, RESTART_TARGET_SECONDS, runAuditRestartBenchmark, type AuditRestartReport } from './audit-restart.ts';
import { FAIRNESS_TARGET_RATIO, formatFairnessReport, runFairnessBenchmark, type FairnessReport } from './fair-admission.ts';
import { formatPgDoorReport, PG_DOOR_TARGET_RATIO, runPgDoorBenchmark, type PgDoorReport, type SystemSummary } from './pg-door.ts';
import { formatScaleReport, runScaleBenchmark, scaleJson, type ScaleReport } from './scale.ts';
import { formatTrinoReport, runTrinoBenchmark, type TrinoBenchReport } from './trino.ts';
import { formatControlStoreReport, runControlStoreBenchmark, type ControlStoreBenchReport } from './control-store.ts';
import { cacheJson, formatCacheReport, runColumnarCacheBenchmark, type CacheBenchReport } from './columnar-cache.ts';
import { envChoice, envInteger, errorMessage, median, progress, round } from './support.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'latest.json');

const PARTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'] as const;
type Part = (typeof PARTS)[number];

interface Config {
  readonly benchHome: string;
  readonly veilHome: string;
  readonly rows: number;
  readonly runs: number;
  readonly parts: readonly Part[];
  readonly clientMode: 'worker' | 'inline';
  readonly diagnostics: boolean;
  readonly rewriteIterations: number;
  readonly coldIterations: number;
  readonly timeoutMs: number;
}

function readConfig(): Config {
  const benchHome = path.resolve(process.env['VEIL_BENCH_HOME']?.trim() || path.join(REPO, '.bench-home'));
  const rows = envInteger('VEIL_BENCH_ROWS', 2_000_000, 1000);
  if (rows > MAX_TRIAL_ROWS) throw new Error(`VEIL_BENCH_ROWS must be at most ${MAX_TRIAL_ROWS.toLocaleString('en-US')} (the demo generator's participant ids)`);
  const partsText = (process.env['VEIL_BENCH_PARTS'] ?? PARTS.join(',')).toLowerCase();
  const parts = [...new Set(partsText.split(',').map((p) => p.trim()).filter((p) => p !== ''))];
  if (parts.length === 0 || !parts.every((p): p is Part => (PARTS as readonly string[]).includes(p))) throw new Error(`VEIL_BENCH_PARTS must list parts among ${PARTS.join(', ')} (got "${partsText}")`);
  return {
    benchHome,
    // One Veil home per data size, so switching sizes never regenerates or mixes data.
    veilHome: path.join(benchHome, `rows-${rows}`),
    rows,
    runs: envInteger('VEIL_BENCH_RUNS', 3),
    parts: parts.sort(),
    clientMode: envChoice('VEIL_BENCH_CLIENT', ['worker', 'inline'] as const, 'worker'),
    diagnostics: envChoice('VEIL_BENCH_DIAGNOSTICS', ['1', '0', 'true', 'false', 'yes', 'no'] as const, '1').match(/^(1|true|yes)$/) !== null,
    rewriteIterations: envInteger('VEIL_BENCH_REWRITE_ITERS', 1000, 10),
    coldIterations: envInteger('VEIL_BENCH_COLD_ITERS', 50, 5),
    timeoutMs: envInteger('VEIL_BENCH_TIMEOUT_MS', 600_000, 1000),
  };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The commit measured, and whether product files differed from it (uncommitted changes). */
function gitState(): { commit: string; dirty: boolean | null } {
  const run = (args: string[]): string | null => {
    const result = spawnSync('git', args, { cwd: REPO, encoding: 'utf8', timeout: 10_000 });
    return result.status === 0 ? result.stdout.trim() : null;
  };
  const commit = run(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const status = run(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'package.json', 'package-lock.json']);
  return { commit, dirty: status === null ? null : status !== '' };
}

function deliveryJson(report: DeliveryReport): unknown {
  return {
    rows_generated: report.rows,
    runs: report.runs,
    client: report.clientMode,
    alice_region: report.aliceRegion,
    setup_ms: round(report.setupMs, 0),
    target_ratio: DELIVERY_TARGET_RATIO,
    sources: report.sources.map((s) => ({
      source: s.source,
      dataset: s.dataset,
      source_file_bytes: s.sourceFileBytes,
      enforcement_ratio_masked_over_unmasked: round(s.enforcementRatio),
      cold_csv_ms: s.coldCsvMs.map((ms) => round(ms, 1)),
      cold_ratio_to_raw: round(s.coldRatioToRaw),
      cold_meets_target: s.coldRatioToRaw <= COLD_TARGET_RATIO,
      measurements: s.measurements.map((m) => ({
        kind: m.kind,
        label: m.label,
        diagnostic: m.diagnostic,
        median_ms: round(m.summary.median, 1),
        min_ms: round(m.summary.min, 1),
        max_ms: round(m.summary.max, 1),
        times_ms: m.timesMs,
        headers_ms_median: m.headersMsMedian === null ? null : round(m.headersMsMedian, 1),
        rows: m.rows,
        bytes: m.bytes,
        ratio_to_copy: round(m.ratioToCopy),
        paired_ratio_to_copy: round(m.pairedRatioToCopy),
        ratio_to_raw: round(m.ratioToRaw),
        ...(m.kind === 'http-csv' ? { meets_raw_target: m.ratioToRaw <= RAW_TARGET_RATIO } : {}),
        ...(m.kind === 'http-csv' || m.kind === 'http-arrow' ? { meets_target: m.ratioToCopy <= DELIVERY_TARGET_RATIO } : {}),
      })),
    })),
    checks: report.checks,
  };
}

function pgDoorJson(report: PgDoorReport): unknown {
  const side = (s: SystemSummary | null): unknown =>
    s === null
      ? null
      : {
          median_s: round(s.medianMs / 1000),
          min_s: round(s.minMs / 1000),
          max_s: round(s.maxMs / 1000),
          times_ms: s.timesMs,
          rows: s.rows,
          bytes: s.bytes,
          first_byte_s_median: s.firstByteMsMedian === null ? null : round(s.firstByteMsMedian / 1000),
          server_cpu_s_median: s.serverCpuMsMedian === null ? null : round(s.serverCpuMsMedian / 1000),
          client_cpu_s_median: s.clientCpuMsMedian === null ? null : round(s.clientCpuMsMedian / 1000),
          main_thread_cpu_s_median: s.mainThreadCpuMsMedian === null ? null : round(s.mainThreadCpuMsMedian / 1000),
        };
  return {
    skipped: report.skipped,
    rows_generated: report.rows,
    runs: report.runs,
    alice_region: report.aliceRegion,
    result_rows: report.resultRows,
    target_ratio_postgres_over_veil: PG_DOOR_TARGET_RATIO,
    setup_ms: round(report.setupMs, 0),
    paths: report.paths.map((p) => ({
      path: p.path,
      label: p.label,
      skipped: p.skipped,
      veil: side(p.veil),
      postgres: side(p.postgres),
      ratio_postgres_over_veil: round(p.ratio),
      paired_ratio: round(p.pairedRatio),
      meets_target: p.skipped === null ? p.meetsTarget : null,
      ...(Object.keys(p.extra).length === 0 ? {} : { client: p.extra }),
    })),
    diagnostics: report.diagnostics.map((d) => ({
      side: d.side,
      label: d.label,
      median_s: round(d.medianMs / 1000),
      times_ms: d.timesMs,
      rows: d.rows,
      bytes: d.bytes,
      ...(d.serverCpuMsMedian === null ? {} : { server_cpu_s_median: round(d.serverCpuMsMedian / 1000) }),
    })),
    postgres: report.postgres === null
      ? null
      : {
          version: report.postgres.version,
          settings: report.postgres.settings,
          load_s: round(report.postgres.loadMs / 1000, 1),
          table_bytes: report.postgres.tableBytes,
          pgcrypto: report.postgres.pgcrypto,
          rls_policy: report.postgres.rlsPolicy,
          view: report.postgres.view,
          plan: report.postgres.plan,
        },
    checks: report.checks,
  };
}

function rewriteJson(report: RewriteReport): unknown {
  return {
    columns: report.columns,
    policies: report.policies,
    datasets: report.datasets,
    shaping_policies: report.shapingPolicies,
    visible_columns: report.visibleColumns,
    masked_columns: report.maskedColumns,
    hidden_columns: report.hiddenColumns,
    row_filters: report.rowFilters,
    iterations: report.iterations,
    cold_iterations: report.coldIterations,
    target_p99_ms: REWRITE_TARGET_P99_MS,
    snapshot_reload_ms: roundLatency(report.snapshotReload),
    shapes: report.shapes.map((s) => ({
      shape: s.shape,
      sql: s.sql,
      rewritten_sql_chars: s.rewrittenSqlChars,
      rewritten_sql_preview: s.rewrittenSqlPreview,
      warm_ms: roundLatency(s.warm),
      repeat_ms: roundLatency(s.repeat),
      parse_baseline_ms: roundLatency(s.parseBaseline),
      cold_ms: roundLatency(s.cold),
      warm_breakdown_p50_ms: Object.fromEntries(Object.entries(s.breakdownP50).map(([k, v]) => [k, round(v)])),
      meets_target: s.meetsTarget,
    })),
  };
}

async function main(): Promise<number> {
  const config = readConfig();
  const started = new Date();
  const loadAtStart = os.loadavg();
  const git = gitState();
  progress(`config: rows ${config.rows}, runs ${config.runs}, parts ${config.parts.join(',')}, client ${config.clientMode}, home ${config.veilHome}`);
  let delivery: DeliveryReport | undefined;
  let rewrite: RewriteReport | undefined;
  let pandas: PandasReport | undefined;
  let auditThroughput: AuditThroughputReport | undefined;
  let auditRestart: AuditRestartReport | undefined;
  let fairness: FairnessReport | undefined;
  let pgDoor: PgDoorReport | undefined;
  let cache: CacheBenchReport | undefined;
  let scale: ScaleReport | undefined;
  const failures: string[] = [];

  if (config.parts.includes('a')) {
    try {
      delivery = await runDeliveryBenchmark({
        home: config.veilHome,
        rows: config.rows,
        runs: config.runs,
        clientMode: config.clientMode,
        diagnostics: config.diagnostics,
        timeoutMs: config.timeoutMs,
      });
      for (const c of delivery.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (a) failed: ${errorMessage(error)}`);
      progress(`part (a) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (config.parts.includes('b')) {
    try {
      rewrite = await runRewriteBenchmark({ iterations: config.rewriteIterations, warmup: 50, coldIterations: config.coldIterations });
    } catch (error) {
      failures.push(`part (b) failed: ${errorMessage(error)}`);
      progress(`part (b) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('c')) {
    try {
      pandas = await runPandasBenchmark({ home: config.veilHome, rows: config.rows, runs: config.runs });
      for (const c of pandas.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (c) failed: ${errorMessage(error)}`);
      progress(`part (c) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('d')) {
    try {
      auditThroughput = await runAuditThroughputBenchmark({
        benchHome: config.benchHome,
        rounds: envInteger('VEIL_BENCH_AUDIT_ROUNDS', 5),
        requestsPerRound: envInteger('VEIL_BENCH_AUDIT_REQUESTS', 300, 10),
        concurrency: 4,
      });
    } catch (error) {
      failures.push(`part (d) failed: ${errorMessage(error)}`);
      progress(`part (d) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('e')) {
    try {
      auditRestart = await runAuditRestartBenchmark({ benchHome: config.benchHome, records: envInteger('VEIL_BENCH_AUDIT_RECORDS', 1_000_000, 1000), runs: config.runs });
    } catch (error) {
      failures.push(`part (e) failed: ${errorMessage(error)}`);
      progress(`part (e) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('f')) {
    try {
      fairness = await runFairnessBenchmark({ benchHome: config.benchHome, samples: Math.max(5, config.runs) });
    } catch (error) {
      failures.push(`part (f) failed: ${errorMessage(error)}`);
      progress(`part (f) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('g')) {
    try {
      pgDoor = await runPgDoorBenchmark({ home: config.veilHome, rows: config.rows, runs: config.runs, diagnostics: config.diagnostics, timeoutMs: config.timeoutMs });
      for (const c of pgDoor.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (g) failed: ${errorMessage(error)}`);
      progress(`part (g) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('h')) {
    try {
      cache = await runColumnarCacheBenchmark({
        benchHome: config.benchHome,
        rows: config.rows,
        runs: config.runs,
        countIterations: envInteger('VEIL_BENCH_CACHE_ITERS', 200, 10),
        clientMode: config.clientMode,
        timeoutMs: config.timeoutMs,
      });
      for (const c of cache.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (h) failed: ${errorMessage(error)}`);
      progress(`part (h) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  if (config.parts.includes('i')) {
    try {
      const sizes = (process.env['VEIL_BENCH_SCALE_SIZES'] ?? '1000000,4000000,16000000').split(',').map((n) => Number(n.trim()));
      if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n >= 1000)) throw new Error('VEIL_BENCH_SCALE_SIZES must list row counts of at least 1000');
      scale = await runScaleBenchmark({ benchHome: config.benchHome, sizes, runs: config.runs, clientMode: config.clientMode, timeoutMs: config.timeoutMs });
      for (const c of scale.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (i) failed: ${errorMessage(error)}`);
      progress(`part (i) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  let trino: TrinoBenchReport | undefined;
  if (config.parts.includes('j')) {
    try {
      trino = await runTrinoBenchmark({ iterations: envInteger('VEIL_BENCH_TRINO_ITERS', 300, 10) });
      for (const c of trino.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (j) failed: ${errorMessage(error)}`);
      progress(`part (j) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  let controlStore: ControlStoreBenchReport | undefined;
  if (config.parts.includes('k')) {
    try {
      controlStore = await runControlStoreBenchmark({ iterations: envInteger('VEIL_BENCH_STORE_ITERS', 300, 10) });
      for (const c of controlStore.checks) if (!c.ok) failures.push(`check ${c.name}: ${c.detail}`);
    } catch (error) {
      failures.push(`part (k) failed: ${errorMessage(error)}`);
      progress(`part (k) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  const cpus = os.cpus();
  const header = [
    `Veil benchmark  ${started.toISOString()}  commit ${git.commit}${git.dirty === true ? ' + uncommitted changes in src' : ''}`,
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB; node ${process.version}, duckdb ${packageVersion('@duckdb/node-api')}`,
    `load average (1/5/15 min) at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${
      (loadAtStart[0] ?? 0) > 0.5 ? ' (busy at start: other work shares the machine, expect noise)' : ''
    }`,
  ];
  const sections = [header.join('\n')];
  if (delivery !== undefined) sections.push(formatDeliveryReport(delivery));
  if (rewrite !== undefined) sections.push(formatRewriteReport(rewrite));
  if (pandas !== undefined) sections.push(formatPandasReport(pandas));
  if (auditThroughput !== undefined) sections.push(formatAuditThroughputReport(auditThroughput));
  if (auditRestart !== undefined) sections.push(formatAuditRestartReport(auditRestart));
  if (fairness !== undefined) sections.push(formatFairnessReport(fairness));
  if (pgDoor !== undefined) sections.push(formatPgDoorReport(pgDoor));
  if (cache !== undefined) sections.push(formatCacheReport(cache));
  if (scale !== undefined) sections.push(formatScaleReport(scale));
  if (trino !== undefined) sections.push(formatTrinoReport(trino));
  if (controlStore !== undefined) sections.push(formatControlStoreReport(controlStore));
  if (failures.length > 0) sections.push(`FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.stdout.write(`\n${sections.join('\n\n')}\n`);

  const summary = {
    generated_at: started.toISOString(),
    duration_s: round((Date.now() - started.getTime()) / 1000, 1),
    command: 'npm run bench',
    git_commit: git.commit,
    src_uncommitted_changes: git.dirty,
    config: {
      rows: config.rows,
      runs: config.runs,
      parts: config.parts,
      client: config.clientMode,
      diagnostics: config.diagnostics,
      rewrite_iterations: config.rewriteIterations,
      cold_iterations: config.coldIterations,
      veil_home: config.veilHome,
    },
    machine: {
      cores: cpus.length,
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      memory_gib: round(os.totalmem() / 1024 ** 3, 1),
      load_at_start: loadAtStart.map((l) => round(l, 2)),
      load_at_end: os.loadavg().map((l) => round(l, 2)),
      node: process.version,
      duckdb_node_api: packageVersion('@duckdb/node-api'),
      apache_arrow: packageVersion('apache-arrow'),
    },
    delivery: delivery === undefined ? null : deliveryJson(delivery),
    rewrite: rewrite === undefined ? null : rewriteJson(rewrite),
    pandas:
      pandas === undefined
        ? null
        : {
            target_ratio: PANDAS_TARGET_RATIO,
            ratio_veil_to_raw: round(pandas.ratio),
            ratio_veil_csv_path_to_raw: round(pandas.csvRatio),
            meets_target: pandas.ratio <= PANDAS_TARGET_RATIO,
            median_s: pandas.medianSeconds,
            samples_s: pandas.samplesSeconds,
            result_rows: pandas.resultRows,
            dtypes: pandas.dtypes,
            python: pandas.python,
            pandas: pandas.pandas,
            client: pandas.client,
            pyarrow: pandas.pyarrow,
            checks: pandas.checks,
          },
    audit_throughput:
      auditThroughput === undefined
        ? null
        : {
            target_ratio: AUDIT_TARGET_RATIO,
            ratio_on_to_off: round(auditThroughput.ratio),
            meets_target: auditThroughput.ratio >= AUDIT_TARGET_RATIO,
            on_requests_per_s: round(auditThroughput.onPerSecond, 1),
            off_requests_per_s: round(auditThroughput.offPerSecond, 1),
            samples: auditThroughput.samples,
            rounds: auditThroughput.rounds,
            requests_per_round: auditThroughput.requestsPerRound,
            concurrency: auditThroughput.concurrency,
            audited_records: auditThroughput.auditedRecords,
          },
    audit_restart:
      auditRestart === undefined
        ? null
        : {
            target_seconds: RESTART_TARGET_SECONDS,
            records: auditRestart.records,
            restart_median_s: round(median(auditRestart.restartMs) / 1000, 2),
            meets_target: median(auditRestart.restartMs) < RESTART_TARGET_SECONDS * 1000,
            empty_restart_median_s: round(median(auditRestart.emptyRestartMs) / 1000, 2),
            ratio_to_empty: round(auditRestart.ratio),
            rebuild_s: round(auditRestart.rebuildMs / 1000, 2),
            restart_ms: auditRestart.restartMs.map((ms) => round(ms, 0)),
            empty_restart_ms: auditRestart.emptyRestartMs.map((ms) => round(ms, 0)),
            last_catch_up: auditRestart.lastCatchUp,
          },
    fairness:
      fairness === undefined
        ? null
        : {
            target_ratio: FAIRNESS_TARGET_RATIO,
            ratio_loaded_to_idle: round(fairness.ratio),
            meets_target: fairness.ratio <= FAIRNESS_TARGET_RATIO,
            idle_ms: fairness.idleMs.map((ms) => round(ms, 1)),
            loaded_ms: fairness.loadedMs.map((ms) => round(ms, 1)),
            heavy_outcomes: fairness.heavyOutcomes,
          },
    pg_door: pgDoor === undefined ? null : pgDoorJson(pgDoor),
    columnar_cache: cache === undefined ? null : cacheJson(cache),
    scale: scale === undefined ? null : scaleJson(scale),
    trino:
      trino === undefined
        ? null
        : { iterations: trino.iterations, planning_p50_ms: trino.planningP50Ms, questions: trino.rows.map((r) => ({ kind: r.kind, p50_ms: round(r.latency.p50, 3), p99_ms: round(r.latency.p99, 3), ratio_to_baseline_p50: r.ratio })) },
    control_store:
      controlStore === undefined
        ? null
        : {
            skipped: controlStore.skipped ?? null,
            iterations: controlStore.iterations,
            requests: controlStore.rows.map((r) => ({ kind: r.kind, sqlite_p50_ms: round(r.sqlite.p50, 3), postgres_p50_ms: round(r.postgres.p50, 3), postgres_p99_ms: round(r.postgres.p99, 3), ratio_p50: r.ratio })),
            propagation: controlStore.propagation,
          },
    ok: failures.length === 0,
    failures,
  };
  try {
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, JSON.stringify(summary, null, 2) + '\n');
    progress(`wrote ${path.relative(REPO, RESULTS_FILE)}`);
  } catch (error) {
    failures.push(`could not write ${RESULTS_FILE}: ${errorMessage(error)}`);
    progress(`could not write ${RESULTS_FILE}: ${errorMessage(error)}`);
  }
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; a lingering handle must not keep a finished benchmark alive.
    setTimeout(() => process.exit(code), 10_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
