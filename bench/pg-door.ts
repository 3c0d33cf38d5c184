/**
 * Part (g): alice's full scan of the generated trial through Veil's PostgreSQL door, next to
 * PostgreSQL 15 itself (started by the bench from Debian's package) holding the same rows behind
 * row-level security and a security_barrier masking view equivalent to alice's policy:
 *
 *   psql    `\copy (SELECT * FROM drug_xyz.trial_july2020) TO STDOUT WITH CSV`, piped to `wc -lc`
 *   pandas  `pandas.read_sql('SELECT * FROM drug_xyz.trial_july2020', psycopg2_connection)` with
 *           Debian's /usr/bin/python3 (bench/python/pg_read_sql.py)
 *
 * Per run, Veil and PostgreSQL are measured back to back (the order alternates between runs);
 * ratios are PostgreSQL time / Veil time (target: at least 3, Veil three times faster), medians of
 * the runs. Diagnostics per sample: time to the first byte on psql's stdout, CPU of the Veil
 * process (server, DuckDB threads included), of PostgreSQL's backends (and parallel workers) and of
 * the client; plus in-process breakdowns of the Veil side (DuckDB COPY, chunk stream, pg encoding).
 *
 * PostgreSQL runs as the `postgres` OS user (it refuses root) in a temporary data directory, on
 * loopback only, with fsync off (a benchmark, not a database); it is stopped and its directory
 * deleted whatever happens. Without /usr/lib/postgresql/15/bin the part is skipped, not failed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { RESTRICTED_ZIP3 } from '../src/demo/trial-data-generator.ts';
import { createGateway } from '../src/gateway/index.ts';
import { principalOf } from '../src/identity/index.ts';
import { startPgServer, type PgServer } from '../src/pgwire/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { errorMessage, formatBytes, formatCount, median, progress, round, table } from './support.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATASET = 'drug_xyz.trial_july2020';
const QUERY = `SELECT * FROM ${DATASET}`;
/** The target: PostgreSQL time / Veil time at least 3 on both paths. */
export const PG_DOOR_TARGET_RATIO = 3;
const PG_BIN = process.env['VEIL_BENCH_PG_BIN']?.trim() || '/usr/lib/postgresql/15/bin';
const PYTHON = process.env['VEIL_BENCH_PYTHON']?.trim() || '/usr/bin/python3';
const PG_DATABASE = 'veil_bench';
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface PgDoorOptions {
  readonly home: string;
  readonly rows: number;
  readonly runs: number;
  readonly diagnostics: boolean;
  readonly timeoutMs: number;
}

type System = 'veil' | 'postgres';
type PathName = 'psql' | 'pandas';

interface Sample {
  readonly system: System;
  readonly run: number;
  readonly ms: number;
  readonly rows: number;
  readonly bytes: number | null;
  /** psql: milliseconds until the first byte reached psql's stdout. */
  readonly firstByteMs: number | null;
  /** CPU of the serving side: the Veil process, or PostgreSQL's backends and workers. */
  readonly serverCpuMs: number | null;
  /** CPU of the client process (psql, or the Python process during read_sql). */
  readonly clientCpuMs: number | null;
  /** Veil only: the share of serverCpuMs spent on Node's main thread (JavaScript: encoding, sockets). */
  readonly mainThreadCpuMs: number | null;
}

export interface PathResult {
  readonly path: PathName;
  readonly label: string;
  readonly skipped: string | null;
  readonly veil: SystemSummary | null;
  readonly postgres: SystemSummary | null;
  /** Median PostgreSQL time / median Veil time. */
  readonly ratio: number;
  /** Median of the per-run ratios. */
  readonly pairedRatio: number;
  readonly meetsTarget: boolean;
  readonly extra: Record<string, unknown>;
}

export interface SystemSummary {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly timesMs: readonly number[];
  readonly rows: number;
  readonly bytes: number | null;
  readonly firstByteMsMedian: number | null;
  readonly serverCpuMsMedian: number | null;
  readonly clientCpuMsMedian: number | null;
  readonly mainThreadCpuMsMedian: number | null;
}

export interface Diagnostic {
  readonly side: 'veil' | 'postgres';
  readonly label: string;
  readonly medianMs: number;
  readonly timesMs: readonly number[];
  readonly rows: number;
  readonly bytes: number | null;
  /** PostgreSQL diagnostics: CPU of the backends and workers. */
  readonly serverCpuMsMedian: number | null;
}

export interface PgDoorReport {
  /** Why the part did not run (PostgreSQL missing), or null. */
  readonly skipped: string | null;
  readonly rows: number;
  readonly runs: number;
  readonly aliceRegion: string;
  readonly resultRows: number;
  readonly paths: readonly PathResult[];
  readonly diagnostics: readonly Diagnostic[];
  readonly postgres: {
    readonly version: string;
    readonly settings: readonly string[];
    readonly loadMs: number;
    readonly tableBytes: number;
    readonly rlsPolicy: string;
    readonly view: string;
    readonly plan: string;
    readonly pgcrypto: boolean;
  } | null;
  readonly setupMs: number;
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail: string }[];
}

function skippedReport(options: PgDoorOptions, reason: string): PgDoorReport {
  return { skipped: reason, rows: options.rows, runs: options.runs, aliceRegion: '', resultRows: 0, paths: [], diagnostics: [], postgres: null, setupMs: 0, checks: [] };
}

export async function runPgDoorBenchmark(options: PgDoorOptions): Promise<PgDoorReport> {
  for (const tool of ['initdb', 'pg_ctl', 'postgres', 'psql']) {
    if (!existsSync(path.join(PG_BIN, tool))) {
      const reason = `${path.join(PG_BIN, tool)} is missing: install PostgreSQL 15 (apt-get install postgresql, Debian bookworm's PostgreSQL 15) or set VEIL_BENCH_PG_BIN`;
      progress(`pg-door: skipped: ${reason}`);
      return skippedReport(options, reason);
    }
  }
  const setupStarted = performance.now();
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
    if (!ok) progress(`CHECK FAILED: ${name}: ${detail}`);
  };

  progress(`pg-door: opening Veil home ${options.home}`);
  const runtime = await openRuntime(options.home);
  let door: PgServer | undefined;
  let postgres: PostgresCluster | undefined;
  try {
    const demo = await setupDemo(runtime, options.rows, (line) => progress(`pg-door: ${line}`));
    progress(`pg-door: demo data ${demo.generated ? 'generated' : 'reused'}`);
    const csvFile = path.join(runtime.home.storageRoot, (await runtime.catalog.datasets.get(DATASET)).location);
    const region = (await runtime.users.get('alice')).attributes['region'];
    if (typeof region !== 'string') throw new Error('demo user alice has no single region attribute');

    const doorErrors: string[] = [];
    door = await startPgServer(createGateway(runtime), { port: 0, host: '127.0.0.1', logError: (error) => doorErrors.push(errorMessage(error)) });
    const veilTarget: Target = { host: '127.0.0.1', port: door.address.port, user: 'alice', password: runtime.issuer.issue('alice', 24 * 3600), dbname: 'veil' };
    progress(`pg-door: Veil's pg door on 127.0.0.1:${veilTarget.port}`);

    postgres = await PostgresCluster.start();
    const loaded = await postgres.load(csvFile, region);
    const pgTarget: Target = { host: '127.0.0.1', port: postgres.port, user: 'alice', password: postgres.alicePassword, dbname: PG_DATABASE };
    check('PostgreSQL holds every generated row', loaded.tableRows === options.rows, `table has ${loaded.tableRows} rows, generated ${options.rows}`);

    const targets: Record<System, Target> = { veil: veilTarget, postgres: pgTarget };
    const serverCpu: Record<System, () => number> = {
      veil: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1000;
      },
      postgres: () => postgres?.cpuMs() ?? Number.NaN,
    };

    // Warm-up: page cache, JIT, Veil's prepared-query cache, PostgreSQL's buffers; also the first
    // row-count comparison.
    progress('pg-door: warm-up (one full psql scan per system)');
    for (const system of ['veil', 'postgres'] as const) {
      const warm = await psqlCopy(targets[system], options.timeoutMs);
      progress(`pg-door: warm-up ${system}: ${(warm.ms / 1000).toFixed(2)} s, ${formatCount(warm.rows)} rows, ${formatBytes(warm.bytes)}`);
    }
    const setupMs = performance.now() - setupStarted;

    // psql: interleaved runs, order alternating. With diagnostics, each run also measures
    // PostgreSQL without masks (same RLS) and with parallel query forced, to show what its time is.
    const psqlSamples: Sample[] = [];
    const pgDiagnostics = options.diagnostics ? PG_DIAGNOSTICS : [];
    const pgDiagSamples = new Map<string, { ms: number; rows: number; bytes: number; cpuMs: number }[]>();
    for (let run = 1; run <= options.runs; run++) {
      for (const d of pgDiagnostics) {
        await settle();
        const cpuBefore = serverCpu.postgres();
        const result = await psqlCopy(pgTarget, options.timeoutMs, d.query, d.pgOptions);
        await settle();
        const cpuMs = serverCpu.postgres() - cpuBefore;
        pgDiagSamples.set(d.label, [...(pgDiagSamples.get(d.label) ?? []), { ms: result.ms, rows: result.rows, bytes: result.bytes, cpuMs }]);
        progress(`pg-door diag run ${run}/${options.runs} psql   ${d.label}: ${(result.ms / 1000).toFixed(2)} s, ${formatCount(result.rows)} rows, ${formatBytes(result.bytes)}; server CPU ${(cpuMs / 1000).toFixed(2)} s`);
      }
      for (const system of order(run)) {
        await settle();
        const cpuBefore = serverCpu[system]();
        const mainBefore = mainThreadCpuMs();
        const result = await psqlCopy(targets[system], options.timeoutMs);
        await settle();
        const cpuAfter = serverCpu[system]();
        const mainThread = system === 'veil' ? mainThreadCpuMs() - mainBefore : null;
        const sample: Sample = { system, run, ms: result.ms, rows: result.rows, bytes: result.bytes, firstByteMs: result.firstByteMs, serverCpuMs: cpuAfter - cpuBefore, clientCpuMs: result.clientCpuMs, mainThreadCpuMs: mainThread };
        psqlSamples.push(sample);
        progress(`pg-door run ${run}/${options.runs} psql   ${system.padEnd(8)} ${(sample.ms / 1000).toFixed(2)} s (first byte ${(result.firstByteMs / 1000).toFixed(2)} s), ${formatCount(sample.rows)} rows, ${formatBytes(result.bytes)}; server CPU ${((sample.serverCpuMs ?? 0) / 1000).toFixed(2)} s${mainThread === null ? '' : ` (main thread ${(mainThread / 1000).toFixed(2)} s)`}, psql CPU ${((sample.clientCpuMs ?? 0) / 1000).toFixed(2)} s`);
      }
    }

    // pandas.read_sql through psycopg2: one Python process, interleaved the same way.
    let pandasSamples: Sample[] = [];
    let pandasSkipped: string | null = null;
    let pandasExtra: Record<string, unknown> = {};
    const probe = spawnSync(PYTHON, ['-c', 'import pandas, psycopg2'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      pandasSkipped = `${PYTHON} cannot import pandas and psycopg2 (apt-get install python3-pandas python3-psycopg2): ${(probe.stderr ?? probe.error?.message ?? '').trim().split('\n').at(-1) ?? ''}`;
      progress(`pg-door: pandas path skipped: ${pandasSkipped}`);
    } else {
      const result = await runPandas(targets, options.runs, serverCpu, options.timeoutMs);
      pandasSamples = result.samples;
      pandasExtra = result.extra;
    }

    // In-process breakdown of the Veil side, as the door runs it (diagnostic).
    const diagnostics: Diagnostic[] = pgDiagnostics.map((d) => {
      const list = pgDiagSamples.get(d.label) ?? [];
      return {
        side: 'postgres',
        label: d.label,
        medianMs: median(list.map((x) => x.ms)),
        timesMs: list.map((x) => round(x.ms, 1)),
        rows: list[0]?.rows ?? 0,
        bytes: list[0]?.bytes ?? null,
        serverCpuMsMedian: median(list.map((x) => x.cpuMs)),
      };
    });
    if (options.diagnostics) diagnostics.push(...(await veilBreakdown(runtime, options.runs)));
    for (const d of diagnostics.filter((x) => x.side === 'postgres')) {
      const rows = [...new Set((pgDiagSamples.get(d.label) ?? []).map((x) => x.rows))];
      check(`psql diag: ${d.label} rows`, rows.length === 1 && rows[0] === loaded.aliceRows, `${rows.join('/')} rows, expected ${loaded.aliceRows}`);
    }

    const paths = [
      summarizePath('psql', "psql \\copy (SELECT * FROM …) TO STDOUT WITH CSV | wc -lc", psqlSamples, null, {}),
      summarizePath('pandas', "pandas.read_sql('SELECT * FROM …', psycopg2 connection)", pandasSamples, pandasSkipped, pandasExtra),
    ];
    const expected = loaded.aliceRows;
    for (const p of paths) {
      if (p.skipped !== null) continue;
      for (const system of ['veil', 'postgres'] as const) {
        const samples = (p.path === 'psql' ? psqlSamples : pandasSamples).filter((s) => s.system === system);
        const rows = [...new Set(samples.map((s) => s.rows))];
        check(`${p.path}: ${system} rows`, rows.length === 1 && rows[0] === expected, `${system} delivered ${rows.join('/')} rows; alice's rows in PostgreSQL (count as alice) ${expected}`);
      }
    }
    const shapes = pandasExtra['shapes'] as Record<System, { columns: number; dtypes: Record<string, string> }> | undefined;
    if (pandasSkipped === null) {
      check('pandas: same columns from both systems', shapes?.veil?.columns === shapes?.postgres?.columns && shapes?.veil?.columns === 14, `Veil ${shapes?.veil?.columns} columns, PostgreSQL ${shapes?.postgres?.columns}`);
    }
    const psqlBytes = (system: System): number[] => [...new Set(psqlSamples.filter((s) => s.system === system).map((s) => s.bytes ?? -1))];
    check('psql: same bytes on every run', psqlBytes('veil').length === 1 && psqlBytes('postgres').length === 1, `Veil ${psqlBytes('veil').join('/')}, PostgreSQL ${psqlBytes('postgres').join('/')}`);
    check("pg door: no internal errors", doorErrors.length === 0, doorErrors.slice(0, 3).join('; ').slice(0, 500));

    return {
      skipped: null,
      rows: options.rows,
      runs: options.runs,
      aliceRegion: region,
      resultRows: expected,
      paths,
      diagnostics,
      postgres: {
        version: loaded.version,
        settings: postgres.settings,
        loadMs: loaded.loadMs,
        tableBytes: loaded.tableBytes,
        rlsPolicy: loaded.rlsPolicy,
        view: loaded.view,
        plan: loaded.plan,
        pgcrypto: loaded.pgcrypto,
      },
      setupMs,
      checks,
    };
  } finally {
    await door?.close().catch((error: unknown) => progress(`pg-door: closing the door: ${errorMessage(error)}`));
    postgres?.stop();
    await runtime.close();
  }
}

function order(run: number): System[] {
  return run % 2 === 1 ? ['veil', 'postgres'] : ['postgres', 'veil'];
}

/** A short pause so a finished backend is reaped (its CPU lands in the postmaster's children time). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 150));
}

function summarizePath(pathName: PathName, label: string, samples: readonly Sample[], skipped: string | null, extra: Record<string, unknown>): PathResult {
  const of = (system: System): SystemSummary | null => {
    const list = samples.filter((s) => s.system === system);
    if (list.length === 0) return null;
    const med = (values: (number | null)[]): number | null => {
      const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
      return present.length === 0 ? null : median(present);
    };
    const times = list.map((s) => s.ms);
    return {
      medianMs: median(times),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      timesMs: times.map((t) => round(t, 1)),
      rows: list[0]?.rows ?? 0,
      bytes: list[0]?.bytes ?? null,
      firstByteMsMedian: med(list.map((s) => s.firstByteMs)),
      serverCpuMsMedian: med(list.map((s) => s.serverCpuMs)),
      clientCpuMsMedian: med(list.map((s) => s.clientCpuMs)),
      mainThreadCpuMsMedian: med(list.map((s) => s.mainThreadCpuMs)),
    };
  };
  const veil = of('veil');
  const pg = of('postgres');
  const ratio = veil !== null && pg !== null ? pg.medianMs / veil.medianMs : Number.NaN;
  const runs = [...new Set(samples.map((s) => s.run))];
  const paired = runs
    .map((run) => {
      const v = samples.find((s) => s.run === run && s.system === 'veil');
      const p = samples.find((s) => s.run === run && s.system === 'postgres');
      return v !== undefined && p !== undefined ? p.ms / v.ms : Number.NaN;
    })
    .filter(Number.isFinite);
  return { path: pathName, label, skipped, veil, postgres: pg, ratio, pairedRatio: paired.length === 0 ? Number.NaN : median(paired), meetsTarget: ratio >= PG_DOOR_TARGET_RATIO, extra };
}

/** CPU of this process's main thread (Node's JavaScript thread), from /proc; NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

// ---- clients -------------------------------------------------------------------------------

interface Target {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dbname: string;
}

function clientEnv(target: Target): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGPASSWORD: target.password,
    PGDATABASE: target.dbname,
    // Same connection on both sides: plain TCP on loopback, no TLS or GSS negotiation.
    PGSSLMODE: 'disable',
    PGGSSENCMODE: 'disable',
    PGAPPNAME: 'veil-bench',
    PGCONNECT_TIMEOUT: '30',
  };
}

/**
 * psql's `\copy (query) TO STDOUT WITH CSV` into a pipe read by `wc -lc`, under bash so that the
 * time of the first byte on psql's stdout (dd reads exactly one byte first) and psql's CPU time
 * (bash's `time`) are known. Times are taken by the script itself (no Node or spawn overhead inside).
 */
const PSQL_SCRIPT = `
set -o pipefail
TIMEFORMAT='@psql_cpu %U %S'
echo "@start $(date +%s%N)" >&2
{ time "$@"; } | { dd bs=1 count=1 of=/dev/null status=none; echo "@first_byte $(date +%s%N)" >&2; echo "@count $(wc -lc)" >&2; }
rc=$?
echo "@end $(date +%s%N)" >&2
exit $rc
`;

interface PsqlResult {
  readonly ms: number;
  readonly firstByteMs: number;
  readonly rows: number;
  readonly bytes: number;
  readonly clientCpuMs: number;
}

function psqlCopy(target: Target, timeoutMs: number, query = QUERY, pgOptions?: string): Promise<PsqlResult> {
  const args = ['-c', PSQL_SCRIPT, 'bash', path.join(PG_BIN, 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy (${query}) TO STDOUT WITH CSV`];
  return new Promise((resolve, reject) => {
    const env = clientEnv(target);
    if (pgOptions !== undefined) env['PGOPTIONS'] = pgOptions;
    const child = spawn('bash', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const marker = (name: string): string | undefined => new RegExp(`^@${name} (.*)$`, 'm').exec(stderr)?.[1]?.trim();
      const other = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('@')).join('\n');
      if (code !== 0) {
        reject(new Error(`psql \\copy against ${target.host}:${target.port} exited with ${code ?? signal}${signal === 'SIGKILL' ? ' (timeout)' : ''}: ${other.slice(0, 600)}`));
        return;
      }
      const start = Number(marker('start'));
      const firstByte = Number(marker('first_byte'));
      const end = Number(marker('end'));
      const [lines = Number.NaN, bytes = Number.NaN] = (marker('count') ?? '').split(/\s+/).map(Number);
      const cpu = (marker('psql_cpu') ?? '').split(/\s+/).map(Number);
      if (other !== '') progress(`pg-door: psql said: ${other.slice(0, 300)}`);
      resolve({
        ms: (end - start) / 1e6,
        firstByteMs: (firstByte - start) / 1e6,
        // dd took the first byte (never a newline: the first field is not empty).
        rows: lines,
        bytes: bytes + (lines > 0 || bytes > 0 ? 1 : 0),
        clientCpuMs: ((cpu[0] ?? Number.NaN) + (cpu[1] ?? Number.NaN)) * 1000,
      });
    });
  });
}

/**
 * bench/python/pg_read_sql.py measures read_sql; around each measurement it stops at "@begin" and
 * "@end" until this side has read the CPU counters, so the server CPU of each sample is known.
 */
async function runPandas(
  targets: Record<System, Target>,
  runs: number,
  serverCpu: Record<System, () => number>,
  timeoutMs: number,
): Promise<{ samples: Sample[]; extra: Record<string, unknown> }> {
  const config = {
    sql: QUERY,
    runs,
    order: Array.from({ length: runs }, (_, i) => order(i + 1)),
    targets: Object.fromEntries(Object.entries(targets).map(([k, t]) => [k, { host: t.host, port: t.port, user: t.user, password: t.password, dbname: t.dbname, sslmode: 'disable', gssencmode: 'disable', application_name: 'veil-bench' }])),
  };
  progress(`pg-door: running ${PYTHON} bench/python/pg_read_sql.py (${runs} interleaved runs)`);
  const child = spawn(PYTHON, [path.join(REPO, 'bench', 'python', 'pg_read_sql.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.write(`${JSON.stringify(config)}\n`);
  const samples: Sample[] = [];
  let final: Record<string, unknown> | undefined;
  let stderr = '';
  let cpuBefore = 0;
  let mainBefore = 0;
  let buffered = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs * (2 * runs + 2));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') progress(line.trim());
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`cannot run ${PYTHON}: ${error.message}`)));
    child.on('close', (code) => resolve(code));
  });
  const handle = async (line: string): Promise<void> => {
    if (line.startsWith('@begin ')) {
      const { system } = JSON.parse(line.slice(7)) as { system: System };
      await settle();
      cpuBefore = serverCpu[system]();
      mainBefore = mainThreadCpuMs();
      child.stdin.write('go\n');
    } else if (line.startsWith('@end ')) {
      const m = JSON.parse(line.slice(5)) as { system: System; run: number; seconds: number; rows: number; cpu_seconds: number };
      await settle();
      const cpuAfter = serverCpu[m.system]();
      const mainThread = m.system === 'veil' ? mainThreadCpuMs() - mainBefore : null;
      const sample: Sample = { system: m.system, run: m.run, ms: m.seconds * 1000, rows: m.rows, bytes: null, firstByteMs: null, serverCpuMs: cpuAfter - cpuBefore, clientCpuMs: m.cpu_seconds * 1000, mainThreadCpuMs: mainThread };
      samples.push(sample);
      progress(`pg-door run ${m.run}/${runs} pandas ${m.system.padEnd(8)} ${m.seconds.toFixed(2)} s, ${formatCount(m.rows)} rows; server CPU ${((sample.serverCpuMs ?? 0) / 1000).toFixed(2)} s${mainThread === null ? '' : ` (main thread ${(mainThread / 1000).toFixed(2)} s)`}, python CPU ${m.cpu_seconds.toFixed(2)} s`);
      child.stdin.write('go\n');
    } else if (line.startsWith('{')) {
      final = JSON.parse(line) as Record<string, unknown>;
    }
  };
  let chain = Promise.resolve();
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') chain = chain.then(() => handle(line));
      newline = buffered.indexOf('\n');
    }
  });
  try {
    const code = await exited;
    await chain;
    if (code !== 0) throw new Error(`pg_read_sql.py exited with ${code}: ${stderr.split('\n').slice(-8).join('\n')}`);
    if (final === undefined) throw new Error('pg_read_sql.py printed no result');
    return { samples, extra: final };
  } finally {
    clearTimeout(timer);
  }
}

// ---- Veil in-process breakdown ---------------------------------------------------------------

/**
 * Where the door's time goes, inside this process: DuckDB writing the same rewritten query as CSV
 * to a file (its fastest path), pulling the result chunks without conversion, and pulling them
 * through the door's own text encoder and COPY framing (what the door does per chunk, without the
 * socket). Interleaved, medians.
 */
async function veilBreakdown(runtime: VeilRuntime, runs: number): Promise<Diagnostic[]> {
  const alice = principalOf(await runtime.users.get('alice'));
  const prepared = await runtime.queries.prepare(alice, QUERY);
  let encodeRows: ((chunk: import('../src/engine/index.ts').DuckDBDataChunk) => Buffer) | null = null;
  let dataRows: ((chunk: import('../src/engine/index.ts').DuckDBDataChunk) => Buffer) | null = null;
  try {
    const values = await import('../src/pgwire/pg-values.ts');
    const copy = await import('../src/pgwire/pg-copy.ts');
    let encoder: ReturnType<typeof values.createRowEncoder> | undefined;
    encodeRows = (chunk) => copy.encodeCopyRows(encoder!(chunk), { format: 'csv', delimiter: ',', nullString: '' });
    dataRows = (chunk) => encoder!(chunk);
    const probe = await runtime.queries.open(prepared);
    encoder = values.createRowEncoder(probe.columns, probe.columns.map(() => 0));
    probe.close();
  } catch (error) {
    progress(`pg-door: the door's encoder is not reachable for the breakdown: ${errorMessage(error)}`);
  }
  const spec: { label: string; work: () => Promise<{ rows: number; bytes: number | null }> }[] = [
    {
      label: 'DuckDB COPY of the rewritten query → CSV file',
      work: async () => {
        const target = path.join(runtime.home.spoolDirectory, `bench-pg-${randomBytes(6).toString('hex')}.csv`);
        try {
          const rows = await runtime.engine.copyTo(prepared.sql, target, 'FORMAT csv, HEADER false', { timeoutMs: 600_000 });
          return { rows, bytes: statSync(target).size };
        } finally {
          rmSync(target, { force: true });
        }
      },
    },
    {
      label: 'chunk stream, no conversion',
      work: async () => drain(runtime, prepared, null),
    },
  ];
  if (dataRows !== null) spec.push({ label: 'chunk stream + pg text DataRows (what a SELECT sends)', work: async () => drain(runtime, prepared, dataRows) });
  if (encodeRows !== null) spec.push({ label: 'chunk stream + pg text DataRows + COPY CSV re-encoding (what \\copy sends)', work: async () => drain(runtime, prepared, encodeRows) });
  const times = new Map<string, number[]>();
  const shapes = new Map<string, { rows: number; bytes: number | null }>();
  for (let run = 1; run <= runs; run++) {
    for (const s of spec) {
      const started = performance.now();
      const shape = await s.work();
      const ms = performance.now() - started;
      times.set(s.label, [...(times.get(s.label) ?? []), ms]);
      shapes.set(s.label, shape);
      progress(`pg-door diag run ${run}/${runs} ${s.label}: ${(ms / 1000).toFixed(2)} s, ${formatCount(shape.rows)} rows${shape.bytes === null ? '' : `, ${formatBytes(shape.bytes)}`}`);
    }
  }
  return spec.map((s) => {
    const list = times.get(s.label) ?? [];
    return { side: 'veil', label: s.label, medianMs: median(list), timesMs: list.map((t) => round(t, 1)), rows: shapes.get(s.label)?.rows ?? 0, bytes: shapes.get(s.label)?.bytes ?? null, serverCpuMsMedian: null };
  });
}

async function drain(
  runtime: VeilRuntime,
  prepared: import('../src/query/index.ts').PreparedQuery,
  encode: ((chunk: import('../src/engine/index.ts').DuckDBDataChunk) => Buffer) | null,
): Promise<{ rows: number; bytes: number | null }> {
  const stream = await runtime.queries.open(prepared);
  let rows = 0;
  let bytes = 0;
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) {
      rows += chunk.rowCount;
      if (encode !== null) bytes += encode(chunk).length;
    }
  } finally {
    stream.close();
  }
  return { rows, bytes: encode === null ? null : bytes };
}

// ---- PostgreSQL ------------------------------------------------------------------------------

const TABLE_DDL = `CREATE TABLE private.trial_july2020 (
  participant_id   text,
  full_name        text,
  email            text,
  ssn              text,
  date_of_birth    date,
  zip              text,
  country          text,
  site_id          text,
  arm              text,
  dose_mg          double precision,
  outcome_score    double precision,
  consent_research boolean,
  adverse_event    boolean,
  enrolled_at      timestamp
)`;

/**
 * alice's row filter (demo/policies.yaml, data-science-own-region: country = user_attribute('region')):
 * the region comes from an attribute table by current_user (one InitPlan per query, like Veil's
 * constant). FORCE makes it bind the table owner too, who owns the masking view: a view reads its
 * table with its owner's rights, so without FORCE the policy would not apply through the view.
 */
const RLS_POLICY = `CREATE POLICY data_science_own_region ON private.trial_july2020 FOR SELECT TO PUBLIC
  USING (country = (SELECT a.region FROM private.user_attributes a WHERE a.user_name = current_user))`;

/**
 * alice's masks (data-science-read) in PostgreSQL, the same kind of work per cell as Veil's macros
 * (src/policy/transforms.ts): tokenize = keyed HMAC-SHA256 (pgcrypto; the key is read from a table
 * only the owner can read, so it is not in the view text), null, mask_show_last(4) with a regex over
 * the masked prefix, email_domain with a regex, year with the HIPAA clamp, zip3 with the format
 * check and the restricted-prefix list.
 */
function maskingView(pgcrypto: boolean): string {
  const restricted = `'{${RESTRICTED_ZIP3.join(',')}}'::text[]`;
  const token = pgcrypto
    ? `'tok_' || left(encode(public.hmac(t.participant_id, (SELECT k.key FROM private.masking_key k), 'sha256'), 'hex'), 24)`
    : // Without pgcrypto: the built-in sha256() over key and value (one hash instead of HMAC's two).
      `'tok_' || left(encode(sha256(convert_to((SELECT k.key FROM private.masking_key k) || ':text:' || t.participant_id, 'UTF8')), 'hex'), 24)`;
  return `CREATE VIEW drug_xyz.trial_july2020 WITH (security_barrier) AS
SELECT
  CASE WHEN t.participant_id IS NULL THEN NULL ELSE ${token} END AS participant_id,
  NULL::text AS full_name,
  CASE WHEN t.email IS NULL THEN NULL WHEN strpos(t.email, '@') > 0 THEN 'XXXXX@' || substring(t.email FROM '@([^@]*)$') ELSE 'XXXXX' END AS email,
  CASE WHEN length(t.ssn) > 4 THEN regexp_replace(left(t.ssn, length(t.ssn) - 4), '[[:alnum:]]', 'X', 'g') || right(t.ssn, 4)
       ELSE regexp_replace(t.ssn, '[[:alnum:]]', 'X', 'g') END AS ssn,
  CASE WHEN t.date_of_birth IS NULL THEN NULL
       WHEN extract(year FROM current_date) - extract(year FROM t.date_of_birth) > 89 THEN make_date(extract(year FROM current_date)::int - 90, 1, 1)
       ELSE make_date(extract(year FROM t.date_of_birth)::int, 1, 1) END AS date_of_birth,
  CASE WHEN t.zip IS NULL THEN NULL
       WHEN lpad(t.zip, 5, '0') !~ '^[0-9]{5}([- ]?[0-9]{4})?$' THEN NULL
       WHEN left(lpad(t.zip, 5, '0'), 3) = ANY (${restricted}) THEN '000'
       ELSE left(lpad(t.zip, 5, '0'), 3) END AS zip,
  t.country, t.site_id, t.arm, t.dose_mg, t.outcome_score, t.consent_research, t.adverse_event, t.enrolled_at
FROM private.trial_july2020 t`;
}

/** Diagnostic only: the same rows behind the same RLS policy, without masks. */
const UNMASKED_VIEW = `CREATE VIEW drug_xyz.trial_july2020_unmasked WITH (security_barrier) AS SELECT * FROM private.trial_july2020`;

/** PostgreSQL diagnostics of the psql path (not part of the ratio). */
const PG_DIAGNOSTICS: readonly { label: string; query: string; pgOptions?: string }[] = [
  { label: 'PostgreSQL, same RLS, no masks (view drug_xyz.trial_july2020_unmasked)', query: `SELECT * FROM ${DATASET}_unmasked` },
  { label: 'PostgreSQL, masked view, parallel query forced (parallel_setup_cost = parallel_tuple_cost = 0)', query: QUERY, pgOptions: '-c parallel_setup_cost=0 -c parallel_tuple_cost=0' },
];

/** Settings beyond initdb's defaults. */
const PG_SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  // A benchmark cluster thrown away afterwards: no durability (affects the load only, not reads).
  'fsync = off',
  'synchronous_commit = off',
  'full_page_writes = off',
  'max_wal_size = 8GB',
  // Large enough that the whole table stays in PostgreSQL's own buffers (no ring-buffer scans).
  'shared_buffers = 2GB',
  'work_mem = 64MB',
];

class PostgresCluster {
  private stopped = false;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.stop();
    process.kill(process.pid, signal);
  };

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly superPassword: string,
    readonly alicePassword: string,
    readonly settings: readonly string[],
  ) {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** initdb + pg_ctl start as the postgres OS user, in a fresh temporary directory. */
  static async start(): Promise<PostgresCluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'veil-bench-pg-'));
    const superPassword = randomBytes(18).toString('base64url');
    const alicePassword = randomBytes(18).toString('base64url');
    const port = await freePort();
    const settings = [`port = ${port}`, ...PG_SETTINGS];
    const cluster = new PostgresCluster(dir, port, superPassword, alicePassword, settings);
    try {
      const owner = osUser('postgres');
      if (owner !== null) chownSync(dir, owner.uid, owner.gid);
      const pwfile = path.join(dir, 'pwfile');
      writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
      if (owner !== null) chownSync(pwfile, owner.uid, owner.gid);
      progress(`pg-door: initdb ${cluster.dataDir}${owner === null ? '' : ' (as the postgres OS user)'}`);
      cluster.asPostgres('initdb', ['-D', cluster.dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
      rmSync(pwfile, { force: true });
      appendFileSync(path.join(cluster.dataDir, 'postgresql.conf'), `\n# veil bench (part g)\n${settings.join('\n')}\n`);
      cluster.asPostgres('pg_ctl', ['-D', cluster.dataDir, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '120', 'start']);
      progress(`pg-door: PostgreSQL started on 127.0.0.1:${port} (fsync=off, synchronous_commit=off, full_page_writes=off: benchmark only)`);
      return cluster;
    } catch (error) {
      cluster.stop();
      throw error;
    }
  }

  private asPostgres(tool: string, args: readonly string[]): string {
    const binary = path.join(PG_BIN, tool);
    const runAs = process.getuid?.() === 0 ? ['/usr/sbin/runuser', '-u', 'postgres', '--'] : [];
    const [command, ...rest] = [...runAs, binary, ...args];
    const result = spawnSync(command!, rest, { encoding: 'utf8', cwd: this.dir, timeout: 180_000 });
    if (result.status !== 0) {
      const log = existsSync(path.join(this.dir, 'postgres.log')) ? readFileSync(path.join(this.dir, 'postgres.log'), 'utf8').slice(-1500) : '';
      throw new Error(`${tool} failed (${result.status ?? result.signal ?? result.error?.message}): ${(result.stderr || result.stdout || '').slice(-1500)}${log === '' ? '' : `\nlog: ${log}`}`);
    }
    return result.stdout;
  }

  /** psql as the superuser (from this process: it reads the CSV file as a client). */
  psql(database: string, sql: string, timeoutMs = 3_600_000): Promise<string> {
    return runPsql({ host: '127.0.0.1', port: this.port, user: 'postgres', password: this.superPassword, dbname: database }, sql, timeoutMs);
  }

  /** Roles, the table and its rows, RLS, the masking view, grants; then counts as alice. */
  async load(csvFile: string, region: string): Promise<{
    tableRows: number;
    aliceRows: number;
    loadMs: number;
    tableBytes: number;
    version: string;
    rlsPolicy: string;
    view: string;
    plan: string;
    pgcrypto: boolean;
  }> {
    const version = (await this.psql('postgres', 'SELECT version()')).trim();
    const available = (await this.psql('postgres', "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgcrypto'")).trim() === '1';
    if (!available) progress('pg-door: pgcrypto is not available (apt-get install postgresql-contrib-15?): tokenize uses sha256() of key and value instead of hmac()');
    await this.psql(
      'postgres',
      `CREATE ROLE trial_owner NOLOGIN;
       CREATE ROLE data_science NOLOGIN;
       CREATE ROLE alice LOGIN PASSWORD ${sqlLiteral(this.alicePassword)} IN ROLE data_science;
       CREATE DATABASE ${PG_DATABASE} OWNER trial_owner;`,
    );
    const view = maskingView(available);
    const started = performance.now();
    progress(`pg-door: loading ${csvFile} into PostgreSQL (\\copy … FROM, then VACUUM FREEZE ANALYZE)`);
    await this.psql(
      PG_DATABASE,
      `REVOKE ALL ON DATABASE ${PG_DATABASE} FROM PUBLIC;
       GRANT CONNECT ON DATABASE ${PG_DATABASE} TO data_science;
       ${available ? 'CREATE EXTENSION pgcrypto;' : ''}
       CREATE SCHEMA private AUTHORIZATION trial_owner;
       CREATE SCHEMA drug_xyz AUTHORIZATION trial_owner;
       SET ROLE trial_owner;
       ${TABLE_DDL};
       \\copy private.trial_july2020 FROM ${sqlLiteral(csvFile)} WITH (FORMAT csv, HEADER true)
       CREATE TABLE private.user_attributes (user_name text PRIMARY KEY, region text NOT NULL);
       INSERT INTO private.user_attributes VALUES ('alice', ${sqlLiteral(region)});
       CREATE TABLE private.masking_key (key text NOT NULL);
       INSERT INTO private.masking_key VALUES (${sqlLiteral(randomBytes(32).toString('hex'))});
       ALTER TABLE private.trial_july2020 ENABLE ROW LEVEL SECURITY;
       ALTER TABLE private.trial_july2020 FORCE ROW LEVEL SECURITY;
       ${RLS_POLICY};
       ${view};
       GRANT USAGE ON SCHEMA drug_xyz TO data_science;
       GRANT SELECT ON drug_xyz.trial_july2020 TO data_science;
       ${UNMASKED_VIEW};
       GRANT SELECT ON drug_xyz.trial_july2020_unmasked TO data_science;
       RESET ROLE;
       VACUUM (FREEZE, ANALYZE) private.trial_july2020;
       CHECKPOINT;`,
    );
    const loadMs = performance.now() - started;
    // Superusers bypass RLS: the full table.
    const tableRows = Number((await this.psql(PG_DATABASE, 'SELECT count(*) FROM private.trial_july2020')).trim());
    const tableBytes = Number((await this.psql(PG_DATABASE, "SELECT pg_table_size('private.trial_july2020')")).trim());
    const alice: Target = { host: '127.0.0.1', port: this.port, user: 'alice', password: this.alicePassword, dbname: PG_DATABASE };
    const aliceRows = Number((await runPsql(alice, `SELECT count(*) FROM ${DATASET}`, 600_000)).trim());
    const direct = await runPsql(alice, 'SELECT count(*) FROM private.trial_july2020', 60_000).then(
      () => 'allowed',
      (error: unknown) => errorMessage(error),
    );
    if (direct === 'allowed') throw new Error('PostgreSQL setup is wrong: alice can read the base table');
    const plan = (await runPsql(alice, `EXPLAIN ${QUERY}`, 60_000)).trim();
    progress(`pg-door: PostgreSQL loaded in ${(loadMs / 1000).toFixed(1)} s: ${formatCount(tableRows)} rows (${formatBytes(tableBytes)}), ${formatCount(aliceRows)} visible to alice; the base table is closed to her`);
    return { tableRows, aliceRows, loadMs, tableBytes, version, rlsPolicy: RLS_POLICY, view, plan, pgcrypto: available };
  }

  /** CPU of PostgreSQL: the postmaster and every child it has reaped (exited backends, workers). */
  cpuMs(): number {
    try {
      const pid = Number(readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14-17 (utime, stime, cutime, cstime) are 11-14 after the command.
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      return (ticks * 1000) / CLOCK_TICKS;
    } catch {
      return Number.NaN;
    }
  }

  /** Stops PostgreSQL (immediately) and deletes its directory; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    try {
      if (existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
        this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '60', 'stop']);
        progress('pg-door: PostgreSQL stopped');
      }
    } catch (error) {
      progress(`pg-door: stopping PostgreSQL failed: ${errorMessage(error)}`);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      progress(`pg-door: removed ${this.dir}`);
    }
  }
}

function runPsql(target: Target, sql: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { env: clientEnv(target), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`psql (${target.user}@${target.port}/${target.dbname}) exited with ${code}: ${stderr.trim().slice(0, 800)}`));
    });
    child.stdin.end(sql);
  });
}

function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function osUser(name: string): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`PostgreSQL refuses to run as root and there is no "${name}" OS user (it comes with apt-get install postgresql)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---- report ------------------------------------------------------------------------------------

const seconds = (ms: number | null | undefined): string => (ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);

export function formatPgDoorReport(report: PgDoorReport): string {
  const title = `(g) PostgreSQL door: alice's ${QUERY} through Veil's pg door vs PostgreSQL 15 (row-level security + security_barrier masking view)`;
  if (report.skipped !== null) return `${title}\n    SKIPPED: ${report.skipped}`;
  const lines = [
    title,
    `    ${formatCount(report.rows)} rows generated; ${formatCount(report.resultRows)} rows for alice (region ${report.aliceRegion}); medians of ${report.runs} interleaved runs (order alternates); ratio = PostgreSQL / Veil (target ≥ ${PG_DOOR_TARGET_RATIO})`,
  ];
  const rows = report.paths.map((p) => {
    if (p.skipped !== null) return [p.label, 'skipped', '', '', '', '', '', p.skipped];
    return [
      p.label,
      seconds(p.veil?.medianMs),
      seconds(p.postgres?.medianMs),
      Number.isFinite(p.ratio) ? `${p.ratio.toFixed(2)}×` : '–',
      Number.isFinite(p.pairedRatio) ? `${p.pairedRatio.toFixed(2)}×` : '–',
      formatCount(p.veil?.rows ?? Number.NaN),
      p.veil?.bytes === null || p.veil?.bytes === undefined ? '' : `${formatBytes(p.veil.bytes)} / ${formatBytes(p.postgres?.bytes ?? Number.NaN)}`,
      p.meetsTarget ? `ok (≥ ${PG_DOOR_TARGET_RATIO})` : `MISSED (≥ ${PG_DOOR_TARGET_RATIO})`,
    ];
  });
  lines.push(indent(table(['path', '>Veil', '>PostgreSQL', '>ratio', '>paired', '>rows', '>bytes Veil / PG', 'target'], rows), 4));
  lines.push('');
  lines.push('    where the time goes (medians): first byte on psql stdout | server CPU (Veil: whole node process; PostgreSQL: backends + workers) | client CPU');
  for (const p of report.paths) {
    if (p.skipped !== null || p.veil === null || p.postgres === null) continue;
    const side = (name: string, s: SystemSummary): string =>
      `${name} ${p.path === 'psql' ? `first byte ${seconds(s.firstByteMsMedian)}, ` : ''}server CPU ${seconds(s.serverCpuMsMedian)}${s.mainThreadCpuMsMedian === null ? '' : ` (JS main thread ${seconds(s.mainThreadCpuMsMedian)})`}, ${p.path === 'psql' ? 'psql' : 'python'} CPU ${seconds(s.clientCpuMsMedian)}`;
    lines.push(`      ${p.path.padEnd(7)} ${side('Veil', p.veil)}  |  ${side('PostgreSQL', p.postgres)}`);
  }
  for (const d of report.diagnostics) {
    const where = d.side === 'veil' ? 'in-process Veil' : 'psql diag';
    lines.push(`      ${where}: ${d.label}: ${seconds(d.medianMs)} (${formatCount(d.rows)} rows${d.bytes === null ? '' : `, ${formatBytes(d.bytes)}`}${d.serverCpuMsMedian === null ? '' : `; server CPU ${seconds(d.serverCpuMsMedian)}`})`);
  }
  const pg = report.postgres;
  if (pg !== null) {
    lines.push('');
    lines.push(`    PostgreSQL: ${pg.version.split(' on ')[0] ?? pg.version}; started by the bench in a temporary directory, deleted afterwards; ${pg.settings.filter((s) => !s.startsWith('listen') && !s.startsWith('unix') && !s.startsWith('port')).join(', ')}`);
    lines.push(`      loaded with \\copy … FROM the same CSV in ${(pg.loadMs / 1000).toFixed(1)} s (table ${formatBytes(pg.tableBytes)}); tokenize via ${pg.pgcrypto ? 'pgcrypto hmac(…, sha256)' : 'sha256() (no pgcrypto)'}; alice has SELECT on the view only`);
    lines.push(`      plan as alice: ${pg.plan.split('\n').map((l) => l.replace(/\s*\(cost=[^)]*\)/, '').replace(/^\s*(->\s*)?/, '')).filter((l) => l !== '').join(' / ').slice(0, 400)}`);
  }
  const failed = report.checks.filter((c) => !c.ok);
  lines.push(failed.length === 0 ? `    checks: all ${report.checks.length} passed (same rows from both systems on every path)` : `    checks FAILED: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
  return lines.join('\n');
}

function indent(text: string, spaces: number): string {
  return text.split('\n').map((l) => ' '.repeat(spaces) + l).join('\n');
}
