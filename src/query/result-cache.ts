import { createHash } from 'node:crypto';
import { fullName, type Dataset } from '../catalog/index.ts';
import type { DuckDbEngine, ExecuteOptions, ResultColumn } from '../engine/index.ts';
import { INTERNAL_SCHEMA, sqlIdentifier } from '../engine/index.ts';
import type { CheckedQuery } from '../sql/index.ts';

/** Results of at most this many rows are kept by default (`result_cache_max_rows`); larger ones are streamed every time. */
export const RESULT_CACHE_MAX_ROWS = 1000;
/**
 * The most rows a kept result may have whatever the setting: one DuckDB vector. Such a result goes
 * through `CREATE TABLE … AS` and back as a single chunk, so it keeps its row order (an ORDER BY)
 * even though the engine does not keep order for results without one.
 */
export const RESULT_CACHE_ROW_CEILING = 2048;
/** Results kept at once (least recently used dropped first). */
export const RESULT_CACHE_MAX_ENTRIES = 256;

/** An evicted result's table outlives its entry this long, for queries that planned to read it. */
const EVICTED_TABLE_GRACE_MS = 60_000;

/**
 * Names DuckDB binds to a clock when no column has them. The session keywords (current_user …) are
 * allowed in user queries only as names of real columns (query-checker.ts), so they are columns.
 */
const CLOCK_NAMES = ['current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp'] as const;

/** How one execution of a prepared query may use the result cache. */
export interface ResultPlan {
  readonly key: string;
  /** A table holding this very result: read it instead of running the query. */
  readonly relation: string | undefined;
  /** The same small result was seen before: keep it in a table this time. */
  readonly materialize: boolean;
}

/**
 * Small results of repeated queries, kept as engine tables (docs/performance.md, "Result reuse").
 *
 * A dashboard or a BI tool sends the same `SELECT count(*) … WHERE arm = 'placebo'` again and again;
 * even on a columnar copy, its answer costs a scan of every row under the evaluation barrier
 * (tens of milliseconds at millions of rows). A result is reused only when it is the same answer:
 * - the key is the rewritten SQL — which names the policy-applied scan views by the hash of their
 *   text, so it includes the principal's effective policy, identity constants and reference date —
 *   and the current version of every dataset read: its definition and registration time and the
 *   stamp of its source files (path, size, times, inode; ETags on S3), taken before every query;
 * - only statements whose result depends on nothing else: every function they call is CONSISTENT
 *   in DuckDB (no random(), now(), current_date…), no TABLESAMPLE, no parameters, and no dataset
 *   without a source stamp (the audit trail changes with every request);
 * - a result is kept the second time it is seen with at most RESULT_CACHE_MAX_ROWS rows, built by
 *   running the query again as `CREATE TABLE … AS` in the same admission and timeout, and only if
 *   the sources kept their stamps meanwhile and the table has the result's exact column names and
 *   types.
 * Requests are audited the same either way: reuse changes how an answer is computed, never who may
 * have it, since the policy is part of the key.
 */
export class ResultCache {
  private readonly kept = new Map<string, string>();
  private readonly seenSmall = new Map<string, true>();
  private readonly building = new Map<string, Promise<string | undefined>>();
  private stable: Promise<ReadonlySet<string>> | undefined;
  private counter = 0;

  constructor(
    private readonly engine: DuckDbEngine,
    /** The version of a dataset's data now, or undefined when it has none (not reusable). */
    private readonly sourceVersion: (dataset: Dataset) => string | undefined,
    private readonly limits = { maxRows: RESULT_CACHE_MAX_ROWS, maxEntries: RESULT_CACHE_MAX_ENTRIES },
  ) {
    this.limits = { ...limits, maxRows: Math.min(limits.maxRows, RESULT_CACHE_ROW_CEILING) };
  }

  /**
   * Whether a checked statement's result is a function of the data and its text alone: every
   * function it calls is CONSISTENT in DuckDB's catalog (macros and unknown names are not), it
   * names no clock, and nothing is sampled. Parameters are refused by the caller.
   */
  async reusable(checked: Pick<CheckedQuery, 'functionNames' | 'referenceEnds' | 'samples'>): Promise<boolean> {
    this.stable ??= this.engine
      .runInternal<[string]>(
        `SELECT function_name FROM duckdb_functions() WHERE function_type IN ('scalar', 'aggregate') GROUP BY function_name HAVING bool_and(stability = 'CONSISTENT')`,
      )
      .then((rows) => new Set(rows.map((r) => r[0].toLowerCase())));
    const stable = await this.stable;
    if (checked.samples) return false;
    for (const name of checked.functionNames) if (!stable.has(name)) return false;
    // `current_date` and friends parse as column references that DuckDB binds to a clock when no
    // column has that name (a column of that name, even qualified, is refused too: rare, and safe).
    for (const name of CLOCK_NAMES) if (checked.referenceEnds.has(name)) return false;
    return true;
  }

  /** The plan for one execution now, or undefined when its result may not be reused. */
  plan(sql: string, datasets: readonly Dataset[]): ResultPlan | undefined {
    if (this.limits.maxRows === 0) return undefined;
    const key = this.keyOf(sql, datasets);
    if (key === undefined) return undefined;
    const relation = this.kept.get(key);
    if (relation !== undefined) {
      this.kept.delete(key);
      this.kept.set(key, relation); // most recently used last
      return { key, relation, materialize: false };
    }
    return { key, relation: undefined, materialize: this.seenSmall.has(key) };
  }

  /** A complete result of `rows` rows was delivered for the plan. */
  observe(plan: ResultPlan, rows: number): void {
    if (plan.relation !== undefined || rows > this.limits.maxRows) return;
    this.seenSmall.delete(plan.key);
    this.seenSmall.set(plan.key, true);
    if (this.seenSmall.size > this.limits.maxEntries * 4) this.seenSmall.delete(this.seenSmall.keys().next().value as string);
  }

  /**
   * Keeps the result of `sql` in a table and returns the table, or undefined when it cannot be kept
   * (the query then runs as usual). Identical queries arriving meanwhile share one build.
   */
  materialize(plan: ResultPlan, sql: string, datasets: readonly Dataset[], options: ExecuteOptions): Promise<string | undefined> {
    let pending = this.building.get(plan.key);
    if (pending === undefined) {
      pending = this.build(plan, sql, datasets, options).finally(() => this.building.delete(plan.key));
      this.building.set(plan.key, pending);
    }
    return pending;
  }

  private keyOf(sql: string, datasets: readonly Dataset[]): string | undefined {
    const hash = createHash('sha256').update(sql);
    for (const dataset of [...datasets].sort((a, b) => fullName(a).localeCompare(fullName(b)))) {
      const version = this.sourceVersion(dataset);
      if (version === undefined) return undefined;
      hash.update(`\u0000${fullName(dataset)}\u0000${dataset.updatedAt}\u0000${version}`);
    }
    return hash.digest('base64url');
  }

  private async build(plan: ResultPlan, sql: string, datasets: readonly Dataset[], options: ExecuteOptions): Promise<string | undefined> {
    const relation = `${INTERNAL_SCHEMA}.${sqlIdentifier(`result_${process.pid}_${this.counter++}`)}`;
    let created = false;
    try {
      // Bound as it stands: describeQuery's `SELECT * FROM (…)` would rename duplicates itself.
      const expected = (await this.engine.describeStatement(sql)).columns ?? [];
      const stream = await this.engine.execute(`CREATE TABLE ${relation} AS ${sql}`, options);
      try {
        while ((await stream.nextChunk()) !== null);
      } finally {
        stream.close();
      }
      created = true;
      const actual = (await this.engine.describeStatement(`SELECT * FROM ${relation}`)).columns ?? [];
      // The sources did not change while the table was filled, and it has the result's exact shape
      // (CREATE TABLE renames duplicate column names).
      if (this.keyOf(sql, datasets) !== plan.key || columnsText(actual) !== columnsText(expected)) {
        await this.drop(relation);
        return undefined;
      }
      this.kept.set(plan.key, relation);
      this.seenSmall.delete(plan.key);
      while (this.kept.size > this.limits.maxEntries) {
        const oldest = this.kept.keys().next().value as string;
        const evicted = this.kept.get(oldest);
        this.kept.delete(oldest);
        // A query that planned to read it a moment ago may not have started yet: drop it later.
        if (evicted !== undefined) setTimeout(() => void this.drop(evicted), EVICTED_TABLE_GRACE_MS).unref();
      }
      return relation;
    } catch {
      this.seenSmall.delete(plan.key);
      if (created) await this.drop(relation);
      return undefined;
    }
  }

  private async drop(relation: string): Promise<void> {
    await this.engine.runInternal(`DROP TABLE IF EXISTS ${relation}`).catch(() => undefined);
  }
}

function columnsText(columns: readonly ResultColumn[]): string {
  return JSON.stringify(columns.map((c) => [c.name, c.type]));
}
