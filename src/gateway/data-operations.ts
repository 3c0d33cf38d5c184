import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fullName } from '../catalog/index.ts';
import { sqlString } from '../engine/index.ts';
import { followFile } from './spool-follower.ts';
import type { ParameterValue, ResultColumn, ResultStream, StatementDescription } from '../engine/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import type { Explanation, PreparedQuery, PrepareOptions } from '../query/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import { accessSnippets, type ServerAddress } from './presenters.ts';
import type { RequestScope } from './request-scope.ts';

/** The engine side of a prepared query, as doors consume it: rows streamed, or bytes written by DuckDB. */
export interface ResultSource {
  open(prepared: PreparedQuery, signal?: AbortSignal, parameters?: readonly ParameterValue[]): Promise<ResultStream>;
  describe(prepared: PreparedQuery): Promise<ResultColumn[]>;
  /** Result columns (unless a parameter's value decides them) and inferred parameter types, nothing run. */
  describeStatement(prepared: PreparedQuery): Promise<StatementDescription>;
  copy(prepared: PreparedQuery, target: string, formatOptions: string, maxRows: number | undefined, signal?: AbortSignal, options?: { postgresText?: boolean }): Promise<number>;
}

export const MAX_PREVIEW_ROWS = 1000;

/** Queries, scans, previews and explains: authorize → rewrite here, execute through `results`. */
export class DataOperations {
  readonly results: ResultSource;

  constructor(private readonly runtime: VeilRuntime) {
    this.results = runtime.queries;
  }

  /** A SQL statement, checked and rewritten for the caller ($1 … $n allowed when the door binds values). */
  async query(scope: RequestScope, sql: string, options: PrepareOptions = {}): Promise<PreparedQuery> {
    scope.describe('query', sql);
    return this.reads(scope, await this.runtime.queries.prepare(scope.requirePrincipal(), sql, options));
  }

  /** The syntax tree of a statement, for a door that must route it (a catalog query or a data query). */
  parse(sql: string): Promise<unknown> {
    return this.runtime.queries.parse(sql);
  }

  /** A whole dataset, or some of its columns. */
  async scan(scope: RequestScope, dataset: string, columns?: readonly string[]): Promise<PreparedQuery> {
    scope.describe('scan', `scan ${dataset}${columns ? ` (${columns.join(', ')})` : ''}`);
    return this.reads(scope, await this.runtime.queries.prepareScan(scope.requirePrincipal(), dataset, columns));
  }

  /** The first rows through exactly the scan path: same policies, audited as a preview. */
  async preview(scope: RequestScope, dataset: string, limit: number): Promise<PreparedQuery> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW_ROWS) throw new InvalidRequestError(`limit must be a whole number from 1 to ${MAX_PREVIEW_ROWS}`);
    scope.describe('preview', `preview ${dataset} (${limit} rows)`);
    return this.reads(scope, await this.runtime.queries.prepareScan(scope.requirePrincipal(), dataset));
  }

  async explain(scope: RequestScope, sql: string): Promise<Explanation> {
    scope.describe('explain', sql);
    const explanation = await this.runtime.queries.explain(scope.requirePrincipal(), sql);
    scope.datasets = explanation.datasets.map((d) => d.dataset);
    return explanation;
  }

  /**
   * Names what the request reads, and makes its record durable before any byte of the result
   * leaves (docs/security.md invariant 10). Doors call it once, just before opening the result.
   */
  async startDelivery(scope: RequestScope, prepared: PreparedQuery): Promise<void> {
    this.reads(scope, prepared);
    if (scope.auditSeq === undefined) scope.auditSeq = await this.runtime.audit.begin(scope.auditStart());
  }

  /**
   * What a prepared query reads, for the record: named as soon as it is known, so that a refusal
   * at binding (a hidden column) reads the same whether a door binds before or while executing.
   */
  private reads(scope: RequestScope, prepared: PreparedQuery): PreparedQuery {
    scope.datasets = prepared.datasets;
    scope.columns = prepared.columns;
    scope.policies = prepared.policies;
    return prepared;
  }

  /** What was delivered, for the record (rows and bytes as the door counted them). */
  delivered(scope: RequestScope, rows: number | undefined, bytes: number | undefined): void {
    scope.rows = rows;
    scope.bytes = bytes;
  }

  /**
   * A result as PostgreSQL's `COPY … TO STDOUT (FORMAT csv)` writes it, produced by DuckDB's own
   * CSV writer into a spool file read while it grows (columns must pass postgresCsvEligible).
   * `rows` settles with the row count once the writer is done.
   */
  postgresCsv(prepared: PreparedQuery, options: { delimiter: string; nullString: string }, signal: AbortSignal): { chunks: AsyncGenerator<Buffer>; rows: Promise<number> } {
    const spool = path.join(this.runtime.home.spoolDirectory, `${randomUUID()}.csv`);
    const formatOptions = `FORMAT csv, HEADER false, DELIMITER ${sqlString(options.delimiter)}, QUOTE '"', ESCAPE '"', NULL ${sqlString(options.nullString)}`;
    const rows = this.results.copy(prepared, spool, formatOptions, undefined, signal, { postgresText: true });
    rows.catch(() => undefined);
    const follow = followFile(spool, rows, signal);
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        yield* follow;
        await rows;
      } finally {
        await rm(spool, { force: true });
      }
    }
    return { chunks: chunks(), rows };
  }

  /** Ready-to-paste ways to read a dataset the caller can see. */
  async accessSnippets(scope: RequestScope, dataset: string, server: ServerAddress): Promise<{ dataset: string; readable: boolean; snippets: Record<string, string> }> {
    scope.describe('describe', `access snippets ${dataset}`);
    const effective = await this.runtime.access.effective(scope.requirePrincipal(), dataset);
    const name = fullName(effective.dataset);
    scope.datasets = [name];
    return { dataset: name, readable: effective.readable, snippets: accessSnippets(name, server) };
  }
}
