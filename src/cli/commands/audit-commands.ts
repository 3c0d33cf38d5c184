import { parseInsightsOptions } from '../../audit/index.ts';
import { AuditTamperedError, InvalidRequestError } from '../../errors/index.ts';
import { HomeOperator } from '../../gateway/index.ts';
import { asOperator } from '../cli-door.ts';
import { parse, printJson, str, type CommandGroup } from '../cli-support.ts';

export const AUDIT_COMMANDS: CommandGroup = {
  verify: {
    usage: 'audit verify [--checkpoint FILE]   checks the audit hash chain (and a signed checkpoint); exits 1 naming the first altered record',
    run: async (args) => {
      const { values } = parse(args, { checkpoint: { type: 'string' } });
      try {
        printJson(await HomeOperator.open(str(values, 'home')).verifyAudit(str(values, 'checkpoint')));
      } catch (error) {
        // The report says what was checked; the error names what broke.
        if (error instanceof AuditTamperedError) printJson(error.details['report']);
        throw error;
      }
    },
  },
  insights: {
    usage: 'audit insights [--days N] [--top N]   reads per day, sensitive (pii/phi) readers, denials, unused grants and access over the last N days (default 30), as JSON',
    run: async (args) => {
      const { values } = parse(args, { days: { type: 'string' }, top: { type: 'string' } });
      const options = parseInsightsOptions({ days: str(values, 'days'), top: str(values, 'top') });
      printJson(await asOperator(values, (gateway, scope) => gateway.admin.insights(scope, () => options)));
    },
  },
  export: {
    usage: 'audit export --out FILE [--format jsonl|parquet] [--since DATE] [--until DATE]   records with their record_hash (never overwrites FILE)',
    run: async (args) => {
      const { values } = parse(args, { out: { type: 'string', short: 'o' }, format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } });
      const out = str(values, 'out');
      if (out === undefined) throw new InvalidRequestError('--out FILE is required');
      const format = str(values, 'format') ?? (out.endsWith('.parquet') ? 'parquet' : 'jsonl');
      if (format !== 'jsonl' && format !== 'parquet') throw new InvalidRequestError('--format must be jsonl or parquet');
      const since = str(values, 'since');
      const until = str(values, 'until');
      const count = await HomeOperator.open(str(values, 'home')).exportAudit(out, { format, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
      process.stderr.write(`${count} audit records written to ${out}\n`);
    },
  },
  prune: {
    usage: 'audit prune (--older-than-days N | --before DATE) [--export FILE.jsonl]   retention: removes old records, the chain stays verifiable',
    run: async (args) => {
      const { values } = parse(args, { 'older-than-days': { type: 'string' }, before: { type: 'string' }, export: { type: 'string' } });
      const days = str(values, 'older-than-days');
      const beforeText = str(values, 'before');
      if ((days === undefined) === (beforeText === undefined)) throw new InvalidRequestError('give exactly one of --older-than-days N and --before DATE');
      if (days !== undefined && !/^\d+$/.test(days)) throw new InvalidRequestError('--older-than-days must be a whole number');
      const before = days !== undefined ? new Date(Date.now() - Number(days) * 86_400_000) : new Date(beforeText ?? '');
      if (Number.isNaN(before.getTime())) throw new InvalidRequestError('--before must be a date or date-time (ISO 8601)');
      printJson(await HomeOperator.open(str(values, 'home')).pruneAudit(before, str(values, 'export')));
    },
  },
  checkpoint: {
    usage: "audit checkpoint [--out FILE]   the chain head signed with the home's audit key, to keep elsewhere",
    run: async (args) => {
      const { values } = parse(args, { out: { type: 'string', short: 'o' } });
      const out = str(values, 'out');
      const text = await HomeOperator.open(str(values, 'home')).checkpoint(out);
      if (out === undefined) process.stdout.write(text);
      else process.stderr.write(`checkpoint written to ${out}\n`);
    },
  },
};
