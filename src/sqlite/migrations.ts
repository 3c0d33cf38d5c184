import Database from 'better-sqlite3';
import { AUDIT_COLUMNS } from '../audit/audit-types.ts';
import { SqliteStore } from './sqlite-store.ts';

/**
 * Migrations of the control database (catalog, identities, policies). Each entry runs once, in
 * order, inside a transaction; user_version records how far a home has come.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   INSERT INTO meta (key, value) VALUES ('generation', '0');
   CREATE TABLE datasets (
     full_name TEXT PRIMARY KEY,
     database_name TEXT NOT NULL,
     name TEXT NOT NULL,
     definition TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE users (
     name TEXT PRIMARY KEY,
     definition TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE policies (
     name TEXT PRIMARY KEY,
     definition TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
  // API tokens of service accounts: only a hash of the secret part is kept.
  `CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     user_name TEXT NOT NULL,
     label TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT,
     last_used_at TEXT,
     revoked_at TEXT
   );
   CREATE INDEX api_tokens_user ON api_tokens (user_name);`,
  // What each crawled dataset's files looked like at the last crawl (to report changes).
  `CREATE TABLE crawl_state (
     dataset TEXT PRIMARY KEY,
     files TEXT NOT NULL,
     crawled_at TEXT NOT NULL
   );`,
  // Stewards' decisions on classification proposals; a rejected proposal is not made again.
  `CREATE TABLE classification_decisions (
     dataset TEXT NOT NULL,
     column_name TEXT NOT NULL,
     tag TEXT NOT NULL,
     decision TEXT NOT NULL,
     decided_by TEXT NOT NULL,
     decided_at TEXT NOT NULL,
     PRIMARY KEY (dataset, column_name, tag)
   );`,
  // SCRAM-SHA-256 verifiers of API tokens, for PostgreSQL clients on plain connections (pgwire).
  `ALTER TABLE api_tokens ADD COLUMN scram_verifier TEXT;`,
  // Every change to a policy, with who made it and the definitions before and after (web UI history).
  `CREATE TABLE policy_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     policy TEXT NOT NULL,
     change TEXT NOT NULL,
     changed_by TEXT NOT NULL,
     changed_at TEXT NOT NULL,
     before_definition TEXT,
     after_definition TEXT
   );
   CREATE INDEX policy_history_policy ON policy_history (policy, id);`,
  // The columnar cache's manifest as it was kept until it moved to a file of its own
  // (src/sqlite/cache-manifest.ts copies these rows over once); no longer written.
  `CREATE TABLE columnar_cache (
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
   );`,
];

/** Opens (creating or upgrading) a home's control database, veil.db. */
export function openSqliteControlStore(file: string): SqliteStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < MIGRATIONS.length; version++) {
    const migration = MIGRATIONS[version];
    if (migration === undefined) break;
    db.transaction(() => {
      db.exec(migration);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return new SqliteStore(db);
}

/**
 * Opens (and creates or upgrades) a home's audit store, audit.db. Homes from before the chain get
 * the chain table and the record_hash column; their earlier records stay, reported by
 * verification as unchained.
 */
export function openSqliteAuditStore(file: string, options: { readonly?: boolean } = {}): SqliteStore {
  const db = new Database(file, options.readonly === true ? { readonly: true, fileMustExist: true } : {});
  db.pragma('busy_timeout = 5000');
  if (options.readonly === true) return new SqliteStore(db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ${AUDIT_COLUMNS.map((c) => `"${c.name}" ${sqliteType(c.type)}`).join(',\n    ')}
  )`);
  const present = new Set((db.prepare('PRAGMA table_info(audit_log)').all() as { name: string }[]).map((c) => c.name));
  if (!present.has('record_hash')) db.exec('ALTER TABLE audit_log ADD COLUMN record_hash TEXT');
  db.exec(`CREATE TABLE IF NOT EXISTS audit_chain (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    record_seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  )`);
  db.exec('CREATE TABLE IF NOT EXISTS audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), anchor TEXT NOT NULL)');
  return new SqliteStore(db);
}

function sqliteType(duckdbType: string): string {
  if (duckdbType.startsWith('VARCHAR') || duckdbType === 'TIMESTAMP') return 'TEXT';
  return duckdbType === 'DOUBLE' ? 'REAL' : 'INTEGER';
}
