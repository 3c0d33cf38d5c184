/**
 * Part (e): restarting a server whose audit trail holds 1,000,000 records (target: under 5 s until
 * it answers a query over veil_system.audit_log), next to restarting one with an empty trail in the
 * same run. Also measured once per run: a start that has to rebuild the queryable mirror from
 * audit.db (a home without its cache, or the first start after an upgrade).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AuditRecord } from '../src/audit/audit-types.ts';
import { principalOf } from '../src/identity/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { chunkRowsJson } from '../src/engine/index.ts';
import type { Principal } from '../src/identity/index.ts';
import { median, progress } from './support.ts';

export const RESTART_TARGET_SECONDS = 5;

export interface AuditRestartOptions {
  readonly benchHome: string;
  readonly records: number;
  readonly runs: number;
}

export interface AuditRestartReport {
  readonly records: number;
  /** Open → first answered audit query, per run. */
  readonly restartMs: number[];
  readonly emptyRestartMs: number[];
  readonly rebuildMs: number;
  readonly lastCatchUp: string;
  readonly answered: number;
  readonly ratio: number;
}

const BATCH = 50_000;

function trail(from: number, count: number): AuditRecord[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      event_time: new Date(Date.UTC(2026, 0, 1) + i * 500).toISOString(),
      request_id: `bench-${i}`,
      user: `user${i % 50}`,
      groups: ['analysts'],
      client_application: 'bench',
      client_address: '127.0.0.1',
      door: 'http',
      statement: `SELECT arm, count(*) FROM drug_xyz.trial_july2020 WHERE site_id = 'S${String(i % 40).padStart(3, '0')}' GROUP BY arm`,
      statement_type: 'query',
      datasets: ['drug_xyz.trial_july2020'],
      columns: ['drug_xyz.trial_july2020.arm', 'drug_xyz.trial_july2020.site_id'],
      policies: ['data-science-read'],
      decision: 'allowed',
      rows_returned: 2,
      bytes_returned: 120,
      duration_ms: 3 + (i % 17),
      error_code: null,
    } satisfies AuditRecord;
  });
}

/** Opens the home and answers one query over the audit trail; returns the elapsed time and the answer. */
async function restart(home: string): Promise<{ ms: number; answered: number; runtime: VeilRuntime }> {
  const started = performance.now();
  const runtime = await openRuntime(home);
  runtime.audit.warmMirror();
  if ((await runtime.users.find('auditor')) === undefined) await runtime.users.put({ name: 'auditor', groups: ['compliance'], attributes: {} });
  const answered = await firstNumber(runtime, principalOf(await runtime.users.get('auditor')), `SELECT count(*) FROM veil_system.audit_log WHERE "user" = 'user7'`);
  return { ms: performance.now() - started, answered, runtime };
}

/** The first value of a query's result, through the pipeline every door uses. */
async function firstNumber(runtime: VeilRuntime, principal: Principal, sql: string): Promise<number> {
  const stream = await runtime.queries.open(await runtime.queries.prepare(principal, sql));
  try {
    const chunk = await stream.nextChunk();
    return chunk === null ? 0 : Number(chunkRowsJson(chunk)[0]?.[0]);
  } finally {
    stream.close();
  }
}

export async function runAuditRestartBenchmark(options: AuditRestartOptions): Promise<AuditRestartReport> {
  const home = path.join(options.benchHome, `audit-${options.records}`);
  const empty = path.join(options.benchHome, 'audit-empty');
  mkdirSync(home, { recursive: true });
  mkdirSync(empty, { recursive: true });
  {
    const runtime = await openRuntime(home);
    const present = await runtime.audit.recordCount();
    if (present < options.records) {
      progress(`audit restart: writing ${(options.records - present).toLocaleString('en-US')} audit records (kept for later runs) …`);
      for (let i = present; i < options.records; i += BATCH) await runtime.audit.recordMany(trail(i, Math.min(BATCH, options.records - i)));
    }
    await runtime.close();
    await (await openRuntime(empty)).close();
  }
  // A start without the mirror's cache: the whole trail is loaded once.
  rmSync(path.join(home, 'cache', 'audit-mirror.duckdb'), { force: true });
  rmSync(path.join(home, 'cache', 'audit-mirror.duckdb.wal'), { force: true });
  const rebuild = await restart(home);
  await rebuild.runtime.close();
  progress(`audit restart: rebuild of the mirror ${Math.round(rebuild.ms)} ms`);

  const restartMs: number[] = [];
  const emptyRestartMs: number[] = [];
  let answered = 0;
  let lastCatchUp = '';
  for (let run = 0; run < options.runs; run++) {
    const full = await restart(home);
    answered = full.answered;
    const status = full.runtime.audit.mirrorStatus();
    lastCatchUp = status.lastCatchUp === undefined ? 'none' : `${status.lastCatchUp.kind}, ${status.lastCatchUp.records} records`;
    await full.runtime.close();
    restartMs.push(full.ms);
    const none = await restart(empty);
    await none.runtime.close();
    emptyRestartMs.push(none.ms);
    progress(`audit restart run ${run + 1}: ${Math.round(full.ms)} ms with ${options.records.toLocaleString('en-US')} records, ${Math.round(none.ms)} ms empty`);
  }
  if (!existsSync(path.join(home, 'cache', 'audit-mirror.duckdb'))) throw new Error('the audit mirror file was not written');
  return {
    records: options.records,
    restartMs,
    emptyRestartMs,
    rebuildMs: rebuild.ms,
    lastCatchUp,
    answered,
    ratio: median(restartMs) / median(emptyRestartMs),
  };
}

export function formatAuditRestartReport(report: AuditRestartReport): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const restart = median(report.restartMs);
  return [
    `(e) Restart with an audit trail of ${report.records.toLocaleString('en-US')} records (open the home, answer a query over veil_system.audit_log), medians of ${report.restartMs.length}:`,
    `    restart with the trail            ${s(restart)}  (target < ${RESTART_TARGET_SECONDS} s: ${restart < RESTART_TARGET_SECONDS * 1000 ? 'met' : 'MISSED'}); catch-up: ${report.lastCatchUp}; answer ${report.answered.toLocaleString('en-US')} records`,
    `    restart with an empty trail       ${s(median(report.emptyRestartMs))}  (ratio ${report.ratio.toFixed(2)})`,
    `    start that rebuilds the mirror    ${s(report.rebuildMs)}  (once, when the home has no cache)`,
  ].join('\n');
}
