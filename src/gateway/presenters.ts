import { fullName, type Dataset } from '../catalog/index.ts';
import type { EffectiveDatasetPolicy } from '../policy/index.ts';

/** What every listing of a dataset shows: its identity, documentation and the caller's access. */
export function datasetSummary(effective: EffectiveDatasetPolicy): Record<string, unknown> {
  const d = effective.dataset;
  return {
    name: fullName(d),
    database: d.database,
    description: d.description,
    owner: d.owner,
    steward: d.steward ?? null,
    certification: d.certification ?? null,
    tags: d.tags,
    access: effective.readable ? 'read' : 'metadata',
  };
}

/** How a column's masks read: "tokenize", or "mask_email when …; else hash". */
export function transformText(masks: EffectiveDatasetPolicy['columns'][number]['masks']): string | null {
  return masks.length === 0 ? null : masks.map((m) => (m.when === undefined ? m.transform.text : `${m.transform.text} when ${m.when}`)).join('; else ');
}

/** A dataset as the caller may see it: the summary plus the caller's own access per column. */
export function describeForCaller(effective: EffectiveDatasetPolicy): Record<string, unknown> {
  const d = effective.dataset;
  return {
    ...datasetSummary(effective),
    format: d.system ? 'system' : d.format,
    ...(effective.denial === undefined ? {} : { denial: effective.denial }),
    columns: effective.columns.map((c) => ({
      name: c.column.name,
      type: c.column.type,
      tags: c.column.tags,
      description: c.column.description ?? '',
      access: effective.readable ? c.access : 'hidden',
      transform: transformText(c.masks),
    })),
    row_filters: effective.rowFilters,
    policies: effective.policies,
  };
}

/** A dataset as its administrators manage it: everything stored. */
export function adminView(dataset: Dataset): Record<string, unknown> {
  return { ...dataset, name: fullName(dataset) };
}

/** Where a client reaches Veil, for ready-to-paste snippets. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The PostgreSQL door, when it listens. */
  readonly pg?: { readonly host: string; readonly port: number };
}

/** The Python client uses TLS for every host but loopback ones unless told: say so when that differs. */
function pythonTls(server: ServerAddress): string {
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(server.host);
  const https = server.url.startsWith('https:');
  if (https === !loopback) return '';
  return https ? ', tls=True' : ', tls=False';
}

/** How to read a dataset from each tool, filled in with this server and the dataset. */
export function accessSnippets(dataset: string, server: ServerAddress): Record<string, string> {
  const python = [
    'import veil',
    '',
    "ctx = veil.context()  # token: VEIL_TOKEN, VEIL_TOKEN_FILE or ~/.veil/token",
    `with ctx.connect(host=${JSON.stringify(server.host)}, port=${server.port}${pythonTls(server)}) as conn:`,
    `    df = conn.scan_as_pandas(${JSON.stringify(dataset)})`,
  ].join('\n');
  const typescript = [
    "import { connect } from 'veil/client';",
    '',
    `const veil = connect({ url: ${JSON.stringify(server.url)} }); // token: VEIL_TOKEN or VEIL_TOKEN_FILE`,
    `const rows = await veil.scanAsObjects(${JSON.stringify(dataset)}, { maxRecords: 1000 });`,
  ].join('\n');
  const sql = `SELECT * FROM ${dataset} LIMIT 100;`;
  const curl = [
    `curl -s ${server.url}/v1/scan \\`,
    '  -H "Authorization: Bearer $VEIL_TOKEN" -H \'Content-Type: application/json\' -H \'Accept: text/csv\' \\',
    `  -d '{"dataset": "${dataset}", "max_rows": 1000}'`,
  ].join('\n');
  const snippets: Record<string, string> = { python, typescript, sql, curl };
  if (server.pg !== undefined) {
    const host = server.pg.host.replace(/^\[(.*)\]$/, '$1');
    // The token is the password: from the environment, never written into the line itself.
    snippets['psql'] = `PGPASSWORD="$VEIL_TOKEN" psql "host=${host} port=${server.pg.port} dbname=veil user=$VEIL_USER" -c 'SELECT * FROM ${dataset} LIMIT 100'`;
    snippets['jdbc'] = `jdbc:postgresql://${server.pg.host}:${server.pg.port}/veil?user=<your user>&password=<your token>`;
  }
  return snippets;
}
