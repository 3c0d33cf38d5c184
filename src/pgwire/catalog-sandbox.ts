import {
  CatalogSandboxEngine,
  DuckDBTypeId,
  sqlIdentifier,
  sqlString,
  type PreparedCatalogSandbox,
  type ResultColumn,
  type ResultStream,
  type SandboxParameter,
  type SandboxParameterType,
} from '../engine/index.ts';
import { InvalidSqlError, QueryFailedError, SqlNotAllowedError, VeilError } from '../errors/index.ts';
import { parseLosslessJson, stringifyLosslessJson, type JsonValue } from '../util/lossless-json.ts';
import { isNode, text, type AstNode } from './pg-catalog-ast.ts';
import { EMULATION_CATALOG, INFORMATION_SCHEMA_SCHEMA, PG_CATALOG_SCHEMA } from './pg-catalog-ddl.ts';
import { rewritePgSyntax } from './pg-catalog-prepass.ts';
import { loadSnapshot, prepareCatalog, SETTINGS, type CatalogIndex, type CatalogSnapshot } from './pg-catalog-snapshot.ts';
import { parseIdentifier } from './pg-catalog-naming.ts';
import { CatalogTranslator, type TranslationSession } from './pg-catalog-translate.ts';
import { pgColumnType, PG_SCALAR_TYPES } from './pg-types.ts';

export type { CatalogSnapshot } from './pg-catalog-snapshot.ts';

/** What a catalog query may know about the connection it comes from. */
export interface CatalogSession {
  readonly user: string;
  /** The startup database name. */
  readonly database: string;
  /** search_path entries as set ('$user' and quoted names allowed). */
  readonly searchPath: readonly string[];
  /** The session's value of a setting (DateStyle, TimeZone, application_name, …), or undefined. */
  setting(name: string): string | undefined;
  /** e.g. '15.0 (Veil 0.1.0)'. */
  readonly serverVersion: string;
}

export interface CatalogRunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const MAX_SQL_LENGTH = 1024 * 1024;
/** Parsed statements are cached (clients repeat their catalog queries); long texts are not kept. */
const PARSE_CACHE_SIZE = 256;
const PARSE_CACHE_MAX_SQL = 16 * 1024;

/** One sandbox with the emulated catalog already built, waiting for the next open(). */
let spare: Promise<PreparedCatalogSandbox> | undefined;

function prepareSpare(): Promise<PreparedCatalogSandbox> {
  const prepared = CatalogSandboxEngine.prepare(prepareCatalog);
  prepared.catch(() => undefined);
  return prepared;
}

/**
 * Answers the catalog and introspection queries of PostgreSQL clients (psql's \d, pgJDBC's
 * DatabaseMetaData, DBeaver, Metabase, Tableau) for one caller, in process.
 *
 * It runs them in a separate, data-less DuckDB instance (CatalogSandboxEngine) that holds only
 * the catalog rows and empty tables of what the caller may see, with external access disabled and
 * its configuration locked: whatever a catalog query does, it can reveal nothing else. Client SQL
 * is parsed there, translated (pg-catalog-translate.ts: names resolved to the emulated
 * pg_catalog/information_schema, session functions to constants, reg* casts to lookups) and run.
 */
export class CatalogSandbox {
  private readonly parses = new Map<string, string>();

  private constructor(private readonly engine: CatalogSandboxEngine, private readonly index: CatalogIndex) {}

  /**
   * Builds a sandbox for one caller's view. The caller-independent half (the emulated catalog) of
   * the next sandbox is prepared in the background once this one is built, so that the following
   * open() only loads the snapshot; discardSpare() releases that prepared instance.
   */
  static async open(snapshot: CatalogSnapshot): Promise<CatalogSandbox> {
    const ready = spare;
    spare = undefined;
    const prepared = (ready === undefined ? undefined : await ready.catch(() => undefined)) ?? (await CatalogSandboxEngine.prepare(prepareCatalog));
    try {
      let index: CatalogIndex | undefined;
      const engine = await prepared.finish(async (loader) => {
        index = await loadSnapshot(loader, snapshot);
      });
      if (index === undefined) throw new QueryFailedError('catalog sandbox setup did not complete');
      return new CatalogSandbox(engine, index);
    } finally {
      spare ??= prepareSpare();
    }
  }

  /** Closes the instance kept ready for the next open() (at shutdown). */
  static async discardSpare(): Promise<void> {
    const ready = spare;
    spare = undefined;
    (await ready?.catch(() => undefined))?.discard();
  }

  /** Result columns and parameter type OIDs of a statement, without running it (extended-protocol Describe). */
  async describe(sql: string, session: CatalogSession): Promise<{ columns: ResultColumn[]; parameterTypeOids: number[] }> {
    const translated = await this.translate(sql, session);
    const shape = await this.guard(() => this.engine.describe(translated.sql));
    const parameterTypeOids: number[] = [];
    for (let i = 0; i < translated.parameterCount; i++) parameterTypeOids.push(parameterOid(shape.parameters[i]));
    return { columns: shape.columns, parameterTypeOids };
  }

  async run(
    sql: string,
    parameters: readonly SandboxParameter[],
    session: CatalogSession,
    options: CatalogRunOptions,
  ): Promise<ResultStream> {
    const translated = await this.translate(sql, session);
    return this.guard(() => this.engine.stream(translated.sql, parameters, options));
  }

  async close(): Promise<void> {
    await this.engine.close();
  }

  /** The DuckDB SQL a client statement runs as (exported for tests and diagnostics). */
  async translate(sql: string, session: CatalogSession): Promise<{ sql: string; parameterCount: number }> {
    if (sql.length > MAX_SQL_LENGTH) throw new InvalidSqlError(`query text is ${sql.length} characters; the limit is ${MAX_SQL_LENGTH}`);
    if (sql.includes('\u0000')) throw new InvalidSqlError('query text contains a NUL character');
    if (sql.trim() === '' || /^[\s;]*$/.test(sql)) throw new InvalidSqlError('query text is empty');
    const parsed = parseLosslessJson(await this.parse(rewritePgSyntax(sql)));
    if (!isNode(parsed)) throw new InvalidSqlError('the parser returned an unexpected result');
    if (parsed['error'] !== false) {
      const kind = String(parsed['error_type'] ?? '');
      const message = String(parsed['error_message'] ?? 'syntax error');
      if (kind === 'not implemented' || /Only SELECT statements/.test(message)) {
        throw new SqlNotAllowedError('statement', 'only a single SELECT statement is allowed in catalog queries');
      }
      throw new InvalidSqlError(firstLine(message));
    }
    const statements = parsed['statements'];
    if (!Array.isArray(statements) || statements.length !== 1) throw new SqlNotAllowedError('multiple statements', 'exactly one SELECT statement is allowed');
    const statement = statements[0];
    if (!isNode(statement) || !isNode(statement['node'])) throw new InvalidSqlError('the parser returned an unexpected result');
    const context = translationSession(this.index, session);
    const show = showTarget(statement['node']);
    if (show !== undefined) return this.translate(showQuery(show, context), session);
    const params: JsonValue = statement['named_param_map'] ?? [];
    const parameterCount = Array.isArray(params) ? params.filter(isNode).reduce((n, p) => Math.max(n, Number(p['value'] ?? 0)), 0) : 0;
    const node = new CatalogTranslator(this.index, context).translate(statement['node']);
    const document = { error: false, statements: [{ node, named_param_map: params }] };
    return { sql: await this.engine.deserializeSql(stringifyLosslessJson(document)), parameterCount };
  }

  private async parse(sql: string): Promise<string> {
    const cached = this.parses.get(sql);
    if (cached !== undefined) {
      this.parses.delete(sql);
      this.parses.set(sql, cached);
      return cached;
    }
    const json = await this.engine.serializeSql(sql);
    if (sql.length > PARSE_CACHE_MAX_SQL) return json;
    this.parses.set(sql, json);
    if (this.parses.size > PARSE_CACHE_SIZE) {
      const oldest = this.parses.keys().next().value;
      if (oldest !== undefined) this.parses.delete(oldest);
    }
    return json;
  }

  /** Engine errors name the emulation's internal relations; say pg_catalog and information_schema instead. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof QueryFailedError) {
        const cleaned = error.message
          .replaceAll(`${EMULATION_CATALOG}.${PG_CATALOG_SCHEMA}.`, 'pg_catalog.')
          .replaceAll(`${EMULATION_CATALOG}.${INFORMATION_SCHEMA_SCHEMA}.`, 'information_schema.')
          .replaceAll(`"${EMULATION_CATALOG}".`, '')
          .replaceAll(`${EMULATION_CATALOG}.`, '');
        throw new QueryFailedError(cleaned, { ...error.details });
      }
      if (error instanceof VeilError) throw error;
      throw new QueryFailedError('catalog query failed');
    }
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).slice(0, 500);
}

function parameterOid(type: SandboxParameterType | undefined): number {
  if (type === undefined || type.typeId === DuckDBTypeId.ANY || type.typeId === DuckDBTypeId.INVALID || type.typeId === DuckDBTypeId.SQLNULL) return PG_SCALAR_TYPES.text.oid;
  return pgColumnType(type.elementTypeId === undefined ? { typeId: type.typeId } : { typeId: type.typeId, elementTypeId: type.elementTypeId }).type.oid;
}

/** search_path entries as names: quotes removed, unquoted names folded, $user replaced by the user. */
function searchPathSchemas(entries: readonly string[], user: string): string[] {
  const schemas: string[] = [];
  for (const raw of entries.flatMap((e) => splitPathList(e))) {
    const entry = raw.trim();
    if (entry === '') continue;
    const name = entry === '$user' || entry === '"$user"' ? user : (parseIdentifier(entry)[0] ?? '');
    if (name !== '' && !schemas.includes(name)) schemas.push(name);
  }
  return schemas;
}

/** A search_path value may arrive as one string ('"$user", public'). */
function splitPathList(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items;
}

function formatSearchPath(entries: readonly string[]): string {
  return entries
    .flatMap((e) => splitPathList(e))
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => (e === '$user' ? '"$user"' : e))
    .join(', ');
}

function translationSession(index: CatalogIndex, session: CatalogSession): TranslationSession {
  const path = searchPathSchemas(session.searchPath, session.user);
  const effective = path.includes('pg_catalog') ? path : ['pg_catalog', ...path];
  const exists = (schema: string): boolean => index.namespaces.has(schema);
  const versionNumber = /^(\d+)(?:\.(\d+))?/.exec(session.serverVersion);
  const major = Number(versionNumber?.[1] ?? 15);
  const minor = Number(versionNumber?.[2] ?? 0);
  const derived: Record<string, string> = {
    server_version: session.serverVersion,
    server_version_num: String(major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100),
    search_path: session.setting('search_path') ?? formatSearchPath(session.searchPath),
    session_authorization: session.user,
    is_superuser: 'off',
    client_encoding: 'UTF8',
  };
  const setting = (name: string): string | undefined => {
    const lower = name.trim().toLowerCase();
    const known = SETTINGS.find((s) => s.name.toLowerCase() === lower);
    const canonical = known?.name ?? name.trim();
    return derived[canonical] ?? session.setting(canonical) ?? session.setting(lower) ?? known?.setting;
  };
  const pid = Number(session.setting('backend_pid'));
  return {
    user: session.user,
    database: session.database,
    serverVersion: session.serverVersion,
    backendPid: Number.isSafeInteger(pid) && pid > 0 ? pid : 1,
    currentSchemas: path.filter(exists),
    effectivePath: effective.filter((s) => exists(s) || s === 'pg_catalog'),
    setting,
    settings: SETTINGS.map((s) => ({ name: s.name, value: setting(s.name) ?? s.setting })),
  };
}

/**
 * SHOW name / SHOW ALL (DuckDB parses them as a SELECT over a SHOW reference): PostgreSQL's
 * setting values, under the setting's canonical name as PostgreSQL labels the column.
 */
function showTarget(node: AstNode): string | undefined {
  const from = node['from_table'];
  if (node['type'] !== 'SELECT_NODE' || !isNode(from) || from['type'] !== 'SHOW_REF') return undefined;
  const showType = text(from, 'show_type');
  if (showType === 'SHOW_UNQUALIFIED' && text(from, 'table_name') !== '') return text(from, 'table_name');
  const query = from['query'];
  const inner = isNode(query) ? query['from_table'] : undefined;
  if (showType === 'DESCRIBE' && isNode(inner) && inner['type'] === 'BASE_TABLE' && text(inner, 'schema_name') === '' && text(inner, 'catalog_name') === '') {
    return text(inner, 'table_name');
  }
  return undefined;
}

function showQuery(name: string, session: TranslationSession): string {
  if (name === '__show_tables_expanded' || name.toLowerCase() === 'all') {
    return 'SELECT name, setting, short_desc AS description FROM pg_catalog.pg_settings ORDER BY lower(name)';
  }
  const lower = name.toLowerCase();
  const known = SETTINGS.find((s) => s.name.toLowerCase() === lower);
  const value = session.setting(name);
  if (value === undefined) throw new QueryFailedError(`unrecognized configuration parameter "${name.slice(0, 100)}"`);
  return `SELECT ${sqlString(value)} AS ${sqlIdentifier(known?.name ?? lower)}`;
}
