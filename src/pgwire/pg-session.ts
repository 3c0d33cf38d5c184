import { FeatureNotSupportedError, InvalidSqlError, isVeilError, QueryCancelledError, QueryFailedError } from '../errors/index.ts';
import { DuckDBTypeId, errorCodeOf, postgresCsvEligible, type DuckDBDataChunk, type ParameterValue, type RequestScope, type ResultColumn, type ResultStream, type VeilGateway } from '../gateway/index.ts';
import type { Authentication } from '../identity/index.ts';
import type { CatalogPool } from './catalog-pool.ts';
import type { CatalogSession } from './catalog-sandbox.ts';
import { encodeCopyRows } from './pg-copy.ts';
import { CsvDataRows } from './csv-data-rows.ts';
import * as wire from './pg-messages.ts';
import { SessionSettings, SERVER_VERSION } from './pg-settings.ts';
import { SQLSTATE } from './pg-sqlstate.ts';
import { DuplicateName, FailedTransaction, ProtocolViolation, RefusedStatement, SessionError, UndefinedCursor, UndefinedName } from './pg-session-errors.ts';
import { classifyStatement, splitStatements, type PgStatement } from './pg-statements.ts';
import { pgColumnType, pgScalarFor, PG_SCALAR_TYPES } from './pg-types.ts';
import { createRowEncoder, decodeParameter, type RowEncoder } from './pg-values.ts';
import { statementTarget, usesCatalogFunctions } from './statement-target.ts';
import { rewritePgSyntax } from './pg-catalog-prepass.ts';

/** What a session knows of its connection, fixed at startup. */
export interface SessionContext {
  readonly gateway: VeilGateway;
  /** Who connected (as checked at startup). */
  readonly authentication: Authentication;
  /**
   * Checks the connection's credential again, as HTTP checks a token on every request: a revoked
   * or expired token, a removed user or changed groups take effect on the session's next statement.
   */
  readonly reauthenticate: () => Promise<Authentication>;
  readonly clientAddress: string | null;
  readonly startup: Readonly<Record<string, string>>;
  readonly catalogs: CatalogPool;
  readonly processId: number;
  readonly secretKey: number;
  /** Where unexpected errors go (the client gets "internal error" only). */
  readonly logError: (error: unknown) => void;
  /** Ends the connection at once (the audit trail could not be written: nothing more is served). */
  readonly terminate?: () => void;
}

/**
 * How a statement is executed:
 * - data: through the gateway's pipeline (authorize → rewrite → execute → audit), the only way to data;
 * - catalog: in a data-less sandbox holding only what the caller may see (pg_catalog, information_schema);
 * - utility: answered by the session itself (SET, SHOW, BEGIN, cursors, COPY TO STDOUT wrapping a query).
 */
type Plan =
  | { readonly kind: 'data'; readonly sql: string; readonly parameterOids: readonly number[]; readonly columns: readonly ResultColumn[] | undefined }
  | { readonly kind: 'catalog'; readonly sql: string; readonly parameterOids: readonly number[]; readonly columns: readonly ResultColumn[] }
  | { readonly kind: 'utility'; readonly statement: PgStatement };

/** A result being read: the audit scope it belongs to and where in the stream the next row is. */
interface Run {
  readonly scope: RequestScope;
  readonly stream: ResultStream;
  readonly columns: readonly ResultColumn[];
  encoder: RowEncoder | undefined;
  pending: { chunk: DuckDBDataChunk; offset: number } | undefined;
  /** The next chunk, already being fetched while the current one is encoded (engine and encoder overlap). */
  ahead: Promise<DuckDBDataChunk | null> | undefined;
  rows: number;
  bytes: number;
  done: boolean;
}

interface Portal {
  readonly plan: Plan;
  readonly parameters: readonly ParameterValue[];
  /** Result formats as Bind gave them (expanded once the column count is known). */
  readonly resultFormats: readonly number[];
  /** A cursor made by DECLARE … WITH HOLD survives COMMIT. */
  readonly hold: boolean;
  /** The statement's text, for the record of a refusal. */
  readonly text?: string;
  run: Run | undefined;
}

const EMPTY = new Uint8Array(0);
const FLUSH_BYTES = 256 * 1024;

/** Outgoing messages, written in batches (one socket write per batch rather than per message). */
class Outbox {
  private parts: Uint8Array[] = [];
  private size = 0;

  push(message: Uint8Array): void {
    this.parts.push(message);
    this.size += message.length;
  }

  get full(): boolean {
    return this.size >= FLUSH_BYTES;
  }

  take(): Uint8Array {
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return out;
  }

  get empty(): boolean {
    return this.size === 0;
  }
}

/**
 * One PostgreSQL connection after authentication: the simple and extended query protocols,
 * cursors, COPY TO STDOUT and session settings, every data statement through the gateway.
 *
 * @see https://www.postgresql.org/docs/current/protocol-flow.html
 */
export class PgSession {
  readonly settings: SessionSettings;
  private readonly statements = new Map<string, Plan>();
  private readonly statementTexts = new Map<string, string>();
  private readonly portals = new Map<string, Portal>();
  private readonly cursors = new Map<string, Portal>();
  private transaction: 'I' | 'T' | 'E' = 'I';
  /** After an error in the extended protocol, messages are discarded until Sync. */
  private skippingUntilSync = false;
  private active: AbortController | undefined;
  private cancelled = false;
  /** Failures already on record (so that a refusal is recorded exactly once). */
  private readonly audited = new WeakSet<object>();
  /** The text of the statement being handled, for the record of a refusal. */
  private currentStatement: string | undefined;

  constructor(private readonly context: SessionContext) {
    this.settings = new SessionSettings(context.startup);
    const application = context.startup['application_name'];
    if (application !== undefined) this.settings.set('application_name', application);
  }

  /** What the server sends once authenticated, before ReadyForQuery: settings and the cancel key. */
  greetingParameters(): Uint8Array {
    const out = new Outbox();
    for (const { name, value } of this.settings.reported()) out.push(wire.parameterStatus(name, value));
    out.push(wire.backendKeyData(this.context.processId, this.context.secretKey));
    return out.take();
  }

  get user(): string {
    return this.context.authentication.principal.user;
  }

  /** A CancelRequest for this session: the running statement stops with 57014. */
  cancel(): void {
    if (this.active === undefined) return;
    this.cancelled = true;
    this.active.abort();
  }

  /** Ends the session: open results are closed and their audit records completed. */
  close(): void {
    this.cancel();
    for (const portal of [...this.portals.values(), ...this.cursors.values()]) this.closeRun(portal.run);
    this.portals.clear();
    this.cursors.clear();
  }

  /** Whether a message is being handled now (a statement running): the idle timeout waits. */
  get busy(): boolean {
    return this.handling > 0;
  }

  private handling = 0;

  /** Handles one frontend message (type byte included); yields the responses. */
  async *handle(message: Uint8Array): AsyncGenerator<Uint8Array, Uint8Array | undefined> {
    this.handling++;
    try {
      const last = yield* this.dispatch(message);
      // Records completed while handling this message are written before the next message is
      // handled (Sync and simple queries also wait before their ReadyForQuery).
      await this.auditSettled();
      return last;
    } finally {
      this.handling--;
    }
  }

  /** Audit completions started in synchronous code (closing portals), awaited before the next ReadyForQuery. */
  private readonly auditWrites = new Set<Promise<void>>();

  private auditFailure: unknown;

  private trackAudit(write: Promise<unknown>): void {
    const tracked: Promise<void> = write.then(
      () => undefined,
      (error: unknown) => {
        this.context.logError(error);
        this.auditFailure ??= error;
      },
    );
    this.auditWrites.add(tracked);
    void tracked.finally(() => this.auditWrites.delete(tracked));
  }

  /**
   * Waits for the records started in synchronous code. Fail closed: when one could not be written,
   * the session ends here, before the client is told it may go on.
   */
  private async auditSettled(): Promise<void> {
    while (this.auditWrites.size > 0) await Promise.all([...this.auditWrites]);
    if (this.auditFailure !== undefined) {
      this.context.terminate?.();
      throw new QueryFailedError('the audit trail could not be written: the session ends');
    }
  }

  private async *dispatch(message: Uint8Array): AsyncGenerator<Uint8Array, Uint8Array | undefined> {
    const data = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    const code = String.fromCharCode(data[0] ?? 0);
    if (code === 'X') {
      this.close();
      // Let the protocol library close the connection.
      return undefined;
    }
    if (code === 'Q') {
      yield* this.simpleQuery(wire.parseQuery(data));
      return EMPTY;
    }
    if (code === 'S') {
      this.skippingUntilSync = false;
      if (this.transaction === 'I') this.endImplicitTransaction();
      await this.auditSettled();
      yield wire.readyForQuery(this.transaction);
      return EMPTY;
    }
    if (code === 'H') return EMPTY;
    if (this.skippingUntilSync) return EMPTY;
    const out = new Outbox();
    this.currentStatement = undefined;
    try {
      switch (code) {
        case 'P':
          await this.parse(data, out);
          break;
        case 'B':
          await this.bind(data, out);
          break;
        case 'D':
          await this.describe(data, out);
          break;
        case 'E':
          for await (const chunk of this.execute(data, out)) yield chunk;
          break;
        case 'C':
          this.closeMessage(data, out);
          break;
        case 'd':
        case 'c':
        case 'f':
          // COPY FROM is never started, so copy data from a client is out of place.
          throw new FeatureNotSupportedError('COPY FROM STDIN is not supported');
        case 'F':
          throw new FeatureNotSupportedError('the function call protocol is not supported');
        default:
          throw new ProtocolViolation(`unknown message type ${JSON.stringify(code)}`);
      }
    } catch (error) {
      this.auditRefusal(this.currentStatement, error);
      out.push(this.errorMessage(error));
      this.failed();
      this.skippingUntilSync = true;
    }
    if (!out.empty) yield out.take();
    return EMPTY;
  }

  // ---- simple query protocol -------------------------------------------------------------

  private async *simpleQuery(text: string): AsyncGenerator<Uint8Array> {
    const out = new Outbox();
    try {
      const statements = splitStatements(text);
      for (const statementText of statements) {
        this.currentStatement = statementText;
        if (this.transaction === 'E' && !isTransactionEnd(statementText)) throw new FailedTransaction();
        const statement = classifyStatement(statementText);
        if (statement.kind === 'empty') {
          out.push(wire.emptyQueryResponse());
          continue;
        }
        const plan = await this.plan(statement);
        const portal: Portal = { plan, parameters: [], resultFormats: [], hold: false, run: undefined };
        try {
          for await (const chunk of this.runPortal(portal, 0, out, { describe: true, simple: true })) yield chunk;
        } finally {
          this.closeRun(portal.run);
        }
      }
    } catch (error) {
      this.auditRefusal(this.currentStatement, error);
      out.push(this.errorMessage(error));
      this.failed();
    }
    if (this.transaction === 'I') this.endImplicitTransaction();
    // Every record of this query (refusals included) is written before the client may go on.
    await this.auditSettled();
    out.push(wire.readyForQuery(this.transaction));
    yield out.take();
  }

  // ---- extended query protocol -----------------------------------------------------------

  private async parse(data: Buffer, out: Outbox): Promise<void> {
    const { statement: name, query, parameterTypes } = wire.parseParse(data);
    this.currentStatement = query;
    if (this.transaction === 'E' && !isTransactionEnd(query)) throw new FailedTransaction();
    if (name !== '' && this.statements.has(name)) throw new DuplicateName(`prepared statement "${name}" already exists`);
    const statements = splitStatements(query);
    if (statements.length > 1) throw new InvalidSqlError('cannot insert multiple commands into a prepared statement');
    const plan = await this.plan(classifyStatement(statements[0] ?? ''), parameterTypes);
    this.statements.set(name, plan);
    this.statementTexts.set(name, query);
    out.push(wire.parseComplete());
  }

  private async bind(data: Buffer, out: Outbox): Promise<void> {
    const bind = wire.parseBind(data);
    const plan = this.statements.get(bind.statement);
    if (plan === undefined) throw new UndefinedName(`prepared statement "${bind.statement}" does not exist`);
    if (bind.portal !== '' && this.portals.has(bind.portal)) throw new DuplicateName(`portal "${bind.portal}" already exists`);
    const oids = plan.kind === 'utility' ? [] : plan.parameterOids;
    if (bind.parameters.length !== oids.length) throw new ProtocolViolation(`bind message supplies ${bind.parameters.length} parameters, but the statement requires ${oids.length}`);
    const formats = wire.expandFormats(bind.parameterFormats, bind.parameters.length);
    const parameters = bind.parameters.map((value, i) => decodeParameter(value, formats[i] ?? 0, oids[i] ?? 0));
    this.closeRun(this.portals.get(bind.portal)?.run);
    this.portals.set(bind.portal, { plan, parameters, resultFormats: bind.resultFormats, hold: false, run: undefined, text: this.statementTexts.get(bind.statement) ?? '' });
    out.push(wire.bindComplete());
  }

  private async describe(data: Buffer, out: Outbox): Promise<void> {
    const { kind, name } = wire.parseDescribe(data);
    if (kind === 'S') {
      const plan = this.statements.get(name);
      if (plan === undefined) throw new UndefinedName(`prepared statement "${name}" does not exist`);
      out.push(wire.parameterDescription(plan.kind === 'utility' ? [] : [...plan.parameterOids]));
      const columns = this.planColumns(plan);
      if (columns === undefined) throw new FeatureNotSupportedError('the result columns depend on a parameter value; cast the parameter (for example $1::text)');
      out.push(columns === null ? wire.noData() : wire.rowDescription(fields(columns, [])));
      return;
    }
    const portal = this.portals.get(name) ?? this.cursors.get(name);
    if (portal === undefined) throw new UndefinedCursor(`portal "${name}" does not exist`);
    let columns = this.planColumns(portal.plan);
    if (columns === undefined) {
      // Only running tells: a cursor's FETCH, or a query whose columns depend on a parameter.
      const plan = portal.plan;
      const source = plan.kind === 'utility' && plan.statement.kind === 'fetch' ? this.cursors.get(plan.statement.cursor) : portal;
      if (source === undefined) throw new UndefinedCursor('cursor does not exist');
      columns = (source.run ?? (await this.startRun(source))).columns;
    }
    out.push(columns === null ? wire.noData() : wire.rowDescription(fields(columns, portal.resultFormats)));
  }

  private async *execute(data: Buffer, out: Outbox): AsyncGenerator<Uint8Array> {
    const { portal: name, maxRows } = wire.parseExecute(data);
    const portal = this.portals.get(name) ?? this.cursors.get(name);
    if (portal === undefined) throw new UndefinedCursor(`portal "${name}" does not exist`);
    this.currentStatement = portal.text;
    if (this.transaction === 'E' && !(portal.plan.kind === 'utility' && portal.plan.statement.kind === 'transaction')) throw new FailedTransaction();
    yield* this.runPortal(portal, maxRows, out, { describe: false, simple: false });
  }

  private closeMessage(data: Buffer, out: Outbox): void {
    const { kind, name } = wire.parseClose(data);
    if (kind === 'S') this.statements.delete(name);
    else {
      this.closeRun(this.portals.get(name)?.run);
      this.portals.delete(name);
    }
    out.push(wire.closeComplete());
  }

  // ---- planning ---------------------------------------------------------------------------

  /** Decides how a statement runs, checking it as far as can be done before parameters are known. */
  private async plan(statement: PgStatement, declaredTypes: readonly number[] = []): Promise<Plan> {
    if (statement.kind !== 'query') return { kind: 'utility', statement };
    const sql = statement.sql;
    const route = await this.route(sql);
    if (route === 'catalog') {
      const scope = await this.newScope();
      scope.describe('catalog', sql);
      try {
        const description = await this.withCatalog(scope, (sandbox, session) => sandbox.describe(sql, session));
        return { kind: 'catalog', sql, parameterOids: mergeOids(declaredTypes, description.parameterTypeOids), columns: description.columns };
      } catch (error) {
        this.finishScope(scope, error);
        throw error;
      }
    }
    // Checked and rewritten now, so that errors come at Parse as in PostgreSQL; run again (from
    // the gateway's cache) at each execution so that the policies in force then apply.
    const scope = await this.newScope();
    try {
      const prepared = await this.context.gateway.data.query(scope, sql, { parameters: true });
      const description = await this.context.gateway.data.results.describeStatement(prepared);
      const inferred = description.parameterTypeIds.map((id) => (id === DuckDBTypeId.INVALID ? 0 : pgScalarFor(id).oid));
      return { kind: 'data', sql, parameterOids: mergeOids(declaredTypes, inferred), columns: description.columns };
    } catch (error) {
      // A statement refused at Parse is refused once, audited once.
      this.finishScope(scope, error);
      throw error;
    }
  }

  /** Catalog tables and functions go to the sandbox; datasets to the pipeline; both at once nowhere. */
  private async route(sql: string): Promise<'catalog' | 'data'> {
    let ast: unknown;
    try {
      // Catalog queries use PostgreSQL syntax DuckDB's parser lacks (OPERATOR(pg_catalog.~),
      // ::pg_catalog.text); the sandbox rewrites it the same way before running them.
      ast = await this.context.gateway.data.parse(rewritePgSyntax(sql));
    } catch {
      // Unparseable here: the pipeline refuses it with the proper error and audit record.
      return 'data';
    }
    const target = statementTarget(ast);
    // Catalog tables live in the sandbox, datasets in the engine: never both in one statement.
    // Recorded as a refusal (SQL_NOT_ALLOWED), as the pipeline records a table function over HTTP.
    if (target === 'mixed') throw new RefusedStatement('a statement cannot combine catalog tables or table functions (pg_catalog, information_schema, generate_series) with datasets', '0A000');
    if (target === 'catalog') return 'catalog';
    if (target === 'none' && usesCatalogFunctions(ast)) return 'catalog';
    return 'data';
  }

  /** Result columns of a plan: null when it returns no rows, undefined when only running it tells. */
  private planColumns(plan: Plan): readonly ResultColumn[] | null | undefined {
    if (plan.kind === 'data' || plan.kind === 'catalog') return plan.columns;
    const statement = plan.statement;
    if (statement.kind === 'show') return showColumns(statement.name);
    if (statement.kind === 'fetch' && !statement.move) return undefined;
    return null;
  }

  // ---- execution ---------------------------------------------------------------------------

  /**
   * Runs (or continues) a portal: rows up to maxRows (0: all), then CommandComplete, or
   * PortalSuspended when rows remain. Utilities answer here.
   */
  private async *runPortal(portal: Portal, maxRows: number, out: Outbox, options: { describe: boolean; simple: boolean }): AsyncGenerator<Uint8Array> {
    const plan = portal.plan;
    if (plan.kind === 'utility') {
      yield* this.runUtility(plan.statement, out, options);
      return;
    }
    // A whole result in text format: DuckDB's CSV writer makes the values (see rowsViaCsvWriter).
    if (plan.kind === 'data' && portal.run === undefined && maxRows === 0 && portal.parameters.length === 0 && plan.columns !== undefined && postgresCsvEligible(plan.columns) && portal.resultFormats.every((f) => f === 0)) {
      yield* this.rowsViaCsvWriter(portal, plan.columns, out, options.describe);
      return;
    }
    const run = portal.run ?? (await this.startRun(portal));
    if (options.describe) out.push(wire.rowDescription(fields(run.columns, portal.resultFormats)));
    run.encoder ??= createRowEncoder(run.columns, wire.expandFormats([...portal.resultFormats], run.columns.length));
    const before = run.rows;
    const complete = yield* this.pump(run, maxRows, out);
    const sent = run.rows - before;
    if (complete) {
      out.push(wire.commandComplete(`SELECT ${sent}`));
      this.closeRun(run);
    } else out.push(wire.portalSuspended());
  }

  /** Streams rows of a run into the outbox, flushing in large batches; true when the result ended. */
  private async *pump(run: Run, maxRows: number, out: Outbox): AsyncGenerator<Uint8Array, boolean> {
    let sent = 0;
    const encoder = run.encoder as RowEncoder;
    while (maxRows === 0 || sent < maxRows) {
      if (run.pending === undefined) {
        const chunk = await this.nextChunk(run);
        if (chunk === null) {
          run.done = true;
          return true;
        }
        run.pending = { chunk, offset: 0 };
      }
      const { chunk, offset } = run.pending;
      const take = maxRows === 0 ? chunk.rowCount - offset : Math.min(chunk.rowCount - offset, maxRows - sent);
      const rows = encoder(chunk, take, offset);
      out.push(rows);
      run.bytes += rows.length;
      run.rows += take;
      sent += take;
      run.pending = offset + take >= chunk.rowCount ? undefined : { chunk, offset: offset + take };
      if (out.full) yield out.take();
    }
    return false;
  }

  /**
   * The run's next chunk, and the fetch of the one after it started before this one is encoded:
   * DuckDB produces in its threads while the main thread encodes. One chunk ahead at most, so
   * memory stays bounded.
   */
  private async nextChunk(run: Run): Promise<DuckDBDataChunk | null> {
    const pending = run.ahead ?? run.stream.nextChunk();
    run.ahead = undefined;
    const chunk = await this.guard(pending);
    if (chunk !== null) {
      const ahead = run.stream.nextChunk();
      // Awaited (and its error reported) by the next call; never an unhandled rejection meanwhile.
      ahead.catch(() => undefined);
      run.ahead = ahead;
    }
    return chunk;
  }

  /** Starts a data or catalog result: a new audit scope, durable before the first row. */
  private async startRun(portal: Portal): Promise<Run> {
    const plan = portal.plan;
    if (plan.kind === 'utility') throw new QueryFailedError('internal: a utility has no result stream');
    const scope = await this.newScope();
    const abort = new AbortController();
    this.active = abort;
    this.cancelled = false;
    try {
      let stream: ResultStream;
      if (plan.kind === 'data') {
        const gateway = this.context.gateway;
        const prepared = await gateway.data.query(scope, plan.sql, { parameters: true });
        await gateway.data.startDelivery(scope, prepared);
        stream = await this.guard(gateway.data.results.open(prepared, abort.signal, portal.parameters));
      } else {
        scope.describe('catalog', plan.sql);
        stream = await this.guard(
          this.withCatalog(scope, (sandbox, session) => sandbox.run(plan.sql, portal.parameters, session, { timeoutMs: this.context.gateway.settings.statementTimeoutMs, signal: abort.signal })),
        );
      }
      const run: Run = { scope, stream, columns: stream.columns, encoder: undefined, pending: undefined, ahead: undefined, rows: 0, bytes: 0, done: false };
      portal.run = run;
      return run;
    } catch (error) {
      const failure = this.cancelled ? new QueryCancelledError() : error;
      this.finishScope(scope, failure);
      throw failure;
    }
  }

  /** Completes a run's audit record (rows and bytes sent so far) and releases its stream. */
  private closeRun(run: Run | undefined, error?: unknown): void {
    if (run === undefined || run.scope.finished) return;
    if (!run.done) run.stream.close();
    this.context.gateway.data.delivered(run.scope, run.rows, run.bytes);
    this.trackAudit(this.context.gateway.finish(run.scope, error));
  }

  /** Awaits engine work, turning an abort by CancelRequest into 57014. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw this.cancelled ? new QueryCancelledError() : error;
    }
  }

  private async *runUtility(statement: PgStatement, out: Outbox, options: { describe: boolean; simple: boolean }): AsyncGenerator<Uint8Array> {
    switch (statement.kind) {
      case 'empty':
        out.push(wire.emptyQueryResponse());
        return;
      case 'transaction':
        this.transact(statement.action);
        out.push(wire.commandComplete(statement.action === 'commit' && this.wasFailed ? 'ROLLBACK' : statement.tag));
        this.wasFailed = false;
        return;
      case 'set': {
        const changes = statement.name === 'all' ? this.settings.resetAll() : [this.settings.set(statement.name, statement.value)].filter((c) => c !== undefined);
        for (const change of changes) out.push(wire.parameterStatus(change.name, change.value));
        out.push(wire.commandComplete(statement.tag));
        return;
      }
      case 'set_ignored':
        out.push(wire.commandComplete(statement.tag));
        return;
      case 'show': {
        const columns = showColumns(statement.name);
        if (options.describe) out.push(wire.rowDescription(fields(columns, [])));
        const rows = statement.name === 'all' ? this.settings.all().map((s) => [s.name, s.setting, '']) : [[this.settings.get(statement.name)]];
        for (const row of rows) out.push(wire.dataRow(row));
        out.push(wire.commandComplete('SHOW'));
        return;
      }
      case 'discard':
        this.close();
        this.statements.clear();
        for (const change of this.settings.resetAll()) out.push(wire.parameterStatus(change.name, change.value));
        out.push(wire.commandComplete('DISCARD ALL'));
        return;
      case 'deallocate':
        if (statement.name === null) this.statements.clear();
        else if (!this.statements.delete(statement.name)) throw new UndefinedName(`prepared statement "${statement.name}" does not exist`);
        out.push(wire.commandComplete(statement.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE'));
        return;
      case 'declare': {
        if (this.cursors.has(statement.cursor)) throw new DuplicateName(`cursor "${statement.cursor}" already exists`);
        const plan = await this.plan(classifyStatement(statement.query));
        if (plan.kind === 'utility') throw new InvalidSqlError('a cursor must be declared for a query');
        this.cursors.set(statement.cursor, { plan, parameters: [], resultFormats: statement.binary ? [1] : [], hold: statement.hold, run: undefined });
        out.push(wire.commandComplete('DECLARE CURSOR'));
        return;
      }
      case 'fetch': {
        const cursor = this.cursors.get(statement.cursor);
        if (cursor === undefined) throw new UndefinedCursor(`cursor "${statement.cursor}" does not exist`);
        const run = cursor.run ?? (await this.startRun(cursor));
        // PostgreSQL's FETCH sends a RowDescription in the simple protocol, each time.
        if (options.describe && !statement.move) out.push(wire.rowDescription(fields(run.columns, cursor.resultFormats)));
        run.encoder ??= createRowEncoder(run.columns, wire.expandFormats([...cursor.resultFormats], run.columns.length));
        const before = run.rows;
        const counting = statement.move ? new Outbox() : out;
        const limit = statement.count === 'all' ? 0 : statement.count;
        if (limit === 0 && statement.count !== 'all') {
          out.push(wire.commandComplete(`${statement.move ? 'MOVE' : 'FETCH'} 0`));
          return;
        }
        for await (const chunk of this.pump(run, limit, counting)) if (!statement.move) yield chunk;
        out.push(wire.commandComplete(`${statement.move ? 'MOVE' : 'FETCH'} ${run.rows - before}`));
        return;
      }
      case 'close_cursor':
        if (statement.cursor === null) {
          for (const cursor of this.cursors.values()) this.closeRun(cursor.run);
          this.cursors.clear();
        } else {
          const cursor = this.cursors.get(statement.cursor);
          if (cursor === undefined) throw new UndefinedCursor(`cursor "${statement.cursor}" does not exist`);
          this.closeRun(cursor.run);
          this.cursors.delete(statement.cursor);
        }
        out.push(wire.commandComplete('CLOSE CURSOR'));
        return;
      case 'copy_out': {
        const plan = await this.plan(classifyStatement(statement.query));
        if (plan.kind === 'utility') throw new InvalidSqlError('COPY needs a query: COPY (SELECT …) TO STDOUT');
        if (statement.format === 'csv' && plan.kind === 'data' && plan.columns !== undefined && postgresCsvEligible(plan.columns)) {
          yield* this.copyCsvNatively(plan.sql, plan.columns, statement, out);
          return;
        }
        const portal: Portal = { plan, parameters: [], resultFormats: [], hold: false, run: undefined };
        const run = await this.startRun(portal);
        try {
          out.push(wire.copyOutResponse(0, run.columns.map(() => 0)));
          run.encoder = createRowEncoder(run.columns, run.columns.map(() => 0));
          if (statement.header) out.push(wire.copyData(Buffer.from(`${run.columns.map((c) => (statement.format === 'csv' ? csvField(c.name) : c.name)).join(statement.delimiter ?? (statement.format === 'csv' ? ',' : '\t'))}\n`)));
          const copy = { format: statement.format, delimiter: statement.delimiter ?? (statement.format === 'csv' ? ',' : '\t'), nullString: statement.nullString ?? (statement.format === 'csv' ? '' : '\\N') };
          for (;;) {
            const chunk = await this.nextChunk(run);
            if (chunk === null) {
              run.done = true;
              break;
            }
            const lines = encodeCopyRows(run.encoder(chunk), copy);
            out.push(wire.copyData(lines));
            run.rows += chunk.rowCount;
            run.bytes += lines.length;
            if (out.full) yield out.take();
          }
          out.push(wire.copyDone());
          out.push(wire.commandComplete(`COPY ${run.rows}`));
        } finally {
          this.closeRun(run);
        }
        return;
      }
      case 'query':
        throw new QueryFailedError('internal: a query planned as a utility');
    }
  }

  /**
   * COPY (query) TO STDOUT (FORMAT csv) written by DuckDB's own CSV writer (several times faster
   * than encoding rows here), for results whose types it prints as PostgreSQL does.
   */
  private async *copyCsvNatively(sql: string, columns: readonly ResultColumn[], statement: Extract<PgStatement, { kind: 'copy_out' }>, out: Outbox): AsyncGenerator<Uint8Array> {
    const delimiter = statement.delimiter ?? ',';
    yield* this.viaCsvWriter(sql, { delimiter, nullString: statement.nullString ?? '' }, out, {
      start: () => {
        out.push(wire.copyOutResponse(0, columns.map(() => 0)));
        if (statement.header) out.push(wire.copyData(Buffer.from(`${columns.map((c) => csvField(c.name)).join(delimiter)}\n`)));
      },
      piece: (csv) => wire.copyData(csv),
      end: () => [],
      complete: (rows) => [wire.copyDone(), wire.commandComplete(`COPY ${rows}`)],
    });
  }

  /**
   * A whole text-format result as DataRows made from DuckDB's CSV writer (it writes in parallel;
   * the row encoder works from a single-threaded stream), for types it prints as PostgreSQL does.
   */
  private async *rowsViaCsvWriter(portal: Portal, columns: readonly ResultColumn[], out: Outbox, describe: boolean): AsyncGenerator<Uint8Array> {
    const plan = portal.plan as Extract<Plan, { kind: 'data' }>;
    const rows = new CsvDataRows(columns.length);
    yield* this.viaCsvWriter(plan.sql, { delimiter: ',', nullString: '' }, out, {
      start: () => {
        if (describe) out.push(wire.rowDescription(fields(columns, portal.resultFormats)));
      },
      piece: (csv) => rows.push(csv),
      end: () => [rows.end()],
      complete: () => [wire.commandComplete(`SELECT ${rows.rows}`)],
    });
  }

  /** One audited run of a query through DuckDB's CSV writer; `steps` frame what goes out. */
  private async *viaCsvWriter(
    sql: string,
    csv: { delimiter: string; nullString: string },
    out: Outbox,
    steps: { start(): void; piece(csv: Buffer): Uint8Array; end(): Uint8Array[]; complete(rows: number): Uint8Array[] },
  ): AsyncGenerator<Uint8Array> {
    const gateway = this.context.gateway;
    const scope = await this.newScope();
    const abort = new AbortController();
    this.active = abort;
    this.cancelled = false;
    let bytes = 0;
    const send = (message: Uint8Array): void => {
      out.push(message);
      bytes += message.length;
    };
    try {
      const prepared = await gateway.data.query(scope, sql, { parameters: true });
      await gateway.data.startDelivery(scope, prepared);
      steps.start();
      const copy = gateway.data.postgresCsv(prepared, csv, abort.signal);
      for await (const piece of copy.chunks) {
        send(steps.piece(piece));
        if (out.full) yield out.take();
      }
      const rows = await this.guard(copy.rows);
      for (const message of steps.end()) send(message);
      for (const message of steps.complete(rows)) out.push(message);
      gateway.data.delivered(scope, rows, bytes);
      await gateway.finish(scope);
    } catch (error) {
      const failure = this.cancelled ? new QueryCancelledError() : error;
      gateway.data.delivered(scope, undefined, bytes);
      this.finishScope(scope, failure);
      throw failure;
    } finally {
      abort.abort();
    }
  }

  // ---- transactions -----------------------------------------------------------------------

  private wasFailed = false;

  /** Transactions are accepted and have no effect on data (Veil serves reads); they scope cursors. */
  private transact(action: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback_to'): void {
    switch (action) {
      case 'begin':
        if (this.transaction === 'I') this.transaction = 'T';
        return;
      case 'commit':
      case 'rollback':
        this.wasFailed = this.transaction === 'E';
        this.transaction = 'I';
        this.endExplicitTransaction();
        return;
      case 'rollback_to':
        if (this.transaction === 'E') this.transaction = 'T';
        return;
      default:
        return;
    }
  }

  /** At Sync outside a transaction block, the implicit transaction ends and takes its portals along. */
  private endImplicitTransaction(): void {
    for (const portal of this.portals.values()) this.closeRun(portal.run);
    this.portals.clear();
  }

  private endExplicitTransaction(): void {
    this.endImplicitTransaction();
    for (const [name, cursor] of this.cursors) {
      if (cursor.hold) continue;
      this.closeRun(cursor.run);
      this.cursors.delete(name);
    }
  }

  private failed(): void {
    if (this.transaction === 'T') this.transaction = 'E';
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async newScope(): Promise<RequestScope> {
    const scope = this.openScope();
    this.context.gateway.adopt(scope, await this.context.reauthenticate());
    return scope;
  }

  private openScope(): RequestScope {
    const application = this.settings.get('application_name');
    return this.context.gateway.open({ door: 'pg', clientApplication: application === '' ? null : application, clientAddress: this.context.clientAddress });
  }

  /** Completes a scope with its failure, remembering that this failure is on record. */
  private finishScope(scope: RequestScope, error: unknown): void {
    this.trackAudit(this.context.gateway.finish(scope, error));
    if (typeof error === 'object' && error !== null) this.audited.add(error);
  }

  /**
   * Every statement the door refuses leaves a record, as over HTTP: refusals that happen before a
   * request scope exists (SET of an engine setting, COPY to a file, PREPARE, a revoked token, a
   * statement in a failed transaction) are recorded here, once.
   */
  private auditRefusal(statement: string | undefined, error: unknown): void {
    if (typeof error === 'object' && error !== null && this.audited.has(error)) return;
    const scope = this.openScope();
    this.context.gateway.adopt(scope, this.context.authentication);
    scope.describe('query', statement ?? null);
    this.finishScope(scope, error);
  }

  /** Runs catalog work in the sandbox holding what this caller may see right now. */
  private async withCatalog<T>(scope: RequestScope | null, work: (sandbox: import('./catalog-sandbox.ts').CatalogSandbox, session: CatalogSession) => Promise<T>): Promise<T> {
    const viewScope = scope ?? (await this.newScope());
    const view = await this.context.gateway.catalog.visibleCatalog(viewScope);
    const session: CatalogSession = {
      user: this.user,
      database: this.context.startup['database'] ?? this.user,
      searchPath: this.settings
        .get('search_path')
        .split(',')
        .map((s) => s.trim().replace(/^"|"$/g, ''))
        .filter((s) => s !== '' && s !== '$user'),
      setting: (name) => {
        if (name === 'backend_pid') return String(this.context.processId);
        try {
          return this.settings.get(name);
        } catch {
          return undefined;
        }
      },
      serverVersion: SERVER_VERSION,
    };
    try {
      return await this.context.catalogs.use(view, (sandbox) => work(sandbox, session));
    } catch (error) {
      // A catalog relation the sandbox does not have is an undefined table, as in PostgreSQL.
      if (isVeilError(error) && error.code === 'NOT_FOUND') throw new SessionError('NOT_FOUND', '42P01', error.message);
      throw error;
    }
  }

  private errorMessage(error: unknown): Uint8Array {
    if (error instanceof SessionError) return wire.errorResponse({ severity: 'ERROR', code: error.sqlState, message: error.message, detail: `Veil error code ${error.code}` });
    // Veil's stable code goes in the detail: scripts can tell a masked column's refusal from a policy's.
    if (isVeilError(error)) return wire.errorResponse({ severity: 'ERROR', code: SQLSTATE[error.code], message: error.message, detail: `Veil error code ${error.code}` });
    this.context.logError(error);
    const code = errorCodeOf(error);
    return wire.errorResponse({ severity: 'ERROR', code: SQLSTATE[code], message: 'internal error' });
  }
}

function isTransactionEnd(text: string): boolean {
  try {
    const statement = classifyStatement(text);
    return statement.kind === 'transaction' && (statement.action === 'rollback' || statement.action === 'commit' || statement.action === 'rollback_to');
  } catch {
    return false;
  }
}

/** Declared parameter types win; unspecified (0) ones take what the engine inferred, else text. */
function mergeOids(declared: readonly number[], inferred: readonly number[]): number[] {
  const count = Math.max(declared.length, inferred.length);
  return Array.from({ length: count }, (_, i) => {
    const given = declared[i] ?? 0;
    if (given !== 0) return given;
    const guessed = inferred[i] ?? 0;
    return guessed !== 0 ? guessed : PG_SCALAR_TYPES.text.oid;
  });
}

function fields(columns: readonly ResultColumn[], resultFormats: readonly number[]): Parameters<typeof wire.rowDescription>[0] {
  const formats = wire.expandFormats([...resultFormats], columns.length);
  return columns.map((column, i) => {
    const { type, modifier } = pgColumnType(column);
    return { name: column.name, tableOid: 0, columnNumber: 0, typeOid: type.oid, typeLength: type.length, typeModifier: modifier, format: formats[i] ?? 0 };
  });
}

function showColumns(name: string): ResultColumn[] {
  const text = (n: string): ResultColumn => ({ name: n, type: 'VARCHAR', typeId: DuckDBTypeId.VARCHAR });
  return name === 'all' ? [text('name'), text('setting'), text('description')] : [text(name)];
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

