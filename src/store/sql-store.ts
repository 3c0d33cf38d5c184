/**
 * The one seam between Veil's repositories and a database (docs/scale-out.md, "Control store").
 * Repositories write portable SQL once against this interface: `?` placeholders, `ON CONFLICT …
 * DO UPDATE`, `RETURNING`, and no engine-specific functions. Each backend (src/sqlite/,
 * src/postgres/) supplies the connection, the placeholder form and its own migrations.
 */
export type SqlValue = string | number | null;

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Every row; integers come back as numbers on every backend. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlStore extends SqlExecutor {
  /**
   * Runs `work` in one transaction that writers take one after another (SQLite: BEGIN IMMEDIATE;
   * PostgreSQL: each writer locks what it changes). A thrown error rolls everything back. Work
   * awaits only statements on `tx`: a transaction holds its connection until it ends.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `work` over one consistent, read-only view of the store that does not hold up writers
   * (audit verification reads the whole trail while requests keep recording).
   */
  snapshot<T>(work: (view: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * The generation: a counter bumped by every change to datasets, users or policies, by any process
 * or replica on the same store. Access snapshots are re-read only when it moved.
 */
export async function readGeneration(db: SqlExecutor): Promise<number> {
  const row = await db.get<{ value: string }>(`SELECT value FROM meta WHERE key = 'generation'`);
  return Number(row?.value ?? 0);
}

export async function bumpGeneration(db: SqlExecutor): Promise<void> {
  await db.run(`UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'`);
}

export async function readMeta(db: SqlExecutor, key: string): Promise<string | undefined> {
  return (await db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value;
}

export async function writeMeta(db: SqlExecutor, key: string, value: string): Promise<void> {
  await db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
}
