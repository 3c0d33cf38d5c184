import { readFileSync, writeFileSync } from 'node:fs';
import { computeInsights, createCheckpoint, exportAudit, openAuditDatabase, parseInsightsOptions, parseCheckpoint, pruneAudit, verifyAuditStore, verifyCheckpoint } from '../audit/index.ts';
import { AuditTamperedError, InvalidRequestError } from '../errors/index.ts';
import { ApiTokenStore, Authenticator, LocalTokenIssuer, OidcProvider, parseOidcProviders, parseUserDocument, principalOf, UserStore, validateUser } from '../identity/index.ts';
import { VeilHome } from '../home/index.ts';
import { openControlDatabase } from '../store/index.ts';
import { exportPolicyDocument, parsePolicyDocuments, policyToAuthored } from '../policy/index.ts';
import { openRuntime, type VeilRuntime } from '../server/veil-runtime.ts';
import { searchCatalog } from '../query/index.ts';
import { classifyDataset, crawlUri, decideClassification, exportMetadata, importMetadata, metadataToCsv, metadataToJson, parseMapping, parseMetadata, SqliteCrawlState } from '../catalog/index.ts';
import { parse as parseYaml } from 'yaml';
import { describeForCaller } from '../http/catalog-routes.ts';
import { chunkRowsJson } from '../engine/index.ts';
import { setupDemo } from '../demo/demo-setup.ts';
import { groupPairs, list, pairs, parse, printJson, requirePositional, str, type Options } from './cli-support.ts';

type Command = (args: readonly string[]) => Promise<void>;

async function withRuntime<T>(home: string | undefined, work: (runtime: VeilRuntime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(home);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}



function optionalStrings(values: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((key) => (typeof values[key] === 'string' ? [[key, values[key] as string]] : [])));
}

/** Token and user bookkeeping needs only the control database: no engine, so it is instant. */
async function withControlDb<T>(homeDir: string | undefined, work: (db: ReturnType<typeof openControlDatabase>) => T): Promise<T> {
  const home = VeilHome.fromOptions(homeDir);
  home.ensure();
  const db = openControlDatabase(home.catalogDatabasePath);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

function readFileArg(values: Record<string, unknown>): string {
  const file = str(values, 'file');
  if (file === undefined) throw new InvalidRequestError('pass -f FILE (or -f - for standard input)');
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

const FILE: Options = { file: { type: 'string', short: 'f' } };

export const COMMANDS: Record<string, Record<string, { usage: string; run: Command }>> = {
  token: {
    issue: {
      usage: 'token issue --user NAME [--ttl SECONDS]   prints a signed token for NAME',
      run: async (args) => {
        const { values } = parse(args, { user: { type: 'string', short: 'u' }, ttl: { type: 'string' } });
        const user = str(values, 'user');
        if (user === undefined) throw new InvalidRequestError('--user is required');
        // Only the keys and the user store: no engine, so that issuing a token is instant.
        const home = VeilHome.fromOptions(str(values, 'home'));
        home.ensure();
        const db = openControlDatabase(home.catalogDatabasePath);
        try {
          new UserStore(db).get(user);
          const ttl = Number(str(values, 'ttl') ?? home.loadSettings().tokenTtlSeconds);
          if (!Number.isInteger(ttl) || ttl <= 0) throw new InvalidRequestError('--ttl must be a positive number of seconds');
          process.stdout.write(`${new LocalTokenIssuer(home.loadKeys().tokenSigning).issue(user, ttl)}\n`);
        } finally {
          db.close();
        }
      },
    },
    inspect: {
      usage: 'token inspect [TOKEN | -]   who a token makes its holder (OIDC, API or local), or why it is refused',
      run: async (args) => {
        const { values, positionals } = parse(args, {});
        const given = positionals[0];
        // From standard input by default, so the token stays out of shell history and ps.
        const token = (given === undefined || given === '-' ? readFileSync(0, 'utf8') : given).trim();
        if (token === '') throw new InvalidRequestError('pass the token as an argument or on standard input');
        const home = VeilHome.fromOptions(str(values, 'home'));
        home.ensure();
        const settings = home.loadSettings();
        const providers = parseOidcProviders(settings.oidcProviders, home.root, home.settingsPath).map((config) => new OidcProvider(config));
        await Promise.all(providers.map((p) => p.start()));
        try {
          await withControlDb(home.root, (db) => {
            const authenticator = new Authenticator(new LocalTokenIssuer(home.loadKeys().tokenSigning), new UserStore(db), new ApiTokenStore(db), providers, settings.adminGroups);
            const { principal, method, via } = authenticator.authenticateRequest(`Bearer ${token}`);
            printJson({ ...principal, authenticated_by: { method, via } });
          });
        } finally {
          for (const provider of providers) provider.close();
        }
      },
    },
    create: {
      usage: 'token create --user NAME --label TEXT [--expires-days N]   creates an API token (printed once; only its hash is kept)',
      run: async (args) => {
        const { values } = parse(args, { user: { type: 'string', short: 'u' }, label: { type: 'string' }, 'expires-days': { type: 'string' } });
        const user = str(values, 'user');
        const label = str(values, 'label');
        if (user === undefined || label === undefined) throw new InvalidRequestError('--user and --label are required');
        const days = str(values, 'expires-days');
        await withControlDb(str(values, 'home'), (db) => {
          new UserStore(db).get(user);
          const { token, info } = new ApiTokenStore(db).create({ user, label, createdBy: 'cli', ...(days === undefined ? {} : { expiresInDays: Number(days) }) });
          process.stderr.write(`API token ${info.id} for ${user}${info.expires_at === null ? '' : `, expires ${info.expires_at}`}. Store it now: it cannot be shown again.\n`);
          process.stdout.write(`${token}\n`);
        });
      },
    },
    list: {
      usage: 'token list [--user NAME]   API tokens (never their secrets)',
      run: async (args) => {
        const { values } = parse(args, { user: { type: 'string', short: 'u' } });
        await withControlDb(str(values, 'home'), (db) => printJson(new ApiTokenStore(db).list(str(values, 'user'))));
      },
    },
    revoke: {
      usage: 'token revoke ID   revokes an API token at once',
      run: async (args) => {
        const { values, positionals } = parse(args, {});
        const id = requirePositional(positionals, 0, 'token id');
        await withControlDb(str(values, 'home'), (db) => printJson(new ApiTokenStore(db).revoke(id)));
      },
    },
  },
  audit: {
    verify: {
      usage: 'audit verify [--checkpoint FILE]   checks the audit hash chain (and a signed checkpoint); exits 1 naming the first altered record',
      run: async (args) => {
        const { values } = parse(args, { checkpoint: { type: 'string' } });
        const home = VeilHome.fromOptions(str(values, 'home'));
        const db = openAuditDatabase(home.auditDatabasePath, { readonly: true });
        try {
          const result = verifyAuditStore(db, home.loadKeys().auditChain, { anchorKey: home.loadAuditSigningKey() });
          const file = str(values, 'checkpoint');
          const checkpoint = file === undefined ? undefined : verifyCheckpoint(db, parseCheckpoint(readFileSync(file, 'utf8'), file), home.loadAuditSigningKey());
          printJson({ ...result, ...(checkpoint === undefined ? {} : { checkpoint }) });
          if (result.first_break !== null) {
            const b = result.first_break;
            throw new AuditTamperedError(
              `the audit trail was altered at ${b.record_seq === null ? '' : `record ${b.record_seq}`}${b.request_id === null ? '' : ` (request ${b.request_id})`}${b.event_seq === null ? '' : `, chain event ${b.event_seq}`}: ${b.reason}`,
            );
          }
          if (checkpoint !== undefined && !checkpoint.ok) throw new AuditTamperedError(checkpoint.reason);
        } finally {
          db.close();
        }
      },
    },
    insights: {
      usage: 'audit insights [--days N] [--top N]   reads per day, sensitive (pii/phi) readers, denials, unused grants and access over the last N days (default 30), as JSON',
      run: async (args) => {
        const { values } = parse(args, { days: { type: 'string' }, top: { type: 'string' } });
        const options = parseInsightsOptions({ days: str(values, 'days'), top: str(values, 'top') });
        await withRuntime(str(values, 'home'), async (runtime) => printJson(await computeInsights(runtime, options)));
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
        const home = VeilHome.fromOptions(str(values, 'home'));
        const db = openAuditDatabase(home.auditDatabasePath, { readonly: true });
        try {
          const since = str(values, 'since');
          const until = str(values, 'until');
          const count = await exportAudit(db, out, { format, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
          process.stderr.write(`${count} audit records written to ${out}\n`);
        } finally {
          db.close();
        }
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
        const home = VeilHome.fromOptions(str(values, 'home'));
        const db = openAuditDatabase(home.auditDatabasePath);
        try {
          const exportFile = str(values, 'export');
          if (exportFile !== undefined) await exportAudit(db, exportFile, { format: 'jsonl', until: before.toISOString() });
          printJson(pruneAudit(db, home.loadAuditSigningKey(), before));
        } finally {
          db.close();
        }
      },
    },
    checkpoint: {
      usage: 'audit checkpoint [--out FILE]   the chain head signed with the home\'s audit key, to keep elsewhere',
      run: async (args) => {
        const { values } = parse(args, { out: { type: 'string', short: 'o' } });
        const home = VeilHome.fromOptions(str(values, 'home'));
        const db = openAuditDatabase(home.auditDatabasePath, { readonly: true });
        try {
          const text = `${JSON.stringify(createCheckpoint(db, home.loadAuditSigningKey()), null, 2)}\n`;
          const out = str(values, 'out');
          if (out === undefined) process.stdout.write(text);
          else {
            writeFileSync(out, text, { flag: 'wx' });
            process.stderr.write(`checkpoint written to ${out}\n`);
          }
        } finally {
          db.close();
        }
      },
    },
  },
  catalog: {
    crawl: {
      usage: 'catalog crawl PREFIX --database DB [--owner NAME]   registers every dataset under a storage prefix; re-runs report new, changed, drifted and missing ones',
      run: async (args) => {
        const { values, positionals } = parse(args, { database: { type: 'string', short: 'd' }, owner: { type: 'string' } });
        const uri = requirePositional(positionals, 0, 'storage prefix (a directory under the storage root, or s3://bucket/prefix)');
        const database = str(values, 'database');
        if (database === undefined) throw new InvalidRequestError('--database is required');
        await withRuntime(str(values, 'home'), async (runtime) => {
          const owner = str(values, 'owner');
          printJson(await crawlUri({ catalog: runtime.catalog, engine: runtime.engine, state: new SqliteCrawlState(runtime.controlDb), storageRoot: runtime.home.storageRoot }, uri, { database, ...(owner === undefined ? {} : { owner }) }));
        });
      },
    },
    classify: {
      usage: 'catalog classify DB.NAME [--json] [--accept COL=TAG]... [--reject COL=TAG]... [--by NAME]   proposes pii/phi tags from column names and sampled values',
      run: async (args) => {
        const { values, positionals } = parse(args, { json: { type: 'boolean' }, accept: { type: 'string', multiple: true }, reject: { type: 'string', multiple: true }, by: { type: 'string' } });
        const name = requirePositional(positionals, 0, 'dataset name').toLowerCase();
        const accept = pairs(list(values, 'accept'), '--accept').map(([column, tag]) => ({ column, tag }));
        const reject = pairs(list(values, 'reject'), '--reject').map(([column, tag]) => ({ column, tag }));
        await withRuntime(str(values, 'home'), async (runtime) => {
          if (accept.length + reject.length > 0) {
            const by = str(values, 'by');
            if (by === undefined) throw new InvalidRequestError('--by NAME is required with --accept/--reject: decisions record who made them');
            decideClassification(runtime.catalog, runtime.controlDb, name, { accept, reject }, by);
          }
          const result = await classifyDataset(runtime.catalog, runtime.engine, runtime.controlDb, name);
          if (values['json'] === true) printJson(result.proposals);
          else {
            process.stdout.write(`${result.dataset}: ${result.proposals.length} proposals from ${result.sampled_rows} sampled rows\n`);
            for (const p of result.proposals) process.stdout.write(`  ${p.column.padEnd(24)} ${p.tag.padEnd(16)} ${p.confidence.toFixed(2)}  ${p.status.padEnd(8)}  ${p.evidence}\n`);
          }
        });
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
        await withRuntime(str(values, 'home'), async (runtime) => {
          const mapping = mappingFile === undefined ? {} : parseMapping(parseYaml(readFileSync(mappingFile, 'utf8')), mappingFile);
          const assets = exportMetadata(runtime.catalog, mapping);
          writeFileSync(out, format === 'csv' ? metadataToCsv(assets) : metadataToJson(assets), { flag: 'wx' });
          process.stderr.write(`${assets.length} assets written to ${out}\n`);
        });
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
        await withRuntime(str(values, 'home'), async (runtime) => {
          const mapping = mappingFile === undefined ? {} : parseMapping(parseYaml(readFileSync(mappingFile, 'utf8')), mappingFile);
          printJson(importMetadata(runtime.catalog, parseMetadata(readFileSync(file, 'utf8'), file), mapping, { by, dryRun: values['dry-run'] === true }));
        });
      },
    },
    search: {
      usage: 'catalog search TEXT --user NAME [--database DB] [--tag TAG] [--owner NAME] [--limit N]   datasets NAME may read, best matches first',
      run: async (args) => {
        const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' }, database: { type: 'string' }, tag: { type: 'string' }, owner: { type: 'string' }, limit: { type: 'string' } });
        const user = str(values, 'user');
        if (user === undefined) throw new InvalidRequestError('--user is required: search results depend on who asks');
        const query = positionals.join(' ');
        await withRuntime(str(values, 'home'), async (runtime) => {
          const principal = principalOf(runtime.users.get(user));
          const limit = str(values, 'limit');
          const options = { query, ...optionalStrings(values, ['database', 'tag', 'owner']), ...(limit === undefined ? {} : { limit: Number(limit) }) };
          const started = performance.now();
          const results = searchCatalog(runtime.access, principal, options, await runtime.audit.datasetPopularity(30));
          runtime.audit.record({
            event_time: new Date().toISOString(), request_id: crypto.randomUUID(), user: principal.user, groups: principal.groups,
            client_application: 'veil-cli', client_address: null, door: 'cli', statement: `search ${query}`, statement_type: 'search',
            datasets: results.map((r) => r.name), columns: [], policies: [], decision: 'allowed', rows_returned: results.length,
            bytes_returned: null, duration_ms: performance.now() - started, error_code: null,
          });
          printJson({ results });
        });
      },
    },
  },
  dataset: {
    register: {
      usage:
        'dataset register DB.NAME --location PATH [--format csv|parquet|json] [--description TEXT] [--owner NAME] [--tag TAG]... [--column-tag COL=TAG]... [--column-type COL=TYPE]... [--no-header] [--delimiter C] [--null-string S]',
      run: async (args) => {
        const { values, positionals } = parse(args, {
          location: { type: 'string', short: 'l' },
          format: { type: 'string' },
          description: { type: 'string' },
          owner: { type: 'string' },
          tag: { type: 'string', multiple: true },
          'column-tag': { type: 'string', multiple: true },
          'column-type': { type: 'string', multiple: true },
          'no-header': { type: 'boolean' },
          delimiter: { type: 'string' },
          'null-string': { type: 'string' },
        });
        const name = requirePositional(positionals, 0, 'dataset name (database.name)');
        const location = str(values, 'location');
        if (location === undefined) throw new InvalidRequestError('--location is required');
        const format = str(values, 'format');
        if (format !== undefined && !['csv', 'parquet', 'json'].includes(format)) throw new InvalidRequestError('--format must be csv, parquet or json');
        await withRuntime(str(values, 'home'), async (runtime) => {
          const delimiter = str(values, 'delimiter');
          const nullString = str(values, 'null-string');
          const description = str(values, 'description');
          const owner = str(values, 'owner');
          const dataset = await runtime.catalog.register({
            name,
            location,
            ...(format === undefined ? {} : { format: format as 'csv' | 'parquet' | 'json' }),
            csv: {
              ...(values['no-header'] === true ? { header: false } : {}),
              ...(delimiter === undefined ? {} : { delimiter }),
              ...(nullString === undefined ? {} : { nullString }),
            },
            ...(description === undefined ? {} : { description }),
            ...(owner === undefined ? {} : { owner }),
            tags: list(values, 'tag'),
            columnTags: groupPairs(list(values, 'column-tag'), '--column-tag'),
            columnTypes: Object.fromEntries(pairs(list(values, 'column-type'), '--column-type')),
          });
          printJson(dataset);
        });
      },
    },
    list: {
      usage: 'dataset list',
      run: async (args) => {
        const { values } = parse(args, {});
        await withRuntime(str(values, 'home'), async (runtime) => {
          for (const d of runtime.catalog.datasets.list()) process.stdout.write(`${d.database}.${d.name}\t${d.format}\t${d.description}\n`);
        });
      },
    },
    describe: {
      usage: 'dataset describe DB.NAME [--user NAME]   (with --user: as that user sees it)',
      run: async (args) => {
        const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' } });
        const name = requirePositional(positionals, 0, 'dataset name');
        await withRuntime(str(values, 'home'), async (runtime) => {
          const user = str(values, 'user');
          if (user === undefined) printJson(runtime.catalog.datasets.get(name.toLowerCase()));
          else printJson(describeForCaller(runtime.access.effective(principalOf(runtime.users.get(user)), name)));
        });
      },
    },
    tag: {
      usage: 'dataset tag DB.NAME [--add TAG]... [--remove TAG]... [--column COL=TAG]... [--remove-column COL=TAG]...',
      run: async (args) => {
        const { values, positionals } = parse(args, {
          add: { type: 'string', multiple: true },
          remove: { type: 'string', multiple: true },
          column: { type: 'string', multiple: true },
          'remove-column': { type: 'string', multiple: true },
        });
        const name = requirePositional(positionals, 0, 'dataset name');
        const columns: Record<string, { add: string[]; remove: string[] }> = {};
        for (const [col, tag] of pairs(list(values, 'column'), '--column')) (columns[col] ??= { add: [], remove: [] }).add.push(tag);
        for (const [col, tag] of pairs(list(values, 'remove-column'), '--remove-column')) (columns[col] ??= { add: [], remove: [] }).remove.push(tag);
        await withRuntime(str(values, 'home'), async (runtime) => {
          printJson(runtime.catalog.tag(name.toLowerCase(), { add: list(values, 'add'), remove: list(values, 'remove'), columns }));
        });
      },
    },
    update: {
      usage: 'dataset update DB.NAME [--description TEXT] [--owner NAME] [--steward NAME] [--certify draft|validated|deprecated --by NAME [--note TEXT]] [--column-description COL=TEXT]...',
      run: async (args) => {
        const { values, positionals } = parse(args, {
          description: { type: 'string' },
          owner: { type: 'string' },
          steward: { type: 'string' },
          certify: { type: 'string' },
          by: { type: 'string' },
          note: { type: 'string' },
          'column-description': { type: 'string', multiple: true },
        });
        const name = requirePositional(positionals, 0, 'dataset name');
        const status = str(values, 'certify');
        const by = str(values, 'by');
        if (status !== undefined && by === undefined) throw new InvalidRequestError('--certify needs --by NAME: a certification records who made it');
        const note = str(values, 'note');
        const columnDescriptions = Object.fromEntries(pairs(list(values, 'column-description'), '--column-description'));
        await withRuntime(str(values, 'home'), async (runtime) => {
          printJson(
            runtime.catalog.update(name.toLowerCase(), {
              ...optionalStrings(values, ['description', 'owner', 'steward']),
              ...(status === undefined || by === undefined ? {} : { certification: { status, by, ...(note === undefined ? {} : { note }) } }),
              ...(Object.keys(columnDescriptions).length === 0 ? {} : { columnDescriptions }),
            }),
          );
        });
      },
    },
    drop: {
      usage: 'dataset drop DB.NAME   (the files stay where they are)',
      run: async (args) => {
        const { values, positionals } = parse(args, {});
        const name = requirePositional(positionals, 0, 'dataset name');
        await withRuntime(str(values, 'home'), async (runtime) => {
          await runtime.catalog.drop(name.toLowerCase());
          process.stdout.write(`dropped ${name.toLowerCase()}\n`);
        });
      },
    },
  },
  user: {
    add: {
      usage: 'user add NAME [--group G]... [--attr KEY=VALUE]...   (creates or replaces)',
      run: async (args) => {
        const { values, positionals } = parse(args, { group: { type: 'string', multiple: true }, attr: { type: 'string', multiple: true } });
        const name = requirePositional(positionals, 0, 'user name');
        const attributes = groupPairs(list(values, 'attr'), '--attr');
        const flat = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
        await withRuntime(str(values, 'home'), async (runtime) => printJson(runtime.users.put(validateUser({ name, groups: list(values, 'group'), attributes: flat }))));
      },
    },
    list: {
      usage: 'user list',
      run: async (args) => {
        const { values } = parse(args, {});
        await withRuntime(str(values, 'home'), async (runtime) => printJson(runtime.users.list()));
      },
    },
    remove: {
      usage: 'user remove NAME',
      run: async (args) => {
        const { values, positionals } = parse(args, {});
        const name = requirePositional(positionals, 0, 'user name');
        await withRuntime(str(values, 'home'), async (runtime) => {
          runtime.users.delete(name);
          process.stdout.write(`removed ${name}\n`);
        });
      },
    },
    apply: {
      usage: 'user apply -f FILE   (YAML: users: [{name, groups, attributes}])',
      run: async (args) => {
        const { values } = parse(args, FILE);
        const users = parseUserDocument(readFileArg(values));
        await withRuntime(str(values, 'home'), async (runtime) => {
          for (const user of users) runtime.users.put(user);
          process.stdout.write(`applied ${users.length} user(s)\n`);
        });
      },
    },
  },
  policy: {
    apply: {
      usage: 'policy apply -f FILE [--prune]   (YAML or JSON; --prune deletes policies not in FILE)',
      run: async (args) => {
        const { values } = parse(args, { ...FILE, prune: { type: 'boolean' } });
        const policies = parsePolicyDocuments(readFileArg(values));
        await withRuntime(str(values, 'home'), async (runtime) => {
          const result = runtime.policies.apply(policies, { prune: values['prune'] === true });
          for (const [what, names] of Object.entries(result)) if (names.length > 0) process.stdout.write(`${what}: ${names.join(', ')}\n`);
        });
      },
    },
    list: {
      usage: 'policy list',
      run: async (args) => {
        const { values } = parse(args, {});
        await withRuntime(str(values, 'home'), async (runtime) => {
          for (const p of runtime.policies.list()) {
            process.stdout.write(`${p.name}\t${p.effect}\t${p.enabled ? 'enabled' : 'disabled'}\t${p.description ?? ''}\n`);
          }
        });
      },
    },
    export: {
      usage: 'policy export [--json]   (YAML that policy apply accepts)',
      run: async (args) => {
        const { values } = parse(args, { json: { type: 'boolean' } });
        await withRuntime(str(values, 'home'), async (runtime) => {
          const policies = runtime.policies.list();
          if (values['json'] === true) printJson({ policies: policies.map(policyToAuthored) });
          else process.stdout.write(exportPolicyDocument(policies));
        });
      },
    },
    delete: {
      usage: 'policy delete NAME',
      run: async (args) => {
        const { values, positionals } = parse(args, {});
        const name = requirePositional(positionals, 0, 'policy name');
        await withRuntime(str(values, 'home'), async (runtime) => {
          runtime.policies.delete(name);
          process.stdout.write(`deleted ${name}\n`);
        });
      },
    },
  },
};

export const TOP_LEVEL: Record<string, { usage: string; run: Command }> = {
  explain: {
    usage: 'explain --user NAME "SQL"   what NAME would see: columns, transforms, row filters, policies',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required');
      const sql = requirePositional(positionals, 0, 'SQL text');
      await withRuntime(str(values, 'home'), async (runtime) => printJson(await runtime.queries.explain(principalOf(runtime.users.get(user)), sql)));
    },
  },
  query: {
    usage: 'query --user NAME "SQL" [--max-rows N]   run as NAME through the same pipeline (audited, door cli); prints JSON lines',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' }, 'max-rows': { type: 'string' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required');
      const sql = requirePositional(positionals, 0, 'SQL text');
      const maxRows = Number(str(values, 'max-rows') ?? 100);
      await withRuntime(str(values, 'home'), async (runtime) => {
        const principal = principalOf(runtime.users.get(user));
        const started = performance.now();
        const base = {
          event_time: new Date().toISOString(), request_id: crypto.randomUUID(), user: principal.user, groups: principal.groups,
          client_application: 'veil-cli', client_address: null, door: 'cli' as const, statement: sql, statement_type: 'query',
        };
        let seq: number | undefined;
        try {
          const prepared = await runtime.queries.prepare(principal, sql);
          seq = runtime.audit.begin({ ...base, datasets: prepared.datasets, columns: prepared.columns, policies: prepared.policies, decision: 'allowed', rows_returned: null, bytes_returned: null, duration_ms: null, error_code: null });
          const stream = await runtime.queries.open(prepared);
          let rows = 0;
          try {
            process.stdout.write(`${JSON.stringify(stream.columns.map((c) => c.name))}\n`);
            for (let chunk = await stream.nextChunk(); chunk !== null && rows < maxRows; chunk = await stream.nextChunk()) {
              for (const row of chunkRowsJson(chunk).slice(0, maxRows - rows)) {
                process.stdout.write(`${JSON.stringify(row)}\n`);
                rows++;
              }
            }
          } finally {
            stream.close();
          }
          runtime.audit.finish(seq, { decision: 'allowed', rows_returned: rows, bytes_returned: null, duration_ms: performance.now() - started, error_code: null });
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'INTERNAL';
          const completion = { decision: 'error' as const, rows_returned: null, bytes_returned: null, duration_ms: performance.now() - started, error_code: code };
          if (seq !== undefined) runtime.audit.finish(seq, completion);
          else runtime.audit.record({ ...base, datasets: [], columns: [], policies: [], ...completion });
          throw error;
        }
      });
    },
  },
  demo: {
    usage: 'demo [--rows N]   generate and register the demo data, users and policies without serving',
    run: async (args) => {
      const { values } = parse(args, { rows: { type: 'string' } });
      const rows = Number(str(values, 'rows') ?? 100_000);
      await withRuntime(str(values, 'home'), async (runtime) => {
        await setupDemo(runtime, rows, (line) => process.stderr.write(`${line}\n`));
      });
    },
  },
};
