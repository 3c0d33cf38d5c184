import { fullName } from '../catalog/index.ts';
import type { DuckDbEngine, ExecuteOptions, ParameterValue, ResultColumn, ResultStream, StatementDescription } from '../engine/index.ts';
import { sqlIdentifier } from '../engine/index.ts';
import { ColumnAccessDeniedError, FeatureNotSupportedError, InvalidRequestError, QueryFailedError, QueryTimeoutError, SqlNotAllowedError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { EffectiveDatasetPolicy } from '../policy/index.ts';
import { checkUserQuery, parseSelect, scanColumns, printSelect, replaceTableReferences, type CheckedQuery, type CompiledScan } from '../sql/index.ts';
import type { AccessService } from './access-service.ts';
import type { ResultCache, ResultPlan } from './result-cache.ts';
import { postgresCsvEligible, postgresTextSelect } from './postgres-text.ts';
import type { AdmissionController, AdmissionTicket } from './admission-controller.ts';

export interface PreparedQuery {
  /** Whose query it is: admission to the engine is shared fairly between users. */
  readonly user: string;
  /** What the caller sent (or, for scans, the equivalent SELECT). */
  readonly statement: string;
  /** The checked, rewritten SQL that runs: DuckDB-printed from the checked AST, never the original text. */
  readonly sql: string;
  readonly datasets: readonly string[];
  /** database.name.column of every visible column the query may read. */
  readonly columns: readonly string[];
  readonly policies: readonly string[];
  readonly effective: readonly EffectiveDatasetPolicy[];
  /** Positional parameters ($1 … $n) the statement takes; 0 unless prepared with parameters allowed. */
  readonly parameterCount: number;
  /**
   * Columns the statement names that the caller may not read (hidden in a dataset it reads, readable
   * in none, and not a name the query defines). Whatever binder error the engine meets first, a
   * statement that names one is answered COLUMN_ACCESS_DENIED: the answer does not depend on the
   * order in which DuckDB happens to bind clauses.
   */
  readonly unreadableColumns: readonly { readonly dataset: string; readonly column: string }[];
  /** Its result depends only on its text and the data read (see ResultCache.reusable). */
  readonly reusable: boolean;
}

export interface PrepareOptions {
  /** Allow $1 … $n, whose values are bound at execution (the PostgreSQL extended protocol). */
  readonly parameters?: boolean;
}

export interface ExplainedDataset {
  readonly dataset: string;
  readonly columns: readonly {
    readonly name: string;
    readonly type: string;
    readonly access: string;
    readonly transform: string | null;
    readonly policies: readonly string[];
    readonly reason: string;
  }[];
  readonly row_filters: readonly { readonly predicate: string; readonly policy: string }[];
  readonly policies: readonly string[];
  readonly scan_sql: string;
}

export interface Explanation {
  readonly statement: string;
  readonly rewritten_sql: string;
  readonly datasets: readonly ExplainedDataset[];
}

const PREPARED_CACHE_LIMIT = 1000;
const PREPARED_CACHE_MAX_STATEMENT = 16 * 1024;

/** authorize → rewrite → execute, shared by every door. Auditing is the caller's (door's) bracket. */
export class QueryService {
  private readonly preparedCache = new Map<string, { prepared: PreparedQuery; expiresAt: number }>();
  private readonly descriptions = new WeakMap<PreparedQuery, StatementDescription>();

  constructor(
    private readonly engine: DuckDbEngine,
    private readonly access: AccessService,
    private readonly settings: { readonly maxSqlLength: number; readonly statementTimeoutMs: number },
    /** Fair shares of the engine between users (admission-controller.ts). */
    private readonly admission: AdmissionController,
    /**
     * Brings the engine's sources up to date for the datasets a query reads: views of datasets
     * another process registered (a newer catalog generation), local copies of remote (S3) files,
     * the audit mirror. Runs before a scan is built over them, and again before each execution.
     */
    private readonly prepareSources: (datasets: readonly EffectiveDatasetPolicy[]) => Promise<void>,
    /** Small results of repeated queries (result-cache.ts). */
    private readonly results: ResultCache,
  ) {}

  /**
   * Checked and rewritten SQL for a statement. Repeated statements (dashboards, notebooks re-run)
   * come from a cache keyed by everything the rewrite depends on: the control-database generation,
   * the principal, the day (date transforms) and the statement, valid until the next policy
   * validity boundary.
   */
  async prepare(principal: Principal, statement: string, options: PrepareOptions = {}): Promise<PreparedQuery> {
    const snapshot = await this.access.snapshot();
    const now = this.access.now();
    const parameters = options.parameters === true;
    const key = statement.length > PREPARED_CACHE_MAX_STATEMENT ? undefined : `${snapshot.generation}|${now.toISOString().slice(0, 10)}|${parameters ? 'p' : '-'}|${JSON.stringify(principal)}|${statement}`;
    const cached = key === undefined ? undefined : this.preparedCache.get(key);
    if (cached !== undefined && now.getTime() < cached.expiresAt) {
      // refresh recency
      this.preparedCache.delete(key as string);
      this.preparedCache.set(key as string, cached);
      return cached.prepared;
    }
    const expiresAt = await this.access.validUntil();
    const { prepared } = await this.rewrite(principal, statement, parameters);
    if (key !== undefined) {
      if (this.preparedCache.size >= PREPARED_CACHE_LIMIT) this.preparedCache.delete(this.preparedCache.keys().next().value as string);
      this.preparedCache.set(key, { prepared, expiresAt });
    }
    return prepared;
  }

  /** A whole dataset (optionally some columns) through exactly the same path as a query. */
  async prepareScan(principal: Principal, dataset: string, columns?: readonly string[]): Promise<PreparedQuery> {
    const effective = await this.access.readable(principal, dataset);
    const name = fullName(effective.dataset);
    let selectList = '*';
    if (columns !== undefined && columns.length > 0) {
      for (const column of columns) {
        const entry = effective.columns.find((c) => c.column.name === column.toLowerCase());
        if (entry === undefined) throw new InvalidRequestError(`dataset ${name} has no column ${column}`);
        if (entry.access === 'hidden') throw new ColumnAccessDeniedError(name, entry.column.name);
      }
      selectList = columns.map((c) => sqlIdentifier(c.toLowerCase())).join(', ');
    }
    return this.prepare(principal, `SELECT ${selectList} FROM ${sqlIdentifier(effective.dataset.database)}.${sqlIdentifier(effective.dataset.name)}`);
  }

  /** The statement's DuckDB syntax tree, for doors that route statements (nothing is checked or run). */
  async parse(statement: string): Promise<unknown> {
    return (await parseSelect(this.engine, statement, this.settings.maxSqlLength, { parameters: true })).node;
  }

  async explain(principal: Principal, statement: string): Promise<Explanation> {
    const { prepared, scans } = await this.rewrite(principal, statement);
    return {
      statement,
      rewritten_sql: prepared.sql,
      datasets: prepared.effective.map((e) => {
        const name = fullName(e.dataset);
        return {
          dataset: name,
          columns: e.columns.map((c) => ({
            name: c.column.name,
            type: c.column.type,
            access: c.access,
            transform: c.masks.length === 0 ? null : c.masks.map((m) => (m.when === undefined ? m.transform.text : `${m.transform.text} when ${m.when}`)).join('; else '),
            policies: c.policies,
            reason: c.reason,
          })),
          row_filters: e.rowFilters,
          policies: e.policies,
          scan_sql: scans.get(name)?.sql ?? '',
        };
      }),
    };
  }

  /**
   * Starts the rewritten query once its user's share of the engine has room (a kept result is read
   * at once, see `start`). The statement timeout counts from here, time waiting included; aborting
   * `signal` (the client went away) leaves the queue or interrupts the engine. Binder errors about a
   * hidden column become 403 naming it.
   */
  async open(prepared: PreparedQuery, signal?: AbortSignal, parameters?: readonly ParameterValue[]): Promise<ResultStream> {
    const withParameters = parameters !== undefined || prepared.parameterCount > 0;
    const { ticket, plan, sql } = await this.start(prepared, signal, withParameters);
    try {
      const stream = await this.engine.execute(sql ?? prepared.sql, {
        timeoutMs: ticket.remainingMs(),
        ...(signal === undefined ? {} : { signal }),
        ...(withParameters ? { parameters: parameters ?? [] } : {}),
      });
      let rows = 0;
      return {
        columns: stream.columns,
        nextChunk: async () => {
          const chunk = await stream.nextChunk().catch((error: unknown) => {
            ticket.release();
            throw this.mapEngineError(error, prepared);
          });
          if (chunk === null) {
            ticket.release();
            if (plan !== undefined && sql === undefined) this.results.observe(plan, rows);
          } else {
            rows += chunk.rowCount;
          }
          return chunk;
        },
        close: () => {
          stream.close();
          ticket.release();
        },
      };
    } catch (error) {
      ticket.release();
      throw this.mapEngineError(error, prepared);
    }
  }

  /** Names and types of the result columns, from binding the rewritten query (nothing is read). */
  async describe(prepared: PreparedQuery): Promise<ResultColumn[]> {
    await this.prepareSources(prepared.effective);
    try {
      return await this.engine.describeResult(prepared.sql);
    } catch (error) {
      throw this.mapEngineError(error, prepared);
    }
  }

  /** Result columns (when they do not depend on parameter values) and inferred parameter types. */
  async describeStatement(prepared: PreparedQuery): Promise<StatementDescription> {
    await this.prepareSources(prepared.effective);
    // A repeated statement gets the same prepared query from the cache (keyed by generation,
    // principal and day), and so its description too: no binding per execution of a dashboard query.
    const known = this.descriptions.get(prepared);
    if (known !== undefined) return known;
    try {
      const description = await this.engine.describeStatement(prepared.sql);
      this.descriptions.set(prepared, description);
      return description;
    } catch (error) {
      throw this.mapEngineError(error, prepared);
    }
  }

  /** Runs the rewritten query through DuckDB's native writer into `target` (a file or FIFO), admitted like open(). */
  async copy(prepared: PreparedQuery, target: string, formatOptions: string, maxRows: number | undefined, signal?: AbortSignal, options: { postgresText?: boolean } = {}): Promise<number> {
    const { ticket, plan, sql: reused } = await this.start(prepared, signal, prepared.parameterCount > 0);
    try {
      const source = reused ?? prepared.sql;
      let select = maxRows === undefined ? source : `SELECT * FROM (${source}) LIMIT ${maxRows}`;
      if (options.postgresText === true) {
        const columns = await this.engine.describeResult(select);
        if (!postgresCsvEligible(columns)) throw new FeatureNotSupportedError('these result types have no native PostgreSQL text form');
        select = postgresTextSelect(select, columns);
      }
      const rows = await this.engine.copyTo(select, target, formatOptions, { timeoutMs: ticket.remainingMs(), ...(signal === undefined ? {} : { signal }) });
      // A LIMIT that cut the result leaves it unknown whether the whole result is small.
      if (plan !== undefined && reused === undefined && (maxRows === undefined || rows < maxRows)) this.results.observe(plan, rows);
      return rows;
    } catch (error) {
      throw this.mapEngineError(error, prepared);
    } finally {
      ticket.release();
    }
  }

  private planReuse(prepared: PreparedQuery): ResultPlan | undefined {
    return prepared.reusable ? this.results.plan(prepared.sql, prepared.effective.map((e) => e.dataset)) : undefined;
  }

  /** `SELECT * FROM <kept result>` when this execution may read a kept result (keeping it first if asked), else undefined. */
  private async reusedRelation(plan: ResultPlan | undefined, prepared: PreparedQuery, options: ExecuteOptions): Promise<string | undefined> {
    if (plan === undefined) return undefined;
    const relation = plan.relation ?? (plan.materialize ? await this.results.materialize(plan, prepared.sql, prepared.effective.map((e) => e.dataset), options) : undefined);
    return relation === undefined ? undefined : `SELECT * FROM ${relation}`;
  }

  /** Waits for an engine slot in the user's share; the ticket tells how much of the timeout is left. */
  /**
   * Admission, current sources and the result-reuse plan of one execution. A kept result is read
   * without waiting for an engine slot: reading a table of at most `result_cache_max_rows` rows
   * costs less than queueing, and a dashboard's repeated count should not wait behind a user's own
   * full scans. Everything else waits for its share. `sql` is what to run instead of the query.
   */
  private async start(
    prepared: PreparedQuery,
    signal: AbortSignal | undefined,
    withParameters: boolean,
  ): Promise<{ ticket: AdmissionTicket & { remainingMs(): number }; plan: ResultPlan | undefined; sql: string | undefined }> {
    if (!withParameters && prepared.reusable) {
      await this.prepareSources(prepared.effective);
      const plan = this.planReuse(prepared);
      if (plan?.relation !== undefined) {
        const deadline = Date.now() + this.settings.statementTimeoutMs;
        return { ticket: { release: () => undefined, remainingMs: () => Math.max(1, deadline - Date.now()) }, plan, sql: `SELECT * FROM ${plan.relation}` };
      }
    }
    const ticket = await this.admit(prepared, signal);
    try {
      // Again after waiting in the queue: a source may have changed meanwhile (a stat per file).
      await this.prepareSources(prepared.effective);
      const plan = withParameters ? undefined : this.planReuse(prepared);
      const sql = await this.reusedRelation(plan, prepared, { timeoutMs: ticket.remainingMs(), ...(signal === undefined ? {} : { signal }) });
      return { ticket, plan, sql };
    } catch (error) {
      ticket.release();
      throw error;
    }
  }

  private async admit(prepared: PreparedQuery, signal: AbortSignal | undefined): Promise<AdmissionTicket & { remainingMs(): number }> {
    const timeoutMs = this.settings.statementTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const ticket = await this.admission.acquire({ user: prepared.user, deadline, timeoutMs, ...(signal === undefined ? {} : { signal }) });
    return { release: () => ticket.release(), remainingMs: () => Math.max(1, deadline - Date.now()) };
  }

  /** Engine errors as the caller should see them: the whole timeout, and a hidden column as 403. */
  private mapEngineError(error: unknown, prepared: PreparedQuery): unknown {
    // The engine was given what was left of the timeout after waiting: name the whole timeout.
    if (error instanceof QueryTimeoutError) return new QueryTimeoutError(this.settings.statementTimeoutMs);
    if (!(error instanceof QueryFailedError)) return error;
    const missing = error.details['missingColumn'];
    if (typeof missing === 'string') {
      for (const effective of prepared.effective) {
        const hidden = effective.columns.find((c) => c.access === 'hidden' && c.column.name === missing.toLowerCase());
        if (hidden !== undefined) return new ColumnAccessDeniedError(fullName(effective.dataset), hidden.column.name);
      }
    }
    // Another binder error met before the hidden reference (`* EXCLUDE (only_readable) … ORDER BY hidden`).
    const unreadable = prepared.unreadableColumns[0];
    if (error.details['engineErrorKind'] === 'Binder' && unreadable !== undefined) return new ColumnAccessDeniedError(unreadable.dataset, unreadable.column);
    return error;
  }

  private async rewrite(principal: Principal, statement: string, parameters = false): Promise<{ prepared: PreparedQuery; scans: Map<string, CompiledScan> }> {
    const parsed = await parseSelect(this.engine, statement, this.settings.maxSqlLength, { parameters });
    const checked = checkUserQuery(parsed.node, { parameters });
    const effective = new Map<string, EffectiveDatasetPolicy>();
    for (const table of checked.tables) {
      if (!effective.has(table.dataset)) effective.set(table.dataset, await this.access.readable(principal, table.dataset));
    }
    for (const keyword of checked.sessionKeywords) {
      const isColumn = [...effective.values()].some((e) => e.columns.some((c) => c.access !== 'hidden' && c.column.name === keyword));
      if (!isColumn) throw new SqlNotAllowedError(keyword, `${keyword} is not allowed (session functions are not available; quote it if you mean a column)`);
    }
    // Scans are views over the sources: those must exist and be current before any is built.
    await this.prepareSources([...effective.values()]);
    const scans = new Map<string, CompiledScan>();
    for (const [name, e] of effective) scans.set(name, await this.access.scan(principal, e, scanColumns(checked, name)));
    const rewritten = replaceTableReferences(checked, scans);
    const sql = await printSelect(this.engine, rewritten);
    const columns: string[] = [];
    const policies = new Set<string>();
    for (const [name, e] of effective) {
      for (const c of e.columns) {
        if (c.access !== 'hidden' && (checked.usesStar || checked.columnNames.has(c.column.name))) columns.push(`${name}.${c.column.name}`);
      }
      for (const p of e.policies) policies.add(p);
    }
    const unreadableColumns = unreadableReferences(checked, [...effective.values()]);
    const reusable = checked.parameterCount === 0 && (await this.results.reusable(checked));
    return {
      prepared: {
        user: principal.user,
        statement,
        sql,
        datasets: [...effective.keys()].sort(),
        columns,
        policies: [...policies].sort(),
        effective: [...effective.values()],
        parameterCount: checked.parameterCount,
        unreadableColumns,
        reusable,
      },
      scans,
    };
  }
}

/** Column names the statement uses that no dataset it reads lets the caller see, but one of them has. */
function unreadableReferences(checked: CheckedQuery, effective: readonly EffectiveDatasetPolicy[]): PreparedQuery['unreadableColumns'] {
  const found: { dataset: string; column: string }[] = [];
  for (const name of checked.columnNames) {
    if (checked.definedNames.has(name)) continue;
    if (effective.some((e) => e.columns.some((c) => c.access !== 'hidden' && c.column.name === name))) continue;
    for (const e of effective) {
      const hidden = e.columns.find((c) => c.access === 'hidden' && c.column.name === name);
      if (hidden !== undefined) {
        found.push({ dataset: fullName(e.dataset), column: hidden.column.name });
        break;
      }
    }
  }
  return found;
}
