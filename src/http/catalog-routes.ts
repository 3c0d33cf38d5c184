import { classifyDataset, crawlUri, decideClassification, fullName, splitDatasetName, SqliteCrawlState, type Dataset } from '../catalog/index.ts';
import { AccessDeniedError, InvalidRequestError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { EffectiveDatasetPolicy } from '../policy/index.ts';
import type { VeilRuntime } from '../server/veil-runtime.ts';
import { MAX_SEARCH_RESULTS, searchCatalog } from '../query/index.ts';
import { sendJson, type Route } from './routing.ts';
import { optionalStringList, readJsonBody, requirePrincipal, stringField, type RequestContext } from './request-context.ts';

export function isAdmin(runtime: VeilRuntime, principal: Principal): boolean {
  return principal.groups.some((g) => runtime.settings.adminGroups.includes(g));
}

export function requireAdmin(runtime: VeilRuntime, ctx: RequestContext): Principal {
  const principal = requirePrincipal(ctx);
  if (!isAdmin(runtime, principal)) {
    throw new AccessDeniedError(`this operation needs membership in one of the admin groups (${runtime.settings.adminGroups.join(', ')})`);
  }
  return principal;
}

/** What every listing of a dataset shows: its identity, documentation and the caller's access. */
function summary(effective: EffectiveDatasetPolicy): Record<string, unknown> {
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

/** A dataset as the caller may see it: the summary plus the caller's own access per column. */
export function describeForCaller(effective: EffectiveDatasetPolicy): Record<string, unknown> {
  const d = effective.dataset;
  return {
    ...summary(effective),
    format: d.system ? 'system' : d.format,
    ...(effective.denial === undefined ? {} : { denial: effective.denial }),
    columns: effective.columns.map((c) => ({
      name: c.column.name,
      type: c.column.type,
      tags: c.column.tags,
      description: c.column.description ?? '',
      access: effective.readable ? c.access : 'hidden',
      transform: c.masks.length === 0 ? null : c.masks.map((m) => (m.when === undefined ? m.transform.text : `${m.transform.text} when ${m.when}`)).join('; else '),
    })),
    row_filters: effective.rowFilters,
    policies: effective.policies,
  };
}

function adminView(dataset: Dataset): Record<string, unknown> {
  return { ...dataset, name: fullName(dataset) };
}

export function catalogRoutes(runtime: VeilRuntime): Route[] {
  /** Dataset popularity from the audit trail for search ranking, refreshed at most once a minute. */
  let popularityCache: { at: number; value: Promise<Map<string, number>> } | undefined;
  const popularity = (): Promise<Map<string, number>> => {
    const now = Date.now();
    if (popularityCache === undefined || now - popularityCache.at > 60_000) popularityCache = { at: now, value: runtime.audit.datasetPopularity(30) };
    return popularityCache.value;
  };
  const datasetName = (ctx: RequestContext): string => {
    const name = ctx.params['name'] ?? '';
    ctx.audit.datasets = [name.toLowerCase()];
    return name;
  };
  return [
    {
      method: 'GET',
      path: '/v1/datasets',
      handler: async (ctx) => {
        ctx.audit.statementType = 'list';
        ctx.audit.statement = `list datasets${ctx.url.search}`;
        const database = ctx.url.searchParams.get('database')?.toLowerCase();
        // Built-in datasets (veil_system.*) are listed on request: a listing shows the data people work with.
        const includeSystem = ctx.url.searchParams.get('include_system') === 'true' || database === 'veil_system';
        const visible = runtime.access
          .visibleDatasets(requirePrincipal(ctx))
          .filter((e) => database === undefined || e.dataset.database === database)
          .filter((e) => includeSystem || !e.dataset.system);
        sendJson(ctx, 200, { datasets: visible.map(summary) });
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}/classification',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const name = datasetName(ctx);
        ctx.audit.statement = `classify ${name}`;
        sendJson(ctx, 200, await classifyDataset(runtime.catalog, runtime.engine, runtime.controlDb, checkedName(name)));
      },
    },
    {
      method: 'POST',
      path: '/v1/datasets/{name}/classification',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        const principal = requireAdmin(runtime, ctx);
        const name = datasetName(ctx);
        const body = await readJsonBody(ctx.req);
        const decisions = (key: string): { column: string; tag: string }[] => {
          const value = body[key];
          if (value === undefined) return [];
          if (!Array.isArray(value) || !value.every((d) => isRecord(d) && typeof d['column'] === 'string' && typeof d['tag'] === 'string')) {
            throw new InvalidRequestError(`"${key}" must be a list of {"column", "tag"}`);
          }
          return value.map((d) => ({ column: String((d as Record<string, unknown>)['column']), tag: String((d as Record<string, unknown>)['tag']) }));
        };
        const accept = decisions('accept');
        const reject = decisions('reject');
        ctx.audit.statement = `classification ${name}: accept ${accept.map((d) => `${d.column}=${d.tag}`).join(' ')}; reject ${reject.map((d) => `${d.column}=${d.tag}`).join(' ')}`;
        decideClassification(runtime.catalog, runtime.controlDb, checkedName(name), { accept, reject }, principal.user);
        sendJson(ctx, 200, await classifyDataset(runtime.catalog, runtime.engine, runtime.controlDb, checkedName(name)));
      },
    },
    {
      method: 'POST',
      path: '/v1/catalog/crawl',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const body = await readJsonBody(ctx.req);
        const prefix = stringField(body, 'prefix', true);
        const database = stringField(body, 'database', true);
        const owner = stringField(body, 'owner', false);
        ctx.audit.statement = `crawl ${prefix} into ${database}`;
        const report = await crawlUri(
          { catalog: runtime.catalog, engine: runtime.engine, state: new SqliteCrawlState(runtime.controlDb), storageRoot: runtime.home.storageRoot },
          prefix,
          { database, ...(owner === undefined ? {} : { owner }) },
        );
        ctx.audit.datasets = report.registered.map((r) => r.dataset);
        sendJson(ctx, 200, report);
      },
    },
    {
      method: 'GET',
      path: '/v1/search',
      handler: async (ctx) => {
        ctx.audit.statementType = 'search';
        const params = ctx.url.searchParams;
        const query = params.get('q') ?? '';
        ctx.audit.statement = `search ${query.slice(0, 500)}`;
        const limitText = params.get('limit');
        const limit = limitText === null ? undefined : Number(limitText);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_RESULTS)) throw new InvalidRequestError(`limit must be a whole number from 1 to ${MAX_SEARCH_RESULTS}`);
        const optional = (key: string): Record<string, string> => {
          const value = params.get(key);
          return value === null || value === '' ? {} : { [key]: value };
        };
        const results = searchCatalog(
          runtime.access,
          requirePrincipal(ctx),
          { query, ...optional('database'), ...optional('tag'), ...optional('owner'), ...optional('certification'), ...(limit === undefined ? {} : { limit }), includeSystem: params.get('include_system') === 'true' },
          await popularity(),
        );
        ctx.audit.datasets = results.map((r) => r.name);
        sendJson(ctx, 200, { results });
      },
    },
    {
      method: 'GET',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'describe';
        const name = datasetName(ctx);
        ctx.audit.statement = `describe ${name}`;
        const effective = runtime.access.effective(requirePrincipal(ctx), name);
        ctx.audit.policies = effective.policies;
        sendJson(ctx, 200, describeForCaller(effective));
      },
    },
    {
      method: 'POST',
      path: '/v1/datasets',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const body = await readJsonBody(ctx.req);
        const name = stringField(body, 'name', true);
        ctx.audit.statement = `register ${name}`;
        ctx.audit.datasets = [name.toLowerCase()];
        const format = stringField(body, 'format', false);
        if (format !== undefined && !['csv', 'parquet', 'json'].includes(format)) throw new InvalidRequestError('format must be csv, parquet or json');
        const csv = (body['csv'] ?? {}) as Record<string, unknown>;
        const description = stringField(body, 'description', false);
        const owner = stringField(body, 'owner', false);
        const tags = optionalStringList(body, 'tags');
        const dataset = await runtime.catalog.register({
          name,
          location: stringField(body, 'location', true),
          ...(format === undefined ? {} : { format: format as 'csv' | 'parquet' | 'json' }),
          csv: {
            ...(typeof csv['header'] === 'boolean' ? { header: csv['header'] } : {}),
            ...(typeof csv['delimiter'] === 'string' ? { delimiter: csv['delimiter'] } : {}),
            ...(typeof csv['null_string'] === 'string' ? { nullString: csv['null_string'] } : {}),
          },
          ...(description === undefined ? {} : { description }),
          ...(owner === undefined ? {} : { owner }),
          ...(tags === undefined ? {} : { tags }),
          ...(isRecord(body['column_tags']) ? { columnTags: body['column_tags'] as Record<string, string[]> } : {}),
          ...(isRecord(body['column_types']) ? { columnTypes: body['column_types'] as Record<string, string> } : {}),
          ...(isRecord(body['column_descriptions']) ? { columnDescriptions: body['column_descriptions'] as Record<string, string> } : {}),
        });
        // Proposals for the steward to review; nothing is tagged until accepted.
        const classification = await classifyDataset(runtime.catalog, runtime.engine, runtime.controlDb, fullName(dataset)).catch(() => null);
        sendJson(ctx, 201, { ...adminView(dataset), classification });
      },
    },
    {
      method: 'PATCH',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const name = datasetName(ctx);
        ctx.audit.statement = `update ${name}`;
        const body = await readJsonBody(ctx.req);
        const description = stringField(body, 'description', false);
        const owner = stringField(body, 'owner', false);
        const steward = stringField(body, 'steward', false);
        const certification = isRecord(body['certification']) ? (body['certification'] as Record<string, unknown>) : undefined;
        if (body['certification'] !== undefined && certification === undefined) throw new InvalidRequestError('"certification" must be an object {"status", "note"?}');
        const status = certification === undefined ? undefined : stringField(certification, 'status', true);
        const note = certification === undefined ? undefined : stringField(certification, 'note', false);
        const dataset = runtime.catalog.update(checkedName(name), {
          ...(description === undefined ? {} : { description }),
          ...(owner === undefined ? {} : { owner }),
          ...(steward === undefined ? {} : { steward }),
          ...(status === undefined ? {} : { certification: { status, by: requirePrincipal(ctx).user, ...(note === undefined ? {} : { note }) } }),
          ...(isRecord(body['column_descriptions']) ? { columnDescriptions: body['column_descriptions'] as Record<string, string> } : {}),
        });
        sendJson(ctx, 200, adminView(dataset));
      },
    },
    {
      method: 'POST',
      path: '/v1/datasets/{name}/tags',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const name = datasetName(ctx);
        ctx.audit.statement = `tag ${name}`;
        const body = await readJsonBody(ctx.req);
        const add = optionalStringList(body, 'add');
        const remove = optionalStringList(body, 'remove');
        const dataset = runtime.catalog.tag(checkedName(name), {
          ...(add === undefined ? {} : { add }),
          ...(remove === undefined ? {} : { remove }),
          ...(isRecord(body['columns']) ? { columns: body['columns'] as Record<string, { add?: string[]; remove?: string[] }> } : {}),
        });
        sendJson(ctx, 200, adminView(dataset));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/datasets/{name}',
      handler: async (ctx) => {
        ctx.audit.statementType = 'admin';
        requireAdmin(runtime, ctx);
        const name = datasetName(ctx);
        ctx.audit.statement = `drop ${name}`;
        await runtime.catalog.drop(checkedName(name));
        sendJson(ctx, 200, { dropped: name.toLowerCase() });
      },
    },
  ];
}

function checkedName(name: string): string {
  return splitDatasetName(name).join('.');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
