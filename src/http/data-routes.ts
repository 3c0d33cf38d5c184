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
    // Durable before any byte of the result leaves (SECURITY.md invariant 10).
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
