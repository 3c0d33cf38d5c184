import { createHash } from 'node:crypto';
import pg from 'pg';
import { InvalidRequestError } from '../errors/index.ts';
import type { SqlExecutor, SqlStore, SqlValue } from '../store/sql-store.ts';

/** Integers (count(*), BIGSERIAL keys) as numbers, as SQLite returns them; Veil's never exceed 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresStoreOptions {
  readonly url: string;
  /** Every table lives in this schema (created when missing); one database may hold several. */
  readonly schema: string;
  /** Connections this process keeps at most. */
  readonly maxConnections?: number;
}

export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * SqlStore over a pool of connections to one PostgreSQL schema. Writers take one after another, as
 * with SQLite: every transaction first takes a transaction-scoped advisory lock named after the
 * schema, so read-modify-write repositories (policies applied from a file, the audit hash chain)
 * never interleave across replicas, and the lock is released by COMMIT or ROLLBACK, or by the
 * server when a replica dies mid-transaction.
 */
export class PostgresStore implements SqlStore {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly lockKey: string;
  private readonly direct: SqlExecutor;

  constructor(readonly options: PostgresStoreOptions) {
    if (!SCHEMA_PATTERN.test(options.schema)) throw new Error(`PostgreSQL schema "${options.schema}" must match ${SCHEMA_PATTERN}`);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(1, options.maxConnections ?? 10),
      // Bounded waits, so that a hung replica or a lost network cannot stall every writer:
      // a transaction left idle (its process stopped, not dead) ends after a minute and releases
      // the writers' lock; waiting for that lock, or for a connection, gives up after 30 s.
      options: `-c search_path=${options.schema} -c lock_timeout=30000 -c statement_timeout=120000 -c idle_in_transaction_session_timeout=60000`,
      connectionTimeoutMillis: 30_000,
      keepAlive: true,
      types: TYPES,
      // A connection the server dropped (restart, failover) is replaced on the next use.
      idleTimeoutMillis: 30_000,
    });
    // Errors of idle connections (the server restarted) must not crash the process: the pool
    // discards the connection and the next query opens a new one.
    this.pool.on('error', () => undefined);
    this.lockKey = createHash('sha256').update(`veil-writer:${options.schema}`).digest().readBigInt64BE(0).toString();
    this.direct = executorOf((text, values) => this.pool.query(text, values));
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // READ COMMITTED whatever the database's default: each statement after the lock sees what the
    // previous writer committed (under REPEATABLE READ the chain head read after waiting for the
    // lock would be the one from before, and two writers would fork the chain). Commits are
    // durable whatever synchronous_commit says elsewhere: an audit record must be on disk before a
    // result leaves. One round trip; the key is Veil's own 64-bit integer, never input.
    return this.onConnection(`BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = on; SELECT pg_advisory_xact_lock(${this.lockKey})`, work);
  }

  snapshot<T>(work: (view: SqlExecutor) => Promise<T>): Promise<T> {
    return this.onConnection('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', work);
  }

  /** Runs `work` on one connection with no transaction (migrations, which manage their own). */
  async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const broken = watch(client);
    try {
      return await work(client);
    } finally {
      release(client, broken);
    }
  }

  private async onConnection<T>(begin: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const broken = watch(client);
    try {
      await client.query(begin);
      const value = await work(executorOf((text, values) => client.query(text, values)));
      await client.query('COMMIT');
      return value;
    } catch (error) {
      if (!broken.value) {
        await client.query('ROLLBACK').catch(() => {
          broken.value = true;
        });
      }
      throw error;
    } finally {
      release(client, broken);
    }
  }

  get writerLockKey(): string {
    return this.lockKey;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

type Query = (text: string, values: SqlValue[]) => Promise<pg.QueryResult>;

/**
 * A checked-out connection that breaks (the server restarted, failed over, or the network went)
 * emits 'error', and pg-pool listens only on idle ones: without a listener of its own the error
 * would end the process. The query in flight fails with it; the connection is then discarded.
 */
function watch(client: pg.PoolClient): { value: boolean; readonly listener: (error: Error) => void } {
  const state = {
    value: false,
    listener: (): void => {
      state.value = true;
    },
  };
  client.on('error', state.listener);
  return state;
}

function release(client: pg.PoolClient, broken: { value: boolean; readonly listener: (error: Error) => void }): void {
  client.off('error', broken.listener);
  client.release(broken.value);
}

function executorOf(query: Query): SqlExecutor {
  const checked = (params: readonly SqlValue[]): SqlValue[] => {
    // PostgreSQL's text cannot hold U+0000; SQLite can. A clear refusal, the same on both
    // backends' callers, rather than the server's encoding error.
    if (params.some((p) => typeof p === 'string' && p.includes('\u0000'))) throw new InvalidRequestError('text values cannot contain a NUL character');
    return [...params];
  };
  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(numbered(sql), checked(params))).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(numbered(sql), checked(params))).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => (await query(numbered(sql), checked(params))).rowCount ?? 0,
  };
}

const numberedCache = new Map<string, string>();

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`. Repositories' SQL is Veil's own text, never
 * user input; question marks inside quoted literals or identifiers are left alone all the same.
 */
export function numbered(sql: string): string {
  const cached = numberedCache.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  if (numberedCache.size < 10_000) numberedCache.set(sql, out);
  return out;
}
