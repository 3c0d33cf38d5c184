import {
  DuckDBInstance,
  DuckDBArrayType,
  DuckDBListType,
  DuckDBTypeId,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  VARCHAR,
} from '@duckdb/node-api';
import { columnTypeOf, prepareSingle, streamStatement } from './duckdb-engine.ts';
import { freshConnections } from './streaming-connections.ts';
import { InvalidSqlError, QueryFailedError, VeilError } from '../errors/index.ts';
import type { ExecuteOptions, ResultColumn, ResultStream } from './duckdb-engine.ts';
import { engineErrorToVeilError } from './engine-error-classifier.ts';

export interface CatalogSandboxEngineOptions {
  /** DuckDB memory_limit; catalog queries over a few thousand rows need little. */
  readonly memoryLimit?: string;
}

/** A value bound to a $n parameter, as the door decodes it. */
export type SandboxParameter = null | boolean | number | bigint | string | Uint8Array;

/** The type DuckDB inferred for a parameter (an unknown one is ANY/INVALID). */
export interface SandboxParameterType {
  readonly typeId: DuckDBTypeId;
  readonly elementTypeId?: DuckDBTypeId;
}

export interface SandboxStatementShape {
  readonly columns: ResultColumn[];
  /** Indexed by parameter position ($1 first). */
  readonly parameters: SandboxParameterType[];
}

/** What setup code may do before the instance is locked. Trusted SQL only (never caller text). */
export interface SandboxLoader {
  run(sql: string): Promise<void>;
  /** Column names and types of a relation, bound but not run. */
  describe(sql: string): Promise<ResultColumn[]>;
  /** Appends rows through DuckDB's appender; values are cast to the column types by DuckDB. */
  append(table: { readonly catalog: string; readonly schema: string; readonly name: string }, rows: readonly (readonly AppendValue[])[]): Promise<void>;
}

export type AppendValue = string | number | boolean | null;

/**
 * A small, data-less DuckDB instance that answers catalog queries (the PostgreSQL door's
 * pg_catalog emulation). It holds only empty tables and catalog rows built from what one caller
 * may see, never touches the data engine, and is hardened like it: external access is disabled
 * and the configuration locked before any caller SQL runs, one thread, a small memory limit.
 *
 * Statement handling (one statement per call, timeouts by interrupt, error classification) follows
 * DuckDbEngine in duckdb-engine.ts, whose helpers are private there.
 */
export class CatalogSandboxEngine {
  private closed = false;

  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(setup: (loader: SandboxLoader) => Promise<void>, options: CatalogSandboxEngineOptions = {}): Promise<CatalogSandboxEngine> {
    return (await CatalogSandboxEngine.prepare(async () => {}, options)).finish(setup);
  }

  /**
   * The first half of open(): an instance with setup that does not depend on the caller already
   * run, still unlocked. No caller SQL can reach it until finish() has locked it, so a door may
   * keep one ready to make open() cheaper.
   */
  static async prepare(setup: (loader: SandboxLoader) => Promise<void>, options: CatalogSandboxEngineOptions = {}): Promise<PreparedCatalogSandbox> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: options.memoryLimit ?? '128MB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    });
    try {
      await withSetupConnection(instance, setup);
    } catch (error) {
      instance.closeSync();
      throw error;
    }
    let used = false;
    const take = (): DuckDBInstance => {
      if (used) throw new Error('a prepared catalog sandbox is finished or discarded once');
      used = true;
      return instance;
    };
    return {
      finish: async (finishSetup) => {
        const own = take();
        try {
          await withSetupConnection(own, async (loader) => {
            await finishSetup(loader);
            // Last: from here on nothing can read or write a file, attach a database or change a setting.
            await loader.run('SET enable_external_access = false');
            await loader.run('SET lock_configuration = true');
          });
        } catch (error) {
          own.closeSync();
          throw error;
        }
        return new CatalogSandboxEngine(own);
      },
      discard: () => take().closeSync(),
    };
  }

  /** DuckDB's parser: json_serialize_sql's JSON text (which may carry {"error":true}). */
  async serializeSql(sql: string): Promise<string> {
    return this.scalarText('SELECT json_serialize_sql($1::VARCHAR)', sql, 'parser returned no result');
  }

  /** DuckDB's printer: SQL text from a json_serialize_sql document. */
  async deserializeSql(json: string): Promise<string> {
    try {
      return await this.scalarText('SELECT json_deserialize_sql($1::JSON)', json, 'SQL printer returned no result');
    } catch (error) {
      if (error instanceof VeilError) throw error;
      throw new InvalidSqlError('the query could not be rebuilt from its syntax tree');
    }
  }

  /** Result columns and parameter types of one statement: prepared, never run. */
  async describe(sql: string): Promise<SandboxStatementShape> {
    const connection = await this.connect();
    try {
      const prepared = await prepareSingle(connection, sql);
      return { columns: preparedColumns(prepared), parameters: parameterTypes(prepared) };
    } catch (error) {
      throw engineErrorToVeilError(error, false, 0);
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Prepares one statement, binds its parameters (converted to the types DuckDB inferred for
   * them) and streams its result. A statement timeout or an abort interrupts the connection.
   */
  async stream(sql: string, parameters: readonly SandboxParameter[], options: ExecuteOptions): Promise<ResultStream> {
    return streamStatement(freshConnections(() => this.connect()), sql, options, (prepared) => bindParameters(prepared, parameters));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.instance.closeSync();
  }

  private async connect(): Promise<DuckDBConnection> {
    if (this.closed) throw new QueryFailedError('the catalog sandbox is closed');
    return this.instance.connect();
  }

  private async scalarText(sql: string, argument: string, missing: string): Promise<string> {
    const connection = await this.connect();
    try {
      const reader = await connection.runAndReadAll(sql, [argument]);
      const value = reader.getRows()[0]?.[0];
      if (typeof value !== 'string') throw new QueryFailedError(missing);
      return value;
    } finally {
      connection.closeSync();
    }
  }
}

/** A sandbox whose caller-independent setup has run; finish() completes and locks it. */
export interface PreparedCatalogSandbox {
  finish(setup: (loader: SandboxLoader) => Promise<void>): Promise<CatalogSandboxEngine>;
  discard(): void;
}

async function withSetupConnection(instance: DuckDBInstance, setup: (loader: SandboxLoader) => Promise<void>): Promise<void> {
  const connection = await instance.connect();
  try {
    await setup(loaderFor(connection));
  } finally {
    connection.closeSync();
  }
}

function loaderFor(connection: DuckDBConnection): SandboxLoader {
  return {
    run: async (sql) => {
      await connection.run(sql);
    },
    describe: async (sql) => preparedColumns(await prepareSingle(connection, sql)),
    append: async (table, rows) => {
      const appender = await connection.createAppender(table.name, table.schema, table.catalog);
      try {
        for (const row of rows) {
          for (const value of row) {
            if (value === null) appender.appendNull();
            else if (typeof value === 'string') appender.appendVarchar(value);
            else if (typeof value === 'boolean') appender.appendBoolean(value);
            else if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) appender.appendInteger(value);
            else if (Number.isSafeInteger(value)) appender.appendBigInt(BigInt(value));
            else appender.appendDouble(value);
          }
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    },
  };
}

/** Exactly one statement per call, as in the main engine (docs/security.md invariant 1). */
/**
 * Result columns of a prepared statement. A column whose type depends on an unbound parameter
 * (SELECT $1) has none yet; it is described as VARCHAR, the type a text parameter gives it.
 */
function preparedColumns(prepared: DuckDBPreparedStatement): ResultColumn[] {
  const columns: ResultColumn[] = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    let type: Omit<ResultColumn, 'name'>;
    try {
      type = columnTypeOf(prepared.columnType(i));
    } catch {
      type = { type: 'VARCHAR', typeId: DuckDBTypeId.VARCHAR };
    }
    columns.push({ name: prepared.columnName(i), ...type });
  }
  return columns;
}

function parameterTypes(prepared: DuckDBPreparedStatement): SandboxParameterType[] {
  const types: SandboxParameterType[] = [];
  for (let i = 1; i <= prepared.parameterCount; i++) {
    const type = safeParameterType(prepared, i);
    if (type === undefined) types.push({ typeId: DuckDBTypeId.ANY });
    else if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) types.push({ typeId: type.typeId, elementTypeId: type.valueType.typeId });
    else types.push({ typeId: type.typeId });
  }
  return types;
}

/** DuckDB answers INVALID/ANY (or throws, for some builds) for a parameter whose type it could not infer. */
function safeParameterType(prepared: DuckDBPreparedStatement, index: number): DuckDBType | undefined {
  try {
    const type = prepared.parameterType(index);
    const id = type.typeId as number;
    return id === DuckDBTypeId.INVALID || id === DuckDBTypeId.ANY ? undefined : type;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL clients send parameters as text (or typed JS values decoded by the door); DuckDB's
 * binder wants values of the parameter's inferred type, and re-binding with VARCHAR would make
 * `int_column = $1` fail. So text is converted here, with PostgreSQL's error for bad input.
 */
function bindParameters(prepared: DuckDBPreparedStatement, values: readonly SandboxParameter[]): void {
  const count = prepared.parameterCount;
  if (values.length < count) throw new QueryFailedError(`bind message supplies ${values.length} parameters, but prepared statement requires ${count}`);
  for (let i = 1; i <= count; i++) {
    const value = values[i - 1] ?? null;
    const type = safeParameterType(prepared, i);
    if (value === null) prepared.bindNull(i);
    else if (value instanceof Uint8Array) prepared.bindBlob(i, value);
    else if (type === undefined) bindUntyped(prepared, i, value);
    else if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) {
      const items = typeof value === 'string' ? parsePgArrayLiteral(value) : [String(value)];
      const element = type.valueType;
      const converted = items.map((item) => (item === null ? null : scalarValue(item, element.typeId)));
      // Elements DuckDB cannot take from JS values of their own type are bound as text and cast by DuckDB.
      const typed = converted.every((v) => v === null || typeof v !== 'string') || element.typeId === DuckDBTypeId.VARCHAR;
      prepared.bindList(i, converted, new DuckDBListType(typed ? element : VARCHAR));
    } else {
      const converted = scalarValue(typeof value === 'string' ? value : String(value), type.typeId);
      if (typeof converted === 'string') prepared.bindVarchar(i, converted);
      else prepared.bindValue(i, converted, type);
    }
  }
}

function bindUntyped(prepared: DuckDBPreparedStatement, index: number, value: boolean | number | bigint | string): void {
  if (typeof value === 'boolean') prepared.bindBoolean(index, value);
  else if (typeof value === 'bigint') prepared.bindBigInt(index, value);
  else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
    else prepared.bindDouble(index, value);
  } else prepared.bindVarchar(index, value);
}

/** Integer types whose DuckDB values are JS numbers (the wider ones take bigint). */
const SMALL_INTEGER_TYPES = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER]);
const BIG_INTEGER_TYPES = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT]);

/**
 * Text to the JS value DuckDB binds for a type, with PostgreSQL's message for bad input; types not
 * listed stay text (bound as VARCHAR, which DuckDB casts to the parameter's type).
 */
function scalarValue(text: string, typeId: DuckDBTypeId): boolean | bigint | number | string {
  const t = text.trim();
  if (typeId === DuckDBTypeId.BOOLEAN) {
    const lower = t.toLowerCase();
    if (['t', 'true', 'y', 'yes', 'on', '1'].includes(lower)) return true;
    if (['f', 'false', 'n', 'no', 'off', '0'].includes(lower)) return false;
    throw new QueryFailedError(`invalid input syntax for type boolean: "${text.slice(0, 100)}"`);
  }
  if (SMALL_INTEGER_TYPES.has(typeId) || BIG_INTEGER_TYPES.has(typeId)) {
    if (!/^[+-]?\d+$/.test(t)) throw new QueryFailedError(`invalid input syntax for type integer: "${text.slice(0, 100)}"`);
    const big = BigInt(t);
    if (BIG_INTEGER_TYPES.has(typeId)) return big;
    if (big > 4294967295n || big < -2147483648n) throw new QueryFailedError(`value "${t.slice(0, 100)}" is out of range for type integer`);
    return Number(big);
  }
  if (typeId === DuckDBTypeId.FLOAT || typeId === DuckDBTypeId.DOUBLE) {
    const n = Number(t);
    if (t === '' || Number.isNaN(n)) throw new QueryFailedError(`invalid input syntax for type double precision: "${text.slice(0, 100)}"`);
    return n;
  }
  return text;
}

/**
 * A PostgreSQL array literal ('{a,"b c",NULL}') as its elements; one level only, which is what
 * catalog queries bind (name and oid lists).
 * @see https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */
export function parsePgArrayLiteral(text: string): (string | null)[] {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new QueryFailedError(`malformed array literal: "${text.slice(0, 100)}"`);
  const body = t.slice(1, -1);
  const items: (string | null)[] = [];
  if (body.trim() === '') return items;
  let i = 0;
  while (i <= body.length) {
    while (body[i] === ' ') i++;
    if (body[i] === '"') {
      let value = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        value += body[i] ?? '';
        i++;
      }
      i++;
      items.push(value);
    } else {
      let end = body.indexOf(',', i);
      if (end === -1) end = body.length;
      const raw = body.slice(i, end).trim();
      items.push(raw.toUpperCase() === 'NULL' ? null : raw);
      i = end;
    }
    while (body[i] === ' ') i++;
    if (i >= body.length) break;
    if (body[i] !== ',') throw new QueryFailedError(`malformed array literal: "${text.slice(0, 100)}"`);
    i++;
  }
  return items;
}

