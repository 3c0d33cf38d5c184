import { fullName } from '../catalog/index.ts';
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
  copy(prepared: PreparedQuery, target: string, formatOptions: string, maxRows: number | undefined, signal?: AbortSignal): Promise<number>;
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
    return this.runtime.queries.prepare(scope.requirePrincipal(), sql, options);
  }

  /** The syntax tree of a statement, for a door that must route it (a catalog query or a data query). */
  parse(sql: string): Promise<unknown> {
    return this.runtime.queries.parse(sql);
  }

  /** A whole dataset, or some of its columns. */
  async scan(scope: RequestScope, dataset: string, columns?: readonly string[]): Promise<PreparedQuery> {
    scope.describe('scan', `scan ${dataset}${columns ? ` (${columns.join(', ')})` : ''}`);
    return this.runtime.queries.prepareScan(scope.requirePrincipal(), dataset, columns);
  }

  /** The first rows through exactly the scan path: same policies, audited as a preview. */
  async preview(scope: RequestScope, dataset: string, limit: number): Promise<PreparedQuery> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW_ROWS) throw new InvalidRequestError(`limit must be a whole number from 1 to ${MAX_PREVIEW_ROWS}`);
    scope.describe('preview', `preview ${dataset} (${limit} rows)`);
    return this.runtime.queries.prepareScan(scope.requirePrincipal(), dataset);
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
  startDelivery(scope: RequestScope, prepared: PreparedQuery): void {
    scope.datasets = prepared.datasets;
    scope.columns = prepared.columns;
    scope.policies = prepared.policies;
    if (scope.auditSeq === undefined) scope.auditSeq = this.runtime.audit.begin(scope.auditStart());
  }

  /** What was delivered, for the record (rows and bytes as the door counted them). */
  delivered(scope: RequestScope, rows: number | undefined, bytes: number | undefined): void {
    scope.rows = rows;
    scope.bytes = bytes;
  }

  /** Ready-to-paste ways to read a dataset the caller can see. */
  accessSnippets(scope: RequestScope, dataset: string, server: ServerAddress): { dataset: string; readable: boolean; snippets: Record<string, string> } {
    scope.describe('describe', `access snippets ${dataset}`);
    const effective = this.runtime.access.effective(scope.requirePrincipal(), dataset);
    const name = fullName(effective.dataset);
    scope.datasets = [name];
    return { dataset: name, readable: effective.readable, snippets: accessSnippets(name, server) };
  }
}
