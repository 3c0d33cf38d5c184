/**
 * Part (j): the latency Veil adds to Trino's query planning. Trino's OPA plugin asks several
 * questions per query (ExecuteQuery, AccessCatalog, FilterColumns, SelectFromColumns,
 * GetRowFilters, GetColumnMask); each is a POST to Veil's Trino listener on loopback. Every kind is
 * timed in interleaved rounds next to the baseline of the same run: a POST the listener refuses at
 * once (404), which is the HTTP round trip and nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createGateway } from '../src/gateway/index.ts';
import { openRuntime } from '../src/runtime/index.ts';
import { startTrinoListener } from '../src/trino/index.ts';
import { formatMs, latencySummary, progress, round, table, type LatencySummary } from './support.ts';

export interface TrinoBenchReport {
  readonly iterations: number;
  readonly rows: readonly { readonly kind: string; readonly latency: LatencySummary; readonly ratio: number }[];
  readonly planningP50Ms: number;
  readonly checks: readonly { name: string; ok: boolean; detail: string }[];
}

const TRIAL = { catalogName: 'veil', schemaName: 'drug_xyz', tableName: 'trial_july2020' };

export async function runTrinoBenchmark(options: { iterations: number }): Promise<TrinoBenchReport> {
  // Decisions read policies, never data: a small demo home of its own is enough.
  const home = mkdtempSync(path.join(os.tmpdir(), 'veil-bench-trino-'));
  const runtime = await openRuntime(home);
  try {
    await setupDemo(runtime, 2000);
    const listener = await startTrinoListener(createGateway(runtime), { port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${listener.address.port}/v1/data/veil`;
    const columns = (await runtime.catalog.datasets.get('drug_xyz.trial_july2020')).columns;
    const input = (user: string, action: unknown): string => JSON.stringify({ input: { context: { identity: { user, groups: [] }, softwareStack: { trinoVersion: '476' } }, action } });
    const kinds: { kind: string; endpoint: string; body: string; expect: number }[] = [
      { kind: 'baseline: refused POST (404), the round trip alone', endpoint: 'nothing', body: input('bob', { operation: 'ExecuteQuery' }), expect: 404 },
      { kind: 'ExecuteQuery', endpoint: 'allow', body: input('bob', { operation: 'ExecuteQuery' }), expect: 200 },
      { kind: 'FilterColumns, 14 columns (batch)', endpoint: 'batch', body: input('bob', { operation: 'FilterColumns', filterResources: [{ table: { ...TRIAL, columns: columns.map((c) => c.name) } }] }), expect: 200 },
      { kind: 'SelectFromColumns, 10 columns', endpoint: 'allow', body: input('bob', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['arm', 'zip', 'outcome_score', 'date_of_birth', 'country', 'site_id', 'dose_mg', 'consent_research', 'adverse_event', 'enrolled_at'] } } }), expect: 200 },
      { kind: 'GetRowFilters (alice: region)', endpoint: 'row_filters', body: input('alice', { operation: 'GetRowFilters', resource: { table: TRIAL } }), expect: 200 },
      {
        kind: 'GetColumnMask, 10 columns (batch)',
        endpoint: 'column_masks',
        body: input('bob', {
          operation: 'GetColumnMask',
          filterResources: columns.filter((c) => !['participant_id', 'full_name', 'email', 'ssn'].includes(c.name)).map((c) => ({ column: { ...TRIAL, columnName: c.name, columnType: c.type === 'DOUBLE' ? 'double' : c.type.toLowerCase() } })),
        }),
        expect: 200,
      },
    ];
    const samples = new Map<string, number[]>(kinds.map((k) => [k.kind, []]));
    const checks: { name: string; ok: boolean; detail: string }[] = [];
    for (let i = 0; i < options.iterations; i++) {
      for (const k of kinds) {
        const started = performance.now();
        const response = await fetch(`${base}/${k.endpoint}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: k.body });
        await response.arrayBuffer();
        samples.get(k.kind)!.push(performance.now() - started);
        if (response.status !== k.expect && checks.every((c) => c.name !== k.kind)) checks.push({ name: k.kind, ok: false, detail: `status ${response.status}, expected ${k.expect}` });
      }
      if ((i + 1) % 100 === 0) progress(`trino: ${i + 1}/${options.iterations} rounds`);
    }
    await listener.close();
    const baseline = latencySummary(samples.get(kinds[0]!.kind)!);
    const rows = kinds.map((k) => {
      const latency = latencySummary(samples.get(k.kind)!);
      return { kind: k.kind, latency, ratio: round(latency.p50 / baseline.p50, 2) };
    });
    const planningP50Ms = round(rows.slice(1).reduce((sum, r) => sum + r.latency.p50, 0), 2);
    if (checks.length === 0) checks.push({ name: 'every answer had its expected status', ok: true, detail: '' });
    return { iterations: options.iterations, rows, planningP50Ms, checks };
  } finally {
    await runtime.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export function formatTrinoReport(report: TrinoBenchReport): string {
  return [
    `(j) Trino's questions to Veil's OPA listener on loopback, ${report.iterations} interleaved rounds (demo policies)`,
    table(
      ['question', '>p50', '>p99', '>× baseline p50'],
      report.rows.map((r) => [r.kind, formatMs(r.latency.p50), formatMs(r.latency.p99), r.ratio.toFixed(2)]),
    ).replace(/^/gm, '    '),
    `    one Trino query over the trial asks all five: ${formatMs(report.planningP50Ms)} of planning at the median`,
    `    checks: ${report.checks.every((c) => c.ok) ? 'all passed' : report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
  ].join('\n');
}
