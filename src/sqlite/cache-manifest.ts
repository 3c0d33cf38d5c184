import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { stampJson, type CacheManifest, type EntryState, type ManifestEntry, type SourceStamp } from '../cache/index.ts';

const MANIFEST_TABLE = `CREATE TABLE IF NOT EXISTS columnar_cache (
  dataset TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  definition TEXT NOT NULL,
  stamp_digest TEXT NOT NULL,
  source_stamp TEXT NOT NULL,
  source_bytes INTEGER NOT NULL,
  file TEXT,
  file_bytes INTEGER,
  file_sha256 TEXT,
  row_count INTEGER,
  built_at TEXT,
  build_ms INTEGER,
  last_used_at TEXT,
  detail TEXT,
  build_progress REAL,
  build_progress_at TEXT
)`;

/**
 * Opens the manifest in a file of its own under the home's cache directory. Its own file, not
 * veil.db: the control store's transactions there span awaits, and a manifest write on the same
 * connection would join one (and roll back with it), while one on another connection would
 * busy-wait for its lock and block the event loop that transaction needs to finish. A home whose
 * manifest was in veil.db (before it moved) brings its rows along once, so its copies stay valid.
 */
export function openSqliteCacheManifest(file: string, legacyFile?: string): SqliteCacheManifest {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(MANIFEST_TABLE);
  const empty = (db.prepare('SELECT count(*) AS n FROM columnar_cache').get() as { n: number }).n === 0;
  if (empty && legacyFile !== undefined && existsSync(legacyFile)) {
    // ATTACH is refused inside a transaction: attached first, copied in one, detached after.
    db.prepare('ATTACH DATABASE ? AS legacy').run(legacyFile);
    try {
      const hasTable = db.prepare(`SELECT 1 FROM legacy.sqlite_master WHERE type = 'table' AND name = 'columnar_cache'`).get() !== undefined;
      if (hasTable) db.transaction(() => db.exec('INSERT OR IGNORE INTO main.columnar_cache SELECT * FROM legacy.columnar_cache')).immediate();
    } finally {
      db.exec('DETACH DATABASE legacy');
    }
  }
  return new SqliteCacheManifest(db);
}

interface Row {
  dataset: string;
  state: string;
  definition: string;
  stamp_digest: string;
  source_stamp: string;
  source_bytes: number;
  file: string | null;
  file_bytes: number | null;
  file_sha256: string | null;
  row_count: number | null;
  built_at: string | null;
  build_ms: number | null;
  last_used_at: string | null;
  detail: string | null;
  build_progress: number | null;
  build_progress_at: string | null;
}

/**
 * The columnar cache's manifest (CacheManifest) in the home's own SQLite database, on every
 * backend (copies are per machine): the truth about every dataset's Parquet
 * copy for every process on the home (the CLI and a server). A copy is published by one transaction
 * after its file was renamed into place; a file no row names is not a copy. SQLite rather than a JSON
 * file beside each copy: compare-and-set publication between processes, eviction across all datasets
 * in one query, and the home's one durable store. Every query reads its datasets' rows (a prepared
 * point lookup); writes are rare (builds, usage at most every USAGE_FLUSH_MS).
 */
export class SqliteCacheManifest implements CacheManifest {
  private readonly getStatement;
  private readonly allStatement;

  constructor(private readonly db: Database.Database) {
    this.getStatement = db.prepare('SELECT * FROM columnar_cache WHERE dataset = ?');
    this.allStatement = db.prepare('SELECT * FROM columnar_cache ORDER BY dataset');
  }

  get(dataset: string): ManifestEntry | undefined {
    const row = this.getStatement.get(dataset) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(): ManifestEntry[] {
    return (this.allStatement.all() as Row[]).map(fromRow);
  }

  /**
   * Makes `entry` the dataset's copy, in one immediate transaction, unless `keep` (given the row as
   * it is now) says the current row must stay: then nothing changes. Returns the row it replaced.
   */
  publish(entry: Omit<ManifestEntry, 'lastUsedAt' | 'buildProgress' | 'buildProgressAt'>, keep: (current: ManifestEntry | undefined) => boolean): { published: boolean; previous: ManifestEntry | undefined } {
    return this.db.transaction(() => {
      const previous = this.get(entry.dataset);
      if (keep(previous)) return { published: false, previous };
      this.db
        .prepare(
          `INSERT INTO columnar_cache (dataset, state, definition, stamp_digest, source_stamp, source_bytes, file, file_bytes, file_sha256, row_count, built_at, build_ms, last_used_at, detail, build_progress, build_progress_at)
           VALUES (@dataset, @state, @definition, @stampDigest, @sourceStamp, @sourceBytes, @file, @fileBytes, @fileSha256, @rowCount, @builtAt, @buildMs, @lastUsedAt, @detail, NULL, NULL)
           ON CONFLICT(dataset) DO UPDATE SET state = excluded.state, definition = excluded.definition, stamp_digest = excluded.stamp_digest,
             source_stamp = excluded.source_stamp, source_bytes = excluded.source_bytes, file = excluded.file, file_bytes = excluded.file_bytes,
             file_sha256 = excluded.file_sha256, row_count = excluded.row_count, built_at = excluded.built_at, build_ms = excluded.build_ms,
             last_used_at = COALESCE(excluded.last_used_at, columnar_cache.last_used_at), detail = excluded.detail, build_progress = NULL, build_progress_at = NULL`,
        )
        .run({ ...entry, lastUsedAt: previous?.lastUsedAt ?? null });
      return { published: true, previous };
    }).immediate();
  }

  /**
   * Marks a dataset's copy as no longer usable (evicted, dropped, corrupt, …) if the row still names
   * `file` (or any file when `file` is undefined). Returns whether it changed the row.
   */
  retire(dataset: string, state: EntryState, detail: string | null, file?: string | null): boolean {
    const result = this.db
      .prepare(`UPDATE columnar_cache SET state = ?, detail = ?, file = NULL, file_bytes = NULL, file_sha256 = NULL, build_progress = NULL, build_progress_at = NULL WHERE dataset = ? AND (? IS NULL OR file = ?)`)
      .run(state, detail, dataset, file ?? null, file ?? null);
    return result.changes > 0;
  }

  /** Records why no copy exists for this source (unsupported, failed, over budget), keeping usage. */
  refuse(dataset: string, state: EntryState, detail: string, definition: string, stamp: SourceStamp): void {
    this.publish(
      { dataset, state, definition, stampDigest: stamp.digest, sourceStamp: stampJson(stamp), sourceBytes: stamp.bytes, file: null, fileBytes: null, fileSha256: null, rowCount: null, builtAt: null, buildMs: null, detail },
      // a usable copy another process published meanwhile stays
      (current) => current?.state === 'ready' && current.stampDigest === stamp.digest && current.definition === definition,
    );
  }

  progress(dataset: string, percent: number | null): void {
    this.db.prepare('UPDATE columnar_cache SET build_progress = ?, build_progress_at = ? WHERE dataset = ?').run(percent, percent === null ? null : new Date().toISOString(), dataset);
  }

  /** A row for a dataset that has none yet, so that progress can be recorded on it. */
  ensure(dataset: string, definition: string, stamp: SourceStamp): void {
    this.db
      .prepare(`INSERT INTO columnar_cache (dataset, state, definition, stamp_digest, source_stamp, source_bytes) VALUES (?, 'absent', ?, ?, ?, ?) ON CONFLICT(dataset) DO NOTHING`)
      .run(dataset, definition, stamp.digest, stampJson(stamp), stamp.bytes);
  }

  touch(uses: ReadonlyMap<string, string>): void {
    const statement = this.db.prepare('UPDATE columnar_cache SET last_used_at = ? WHERE dataset = ? AND (last_used_at IS NULL OR last_used_at < ?)');
    this.db.transaction(() => {
      for (const [dataset, at] of uses) statement.run(at, dataset, at);
    })();
  }

  close(): void {
    this.db.close();
  }

  delete(dataset: string): ManifestEntry | undefined {
    const previous = this.get(dataset);
    this.db.prepare('DELETE FROM columnar_cache WHERE dataset = ?').run(dataset);
    return previous;
  }
}


function fromRow(row: Row): ManifestEntry {
  return {
    dataset: row.dataset,
    state: row.state as EntryState,
    definition: row.definition,
    stampDigest: row.stamp_digest,
    sourceStamp: row.source_stamp,
    sourceBytes: row.source_bytes,
    file: row.file,
    fileBytes: row.file_bytes,
    fileSha256: row.file_sha256,
    rowCount: row.row_count,
    builtAt: row.built_at,
    buildMs: row.build_ms,
    lastUsedAt: row.last_used_at,
    detail: row.detail,
    buildProgress: row.build_progress,
    buildProgressAt: row.build_progress_at,
  };
}
