import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { metadataToCsv, metadataToJson, parseMapping, parseMetadata } from '../../catalog/index.ts';
import { InvalidRequestError } from '../../errors/index.ts';
import { asOperator, asUser } from '../cli-door.ts';
import { list, optionalStrings, pairs, parse, printJson, requirePositional, str, type CommandGroup } from '../cli-support.ts';

export const CATALOG_COMMANDS: CommandGroup = {
  crawl: {
    usage: 'catalog crawl PREFIX --database DB [--owner NAME]   registers every dataset under a storage prefix; re-runs report new, changed, drifted and missing ones',
    run: async (args) => {
      const { values, positionals } = parse(args, { database: { type: 'string', short: 'd' }, owner: { type: 'string' } });
      const uri = requirePositional(positionals, 0, 'storage prefix (a directory under the storage root, or s3://bucket/prefix)');
      const database = str(values, 'database');
      if (database === undefined) throw new InvalidRequestError('--database is required');
      const owner = str(values, 'owner');
      printJson(await asOperator(values, (gateway, scope) => gateway.catalog.crawl(scope, uri, { database, ...(owner === undefined ? {} : { owner }) })));
    },
  },
  classify: {
    usage: 'catalog classify DB.NAME [--json] [--accept COL=TAG]... [--reject COL=TAG]... [--by NAME]   proposes pii/phi tags from column names and sampled values',
    run: async (args) => {
      const { values, positionals } = parse(args, { json: { type: 'boolean' }, accept: { type: 'string', multiple: true }, reject: { type: 'string', multiple: true }, by: { type: 'string' } });
      const name = requirePositional(positionals, 0, 'dataset name').toLowerCase();
      const accept = pairs(list(values, 'accept'), '--accept').map(([column, tag]) => ({ column, tag }));
      const reject = pairs(list(values, 'reject'), '--reject').map(([column, tag]) => ({ column, tag }));
      const by = str(values, 'by');
      if (accept.length + reject.length > 0 && by === undefined) throw new InvalidRequestError('--by NAME is required with --accept/--reject: decisions record who made them');
      const result = (await asOperator(values, (gateway, scope) =>
        accept.length + reject.length > 0 ? gateway.catalog.decideClassification(scope, name, { accept, reject }, by) : gateway.catalog.classification(scope, name),
      )) as { dataset: string; sampled_rows: number; proposals: { column: string; tag: string; confidence: number; status: string; evidence: string }[] };
      if (values['json'] === true) printJson(result.proposals);
      else {
        process.stdout.write(`${result.dataset}: ${result.proposals.length} proposals from ${result.sampled_rows} sampled rows\n`);
        for (const p of result.proposals) process.stdout.write(`  ${p.column.padEnd(24)} ${p.tag.padEnd(16)} ${p.confidence.toFixed(2)}  ${p.status.padEnd(8)}  ${p.evidence}\n`);
      }
    },
  },
  export: {
    usage: 'catalog export --out FILE [--format json|csv] [--mapping FILE]   business metadata (descriptions, owners, certification, classifications) for an external catalog',
    run: async (args) => {
      const { values } = parse(args, { out: { type: 'string', short: 'o' }, format: { type: 'string' }, mapping: { type: 'string' } });
      const out = str(values, 'out');
      if (out === undefined) throw new InvalidRequestError('--out FILE is required');
      const format = str(values, 'format') ?? (out.endsWith('.csv') ? 'csv' : 'json');
      if (format !== 'json' && format !== 'csv') throw new InvalidRequestError('--format must be json or csv');
      const mappingFile = str(values, 'mapping');
      const mapping = mappingFile === undefined ? {} : parseMapping(parseYaml(readFileSync(mappingFile, 'utf8')), mappingFile);
      const assets = await asOperator(values, (gateway, scope) => gateway.catalog.exportMetadata(scope, mapping));
      writeFileSync(out, format === 'csv' ? metadataToCsv(assets) : metadataToJson(assets), { flag: 'wx' });
      process.stderr.write(`${assets.length} assets written to ${out}\n`);
    },
  },
  import: {
    usage: 'catalog import FILE --by NAME [--mapping FILE] [--dry-run]   applies descriptions, owners, certification and mapped classifications of existing datasets',
    run: async (args) => {
      const { values, positionals } = parse(args, { mapping: { type: 'string' }, by: { type: 'string' }, 'dry-run': { type: 'boolean' } });
      const file = requirePositional(positionals, 0, 'metadata file (JSON or CSV)');
      const by = str(values, 'by');
      if (by === undefined) throw new InvalidRequestError('--by NAME is required: imported certifications record who made them');
      const mappingFile = str(values, 'mapping');
      const mapping = mappingFile === undefined ? {} : parseMapping(parseYaml(readFileSync(mappingFile, 'utf8')), mappingFile);
      const assets = parseMetadata(readFileSync(file, 'utf8'), file);
      printJson(await asOperator(values, (gateway, scope) => gateway.catalog.importMetadata(scope, assets, mapping, { by, dryRun: values['dry-run'] === true })));
    },
  },
  search: {
    usage: 'catalog search TEXT --user NAME [--database DB] [--tag TAG] [--owner NAME] [--limit N]   datasets NAME may read, best matches first',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' }, database: { type: 'string' }, tag: { type: 'string' }, owner: { type: 'string' }, limit: { type: 'string' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required: search results depend on who asks');
      const limit = str(values, 'limit');
      const options = { query: positionals.join(' '), ...optionalStrings(values, ['database', 'tag', 'owner']), ...(limit === undefined ? {} : { limit: Number(limit) }) };
      printJson({ results: await asUser(values, user, (gateway, scope) => gateway.catalog.search(scope, options)) });
    },
  },
};
