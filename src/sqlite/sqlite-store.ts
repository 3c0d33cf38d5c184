import Database from 'better-sqlite3';
import type { SqlExecutor, SqlStore, SqlValue } from '../store/sql-store.ts';

/**
 * Writers of one database file in this process. A transaction holds SQLite's write lock across
 * awaits; another connection of the same process asking for the lock meanwhile would busy-wait
 * synchronously, blocking the very event loop the holder needs to finish. So every connection to a
 * file in this process queues here first; other processes wait on the lock itself (busy_timeout).
 */
interface FileWriters {
  queue: Promise<void>;
  open: number;
}

const writersByFile = new Map<string, FileWriters>();

function writersOf(db: Database.Database): FileWriters {
  if (db.memory) return { queue: Promise.resolve(), open: 0 };
  let writers = writersByFile.get(db.name);
  if (writers === undefined) {
    writers = { queue: Promise.resolve(), open: 0 };
    writersByFile.set(db.name, writers);
  }
  return writers;
}

/**
 * SqlStore over one better-sqlite3 connection. Statements run synchronously underneath; the
 * promises only make the interface the same as PostgreSQL's. A transaction is BEGIN IMMEDIATE, so
 * processes sharing the file (a server and the CLI) write one after another; within this process,
 * transactions on the file queue, and a plain statement issued while one is open waits for it to
 * end instead of joining it (or waiting on its lock).
 */
export class SqliteStore implements SqlStore {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writers: FileWriters;
  private readonly direct: SqlExecutor;

  constructor(readonly db: Database.Database) {
    this.writers = writersOf(db);
    const statement = (sql: string): Database.Statement => {
      let prepared = this.statements.get(sql);
      if (prepared === undefined) {
        prepared = db.prepare(sql);
        this.statements.set(sql, prepared);
      }
      return prepared;
    };
    this.direct = {
      dialect: 'sqlite',
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => statement(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => statement(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => statement(sql).run(...params).changes,
    };
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    await this.outsideTransactions();
    return this.direct.all<T>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    await this.outsideTransactions();
    return this.direct.get<T>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    await this.outsideTransactions();
    return this.direct.run(sql, params);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const writers = this.writers;
    writers.open++;
    const result = writers.queue.then(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const value = await work(this.direct);
        this.db.exec('COMMIT');
        return value;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    writers.queue = settled.finally(() => {
      writers.open--;
    });
    return result;
  }

  async snapshot<T>(work: (view: SqlExecutor) => Promise<T>): Promise<T> {
    // Its own connection: in WAL mode a reader's transaction sees one state of the file while
    // this connection (and other processes) go on writing.
    const reader = new SqliteStore(new Database(this.db.name, { readonly: true, fileMustExist: true }));
    try {
      reader.db.pragma('busy_timeout = 5000');
      reader.db.exec('BEGIN');
      return await work(reader.direct);
    } finally {
      if (reader.db.inTransaction) reader.db.exec('COMMIT');
      await reader.close();
    }
  }

  async close(): Promise<void> {
    await this.writers.queue;
    this.statements.clear();
    this.db.close();
  }

  private async outsideTransactions(): Promise<void> {
    while (this.writers.open > 0) await this.writers.queue;
  }
}
