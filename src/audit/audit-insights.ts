import { fullName, sourceViewName, type Dataset } from '../catalog/index.ts';
import { sqlString } from '../engine/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import { principalOf } from '../identity/index.ts';
import type { Principal, UserRecord } from '../identity/index.ts';
import type { StoredPolicy } from '../policy/index.ts';

/**
 * Aggregates over the whole audit trail for compliance: who read what, when, through which tool,
 * who read sensitive (pii / phi) columns, who was refused, and which grants and accesses go unused.
 * Everything is computed from the unfiltered audit relation, so callers must be entitled to see
 * everyone's records (the HTTP route admits compliance and the admin groups only).
 *
 * A "read" is an allowed query or scan (statement types in READ_STATEMENT_TYPES): describes,
 * explains and admin calls name datasets too, but return no data. A read of several datasets counts
 * once for each of them, with the request's full rows and bytes (as in veil_system.audit_daily).
 */
/** What insights read: the audit relation, the catalog, policies, users and their access (structural, so audit depends on no runtime). */
export interface InsightsRuntime {
  readonly audit: { syncMirror(): Promise<void> };
  readonly engine: { runInternal<T>(sql: string): Promise<T[]> };
  readonly catalog: { readonly datasets: { list(): Promise<readonly Dataset[]> } };
  readonly policies: { list(): Promise<readonly StoredPolicy[]> };
  readonly users: { list(): Promise<readonly UserRecord[]> };
  readonly access: { visibleDatasets(principal: Principal): Promise<readonly { readonly readable: boolean; readonly dataset: Dataset }[]> };
}

export interface InsightsOptions {
  /** Window length in days, ending at `now` (a rolling window, not calendar days). */
  readonly days: number;
  readonly now?: Date;
  /** Length of top_datasets and top_columns. */
  readonly top?: number;
}

export const INSIGHTS_DAYS = { min: 1, max: 3650, default: 30 } as const;
export const INSIGHTS_TOP = { min: 1, max: 100, default: 10 } as const;
/** unused_access grows with users × datasets; past this many rows the list is cut (and says so). */
export const UNUSED_ACCESS_LIMIT = 5000;
const READ_STATEMENT_TYPES = ['query', 'scan'] as const;
/** Tag families whose readers are reported: `pii`, `pii.email`, `phi.dob`, … */
const SENSITIVE_TAG = /^(pii|phi)(\.|$)/;

export interface AccessesOverTimeRow {
  readonly day: string;
  /** Which breakdown the row belongs to; the other breakdowns' keys are null. */
  readonly by: 'dataset' | 'user' | 'client';
  readonly dataset: string | null;
  readonly user: string | null;
  readonly door: string | null;
  readonly client_application: string | null;
  readonly requests: number;
  readonly rows_returned: number;
  readonly bytes_returned: number;
}

export interface SensitiveAccessRow {
  readonly tag: string;
  readonly user: string | null;
  readonly dataset: string;
  /** Reads whose columns include at least one column carrying the tag (counted once per read). */
  readonly requests: number;
  readonly rows_returned: number;
  readonly last_at: string;
}

export interface DeniedAttemptRow {
  readonly user: string | null;
  readonly error_code: string | null;
  readonly statement_type: string;
  readonly datasets: string[];
  readonly count: number;
  readonly last_at: string;
}

export interface UnusedGrantRow {
  readonly policy: string;
  readonly description: string | null;
  readonly actions: readonly string[];
  readonly subjects: unknown;
  readonly resources: unknown;
  /** Latest allowed record listing the policy, at any time before the window's end. */
  readonly last_used_at: string | null;
}

export interface UnusedAccessRow {
  readonly user: string;
  readonly dataset: string;
  /** Latest read of the dataset by the user, at any time before the window's end. */
  readonly last_read_at: string | null;
}

export interface TopDatasetRow {
  readonly dataset: string;
  readonly requests: number;
  readonly rows_returned: number;
  readonly bytes_returned: number;
  readonly users: number;
}

export interface TopColumnRow {
  readonly column: string;
  readonly dataset: string;
  readonly requests: number;
  readonly rows_returned: number;
  readonly users: number;
}

export interface AuditInsights {
  readonly generated_at: string;
  readonly window: { readonly days: number; readonly from: string; readonly to: string };
  readonly accesses_over_time: AccessesOverTimeRow[];
  readonly sensitive_access: SensitiveAccessRow[];
  readonly denied_attempts: DeniedAttemptRow[];
  readonly unused_grants: UnusedGrantRow[];
  readonly unused_access: UnusedAccessRow[];
  readonly top_datasets: TopDatasetRow[];
  readonly top_columns: TopColumnRow[];
  /** Sections cut at a limit. */
  readonly truncated: { readonly unused_access: boolean };
}

/** Validates `days` and `top` as given on a query string or command line (absent = default). */
export function parseInsightsOptions(input: { days?: string | null | undefined; top?: string | null | undefined }): { days: number; top: number } {
  return {
    days: boundedInteger('days', input.days, INSIGHTS_DAYS),
    top: boundedInteger('top', input.top, INSIGHTS_TOP),
  };
}

function boundedInteger(name: string, text: string | null | undefined, range: { min: number; max: number; default: number }): number {
  if (text === undefined || text === null) return range.default;
  const value = /^\d{1,6}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new InvalidRequestError(`${name} must be an integer from ${range.min} to ${range.max}`, { [name]: text.slice(0, 32) });
  }
  return value;
}

export async function computeInsights(runtime: InsightsRuntime, options: InsightsOptions): Promise<AuditInsights> {
  const days = boundedInteger('days', String(options.days), INSIGHTS_DAYS);
  const top = boundedInteger('top', String(options.top ?? INSIGHTS_TOP.default), INSIGHTS_TOP);
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - days * 86_400_000);
  await runtime.audit.syncMirror();
  const sql = new InsightsSql(sourceViewName({ database: 'veil_system', name: 'audit_log' }), from, to);
  const run = <T>(text: string) => runtime.engine.runInternal<T>(text);
  const tagged = sensitiveColumns(await runtime.catalog.datasets.list());

  const [byDataset, byUser, byClient, sensitive, denied, policyUse, reads, topDatasets, topColumns] = await Promise.all([
    run<[string, string, string, string, string]>(sql.accessesByDataset()),
    run<[string, string | null, string, string, string]>(sql.accessesByUser()),
    run<[string, string, string | null, string, string, string]>(sql.accessesByClient()),
    tagged.length === 0 ? Promise.resolve([]) : run<[string, string | null, string, string, string, string]>(sql.sensitiveAccess(tagged)),
    run<[string | null, string | null, string, string[] | null, string, string]>(sql.deniedAttempts()),
    run<[string, string, boolean]>(sql.policyUse()),
    run<[string, string, string, boolean]>(sql.datasetReads()),
    run<[string, string, string, string, string]>(sql.topDatasets(top)),
    run<[string, string, string, string]>(sql.topColumns(top)),
  ]);

  const accesses: AccessesOverTimeRow[] = [
    ...byDataset.map(([day, dataset, requests, rows, bytes]) => accessRow(day, 'dataset', { dataset }, requests, rows, bytes)),
    ...byUser.map(([day, user, requests, rows, bytes]) => accessRow(day, 'user', { user }, requests, rows, bytes)),
    ...byClient.map(([day, door, client, requests, rows, bytes]) => accessRow(day, 'client', { door, client_application: client }, requests, rows, bytes)),
  ];
  const unusedAccess = await findUnusedAccess(runtime, reads);
  return {
    generated_at: new Date().toISOString(),
    window: { days, from: from.toISOString(), to: to.toISOString() },
    accesses_over_time: accesses,
    sensitive_access: sensitive.map(([tag, user, dataset, requests, rows, last]) => ({ tag, user, dataset, requests: Number(requests), rows_returned: Number(rows), last_at: last })),
    denied_attempts: denied.map(([user, code, type, list, count, last]) => ({ user, error_code: code, statement_type: type, datasets: list ?? [], count: Number(count), last_at: last })),
    unused_grants: await findUnusedGrants(runtime, policyUse),
    unused_access: unusedAccess.rows,
    top_datasets: topDatasets.map(([dataset, requests, rows, bytes, users]) => ({ dataset, requests: Number(requests), rows_returned: Number(rows), bytes_returned: Number(bytes), users: Number(users) })),
    top_columns: topColumns.map(([column, requests, rows, users]) => ({ column, dataset: column.slice(0, column.lastIndexOf('.')), requests: Number(requests), rows_returned: Number(rows), users: Number(users) })),
    truncated: { unused_access: unusedAccess.truncated },
  };
}

function accessRow(day: string, by: AccessesOverTimeRow['by'], keys: Partial<Record<'dataset' | 'user' | 'door' | 'client_application', string | null>>, requests: string, rows: string, bytes: string): AccessesOverTimeRow {
  return {
    day,
    by,
    dataset: keys.dataset ?? null,
    user: keys.user ?? null,
    door: keys.door ?? null,
    client_application: keys.client_application ?? null,
    requests: Number(requests),
    rows_returned: Number(rows),
    bytes_returned: Number(bytes),
  };
}

/** `db.name.column` → sensitive tags, a column inheriting its dataset's tags as policies do. */
function sensitiveColumns(datasets: readonly Dataset[]): { column: string; dataset: string; tag: string }[] {
  const out: { column: string; dataset: string; tag: string }[] = [];
  for (const dataset of datasets) {
    const name = fullName(dataset);
    for (const column of dataset.columns) {
      for (const tag of new Set([...dataset.tags, ...column.tags])) {
        if (SENSITIVE_TAG.test(tag)) out.push({ column: `${name}.${column.name}`, dataset: name, tag });
      }
    }
  }
  return out;
}

/**
 * Enabled grants no allowed record of the window lists. Records list the policies that shaped each
 * access, so this approximates "no one it applies to used it on what it covers". Describe-only
 * grants never shape a read and show as unused unless a describe of a readable dataset listed them.
 */
async function findUnusedGrants(runtime: InsightsRuntime, use: readonly [string, string, boolean][]): Promise<UnusedGrantRow[]> {
  const byPolicy = new Map(use.map(([policy, last, inWindow]) => [policy, { last, inWindow }]));
  return (await runtime.policies.list())
    .filter((p) => p.effect === 'grant' && p.enabled && byPolicy.get(p.name)?.inWindow !== true)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      policy: p.name,
      description: p.description ?? null,
      actions: [...p.actions],
      subjects: p.subjects,
      resources: p.resources,
      last_used_at: byPolicy.get(p.name)?.last ?? null,
    }));
}

/** Stored users' readable (non-system) datasets, under today's policies, with no read in the window. */
async function findUnusedAccess(runtime: InsightsRuntime, reads: readonly [string, string, string, boolean][]): Promise<{ rows: UnusedAccessRow[]; truncated: boolean }> {
  const byPair = new Map(reads.map(([user, dataset, last, inWindow]) => [`${user}\u0000${dataset}`, { last, inWindow }]));
  const rows: UnusedAccessRow[] = [];
  const users = [...(await runtime.users.list())].sort((a, b) => a.name.localeCompare(b.name));
  for (const user of users) {
    const readable = (await runtime.access.visibleDatasets(principalOf(user)))
      .filter((e) => e.readable && e.dataset.system !== true)
      .map((e) => fullName(e.dataset))
      .sort();
    for (const dataset of readable) {
      const read = byPair.get(`${user.name}\u0000${dataset}`);
      if (read?.inWindow === true) continue;
      if (rows.length >= UNUSED_ACCESS_LIMIT) return { rows, truncated: true };
      rows.push({ user: user.name, dataset, last_read_at: read?.last ?? null });
    }
  }
  return { rows, truncated: false };
}

/** The SQL of each section, over the audit relation and the window [from, to]. */
class InsightsSql {
  private readonly from: string;
  private readonly to: string;

  constructor(
    private readonly records: string,
    from: Date,
    to: Date,
  ) {
    this.from = `CAST(${sqlString(from.toISOString())} AS TIMESTAMP)`;
    this.to = `CAST(${sqlString(to.toISOString())} AS TIMESTAMP)`;
  }

  /** Records of the window. */
  private get windowed(): string {
    return `(SELECT * FROM ${this.records} WHERE event_time >= ${this.from} AND event_time <= ${this.to})`;
  }

  /** Allowed reads of the window. */
  private get reads(): string {
    return `(SELECT * FROM ${this.windowed} WHERE decision = 'allowed' AND statement_type IN (${READ_STATEMENT_TYPES.map(sqlString).join(', ')}))`;
  }

  private static readonly day = `strftime(CAST(event_time AS DATE), '%Y-%m-%d')`;
  private static readonly totals = `count(*), coalesce(sum(rows_returned), 0), coalesce(sum(bytes_returned), 0)`;

  accessesByDataset(): string {
    return `SELECT ${InsightsSql.day} AS day, dataset, ${InsightsSql.totals}
      FROM (SELECT event_time, rows_returned, bytes_returned, unnest(datasets) AS dataset FROM ${this.reads})
      GROUP BY ALL ORDER BY day, dataset`;
  }

  accessesByUser(): string {
    return `SELECT ${InsightsSql.day} AS day, "user", ${InsightsSql.totals} FROM ${this.reads} GROUP BY ALL ORDER BY day, "user" NULLS LAST`;
  }

  accessesByClient(): string {
    return `SELECT ${InsightsSql.day} AS day, door, client_application, ${InsightsSql.totals} FROM ${this.reads}
      GROUP BY ALL ORDER BY day, door, client_application NULLS LAST`;
  }

  /** One row per (read, tag, dataset) first, so a read of two pii.email columns counts once. */
  sensitiveAccess(columns: readonly { column: string; dataset: string; tag: string }[]): string {
    const map = columns.map((c) => `(${sqlString(c.column)}, ${sqlString(c.dataset)}, ${sqlString(c.tag)})`).join(', ');
    return `WITH tag_map(col, dataset, tag) AS (VALUES ${map}),
      tagged AS (
        SELECT DISTINCT r.request_id, r.event_time, r."user", r.rows_returned, m.dataset, m.tag
        FROM (SELECT request_id, event_time, "user", rows_returned, unnest(columns) AS col FROM ${this.reads}) r
        JOIN tag_map m ON m.col = r.col)
      SELECT tag, "user", dataset, count(*), coalesce(sum(rows_returned), 0), ${iso('max(event_time)')}
      FROM tagged GROUP BY ALL ORDER BY tag, "user" NULLS LAST, dataset`;
  }

  deniedAttempts(): string {
    return `SELECT "user", error_code, statement_type, list_sort(list_distinct(flatten(list(datasets)))), count(*), ${iso('max(event_time)')}
      FROM ${this.windowed} WHERE decision = 'denied'
      GROUP BY "user", error_code, statement_type ORDER BY count(*) DESC, "user" NULLS LAST, error_code, statement_type`;
  }

  /** Per policy listed by an allowed record up to the window's end: its last use, and whether in the window. */
  policyUse(): string {
    return `SELECT policy, ${iso('max(event_time)')}, bool_or(event_time >= ${this.from})
      FROM (SELECT event_time, unnest(policies) AS policy FROM ${this.records} WHERE decision = 'allowed' AND event_time <= ${this.to})
      GROUP BY policy`;
  }

  /** Per user and dataset read up to the window's end: the last read, and whether in the window. */
  datasetReads(): string {
    return `SELECT "user", dataset, ${iso('max(event_time)')}, bool_or(event_time >= ${this.from})
      FROM (SELECT "user", event_time, unnest(datasets) AS dataset FROM ${this.records}
            WHERE decision = 'allowed' AND "user" IS NOT NULL AND statement_type IN (${READ_STATEMENT_TYPES.map(sqlString).join(', ')}) AND event_time <= ${this.to})
      GROUP BY ALL`;
  }

  topDatasets(limit: number): string {
    return `SELECT dataset, ${InsightsSql.totals}, count(DISTINCT "user")
      FROM (SELECT "user", rows_returned, bytes_returned, unnest(datasets) AS dataset FROM ${this.reads})
      GROUP BY dataset ORDER BY count(*) DESC, sum(rows_returned) DESC NULLS LAST, dataset LIMIT ${limit}`;
  }

  topColumns(limit: number): string {
    return `SELECT col, count(*), coalesce(sum(rows_returned), 0), count(DISTINCT "user")
      FROM (SELECT "user", rows_returned, unnest(columns) AS col FROM ${this.reads})
      GROUP BY col ORDER BY count(*) DESC, sum(rows_returned) DESC NULLS LAST, col LIMIT ${limit}`;
  }
}

/** A TIMESTAMP (UTC, as recorded) as ISO 8601 with milliseconds and Z. */
function iso(expression: string): string {
  return `strftime(${expression}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
}
