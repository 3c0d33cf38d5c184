import type { BuildProgress, CacheStatus } from '../../gateway/index.ts';
import { asOperator } from '../cli-door.ts';
import { parse, printJson, type CommandGroup } from '../cli-support.ts';

/** `veil cache …`: the columnar cache of CSV and JSON sources (docs/cache.md). */
export const CACHE_COMMANDS: CommandGroup = {
  status: {
    usage: 'cache status [DB.NAME]... [--json]   per dataset: fresh, building N%, stale, absent, evicted …, size, rows, last used',
    run: async (args) => {
      const { values, positionals } = parse(args, { json: { type: 'boolean' } });
      const statuses = await asOperator(values, (gateway, scope) => gateway.cache.status(scope, positionals));
      if (values['json'] === true) printJson(statuses);
      else process.stdout.write(formatStatus(statuses));
    },
  },
  rebuild: {
    usage: 'cache rebuild [DB.NAME]...   builds Parquet copies now (all CSV and JSON datasets when none is named), with progress',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const statuses = await asOperator(values, (gateway, scope) => gateway.cache.rebuild(scope, positionals, printProgress()));
      process.stdout.write(formatStatus(statuses));
    },
  },
  drop: {
    usage: 'cache drop [DB.NAME]...   removes Parquet copies; those datasets read their sources until `cache rebuild`',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const statuses = await asOperator(values, (gateway, scope) => gateway.cache.drop(scope, positionals));
      process.stdout.write(formatStatus(statuses));
    },
  },
};

/** Progress lines on stderr: at most one per dataset and 10 %, and every outcome. */
function printProgress(): (progress: BuildProgress) => void {
  const shown = new Map<string, number>();
  return (p) => {
    if (p.phase === 'writing' || p.phase === 'checking') {
      const step = Math.floor(p.percent / 10);
      if ((shown.get(p.dataset) ?? -1) >= step) return;
      shown.set(p.dataset, step);
      process.stderr.write(`${p.dataset}: building ${p.percent}% (${formatBytes(p.bytesWritten)} written of a ${formatBytes(p.sourceBytes)} source)\n`);
    } else if (p.phase === 'done') {
      process.stderr.write(`${p.dataset}: built, ${p.rows ?? 0} rows, ${formatBytes(p.bytesWritten)}\n`);
    } else if (p.phase === 'discarded' || p.phase === 'failed') {
      process.stderr.write(`${p.dataset}: ${p.phase}: ${p.reason ?? ''}\n`);
    }
  };
}

export function formatStatus(statuses: readonly CacheStatus[]): string {
  const rows = statuses.map((s) => [
    s.dataset,
    s.state === 'building' ? `building ${s.progress ?? 0}%` : s.state,
    s.file_bytes === null ? '-' : formatBytes(s.file_bytes),
    s.rows === null ? '-' : String(s.rows),
    s.last_used_at ?? 'never',
    s.detail ?? '',
  ]);
  const header = ['dataset', 'state', 'size', 'rows', 'last used', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
