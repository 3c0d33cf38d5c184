import { InvalidRequestError } from '../errors/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import type { PreparedQuery } from '../query/index.ts';
import { sendJson, type Route } from './routing.ts';
import { optionalPositiveInteger, optionalStringList, readJsonBody, requirePrincipal, stringField, type RequestContext } from './request-context.ts';
import { deliverResult, negotiateFormat } from './result-writers.ts';

/** POST /v1/query, /v1/scan, /v1/explain: the data doors of the HTTP API. */
export function dataRoutes(runtime: VeilRuntime): Route[] {
  const deliver = async (ctx: RequestContext, prepared: PreparedQuery, requestedMaxRows: number | undefined): Promise<void> => {
    const format = negotiateFormat(ctx.req.headers.accept);
    ctx.audit.datasets = prepared.datasets;
    ctx.audit.columns = prepared.columns;
    ctx.audit.policies = prepared.policies;
    const maxRows = Math.min(requestedMaxRows ?? runtime.settings.maxResultRows, runtime.settings.maxResultRows);
    // Durable before any byte of the result leaves (docs/security.md invariant 10).
    ctx.audit.seq = runtime.audit.begin(auditStart(ctx));
    const outcome = await deliverResult(ctx.res, format, prepared, runtime.queries, { maxRows, rowLimitRequested: requestedMaxRows !== undefined && requestedMaxRows < runtime.settings.maxResultRows, maxBytes: runtime.settings.maxResultBytes, includeSchema: wantsResultSchema(ctx) }, runtime.home.spoolDirectory, {
      'X-Request-Id': ctx.requestId,
      'X-Veil-Row-Limit': String(maxRows),
      'Cache-Control': 'no-store',
    });
    ctx.audit.rows = outcome.rows;
    ctx.audit.bytes = outcome.bytes;
  };

  return [
    {
      method: 'POST',
      path: '/v1/query',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const sql = stringField(body, 'sql', true);
        ctx.audit.statement = sql;
        ctx.audit.statementType = 'query';
        const maxRows = optionalPositiveInteger(body, 'max_rows');
        const prepared = await runtime.queries.prepare(requirePrincipal(ctx), sql);
        await deliver(ctx, prepared, maxRows);
      },
    },
    {
      method: 'POST',
      path: '/v1/scan',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const dataset = stringField(body, 'dataset', true);
        const columns = optionalStringList(body, 'columns');
        ctx.audit.statementType = 'scan';
        ctx.audit.statement = `scan ${dataset}${columns ? ` (${columns.join(', ')})` : ''}`;
        const maxRows = optionalPositiveInteger(body, 'max_rows');
        const prepared = await runtime.queries.prepareScan(requirePrincipal(ctx), dataset, columns);
        await deliver(ctx, prepared, maxRows);
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/preview',
      handler: async (ctx) => {
        // The first rows through exactly the scan path: same policies, audited as a preview.
        const dataset = ctx.params['name'] ?? '';
        const limitText = ctx.url.searchParams.get('limit');
        const limit = limitText === null ? DEFAULT_PREVIEW_ROWS : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW_ROWS) throw new InvalidRequestError(`limit must be a whole number from 1 to ${MAX_PREVIEW_ROWS}`);
        ctx.audit.statementType = 'preview';
        ctx.audit.statement = `preview ${dataset} (${limit} rows)`;
        const prepared = await runtime.queries.prepareScan(requirePrincipal(ctx), dataset);
        await deliver(ctx, prepared, limit);
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/access',
      handler: async (ctx) => {
        const dataset = ctx.params['name'] ?? '';
        ctx.audit.statementType = 'describe';
        ctx.audit.statement = `access snippets ${dataset}`;
        const effective = runtime.access.effective(requirePrincipal(ctx), dataset);
        const name = `${effective.dataset.database}.${effective.dataset.name}`;
        ctx.audit.datasets = [name];
        sendJson(ctx, 200, { dataset: name, readable: effective.readable, snippets: accessSnippets(name, serverAddress(ctx, runtime.settings.publicUrl)) });
      },
    },
    {
      method: 'POST',
      path: '/v1/explain',
      handler: async (ctx) => {
        const body = await readJsonBody(ctx.req);
        const sql = stringField(body, 'sql', true);
        ctx.audit.statement = sql;
        ctx.audit.statementType = 'explain';
        const explanation = await runtime.queries.explain(requirePrincipal(ctx), sql);
        ctx.audit.datasets = explanation.datasets.map((d) => d.dataset);
        sendJson(ctx, 200, explanation);
      },
    },
  ];
}

function wantsResultSchema(ctx: RequestContext): boolean {
  const value = ctx.req.headers['x-veil-result-schema'];
  return (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase() === 'include';
}

const DEFAULT_PREVIEW_ROWS = 20;
const MAX_PREVIEW_ROWS = 1000;

/**
 * Where clients reach this server, for ready-to-paste snippets: the configured public URL (behind
 * a proxy or TLS terminator), else the Host the caller used when it is a valid host name or IP
 * literal with a valid port, else this socket's own address. Nothing a client sends reaches a
 * snippet unvalidated: they are pasted into shells and notebooks.
 */
function serverAddress(ctx: RequestContext, publicUrl: string): { host: string; port: number; url: string } {
  if (publicUrl !== '') {
    const url = new URL(publicUrl);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return { host: url.hostname, port, url: url.origin };
  }
  const localPort = ctx.req.socket.localPort ?? 7070;
  const host = (ctx.req.headers.host ?? '').trim();
  const match = /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(host);
  const port = match?.[2] === undefined ? (match === null ? localPort : 80) : Number(match[2]);
  if (match === null || match[1] === undefined || port < 1 || port > 65535) return { host: '127.0.0.1', port: localPort, url: `http://127.0.0.1:${localPort}` };
  return { host: match[1], port, url: `http://${match[1]}${match[2] === undefined ? '' : `:${port}`}` };
}

/** The Python client uses TLS for every host but loopback ones unless told: say so when that differs. */
function pythonTls(server: { host: string; url: string }): string {
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(server.host);
  const https = server.url.startsWith('https:');
  if (https === !loopback) return '';
  return https ? ', tls=True' : ', tls=False';
}

/** How to read a dataset from each tool, filled in with this server and the dataset. */
export function accessSnippets(dataset: string, server: { host: string; port: number; url: string }): Record<string, string> {
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
  return { python, typescript, sql, curl };
}

export function auditStart(ctx: RequestContext) {
  return {
    event_time: new Date(ctx.startedAt).toISOString(),
    request_id: ctx.requestId,
    user: ctx.principal?.user ?? null,
    groups: ctx.principal?.groups ?? [],
    client_application: ctx.clientApplication,
    client_address: ctx.clientAddress,
    door: ctx.door,
    statement: ctx.audit.statement,
    statement_type: ctx.audit.statementType,
    datasets: ctx.audit.datasets,
    columns: ctx.audit.columns,
    policies: ctx.audit.policies,
    decision: 'allowed' as const,
    rows_returned: null,
    bytes_returned: null,
    duration_ms: null,
    error_code: null,
  };
}

export function ensureNoBody(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw new InvalidRequestError(`unknown field "${key}"`);
}
