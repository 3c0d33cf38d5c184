import { AUDIT_COLUMNS } from '../audit/audit-types.ts';
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

/**
 * Migrations of a PostgreSQL control store: catalog, identities, policies and the audit trail in
 * one schema, shared by every replica. Each runs once, in order, in a transaction holding the
 * writers' lock, so replicas starting together migrate once. The tables match the SQLite ones
 * (src/sqlite/migrations.ts) column for column: repositories write the same SQL to both.
 * Instants are ISO-8601 text on both backends, so the audit chain's payloads are byte-identical.
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
   );
   CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     user_name TEXT NOT NULL,
     label TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT,
     last_used_at TEXT,
     revoked_at TEXT,
     scram_verifier TEXT
   );
   CREATE INDEX api_tokens_user ON api_tokens (user_name);
   CREATE TABLE crawl_state (
     dataset TEXT PRIMARY KEY,
     files TEXT NOT NULL,
     crawled_at TEXT NOT NULL
   );
   CREATE TABLE classification_decisions (
     dataset TEXT NOT NULL,
     column_name TEXT NOT NULL,
     tag TEXT NOT NULL,
     decision TEXT NOT NULL,
     decided_by TEXT NOT NULL,
     decided_at TEXT NOT NULL,
     PRIMARY KEY (dataset, column_name, tag)
   );
   CREATE TABLE policy_history (
     id BIGSERIAL PRIMARY KEY,
     policy TEXT NOT NULL,
     change TEXT NOT NULL,
     changed_by TEXT NOT NULL,
     changed_at TEXT NOT NULL,
     before_definition TEXT,
     after_definition TEXT
   );
   CREATE INDEX policy_history_policy ON policy_history (policy, id);
   CREATE TABLE audit_log (
     seq BIGSERIAL PRIMARY KEY,
     ${AUDIT_COLUMNS.map((c) => `"${c.name}" ${postgresType(c.type)}`).join(',\n     ')},
     record_hash TEXT
   );
   CREATE INDEX audit_log_event_time ON audit_log (event_time);
   CREATE TABLE audit_chain (
     seq BIGSERIAL PRIMARY KEY,
     kind TEXT NOT NULL,
     record_seq BIGINT NOT NULL,
     payload TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX audit_chain_record ON audit_chain (record_seq, kind);
   CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), anchor TEXT NOT NULL);`,
];

/** Opens a PostgreSQL store, creating its schema and bringing its tables up to date. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [store.writerLockKey]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
        await client.query('CREATE TABLE IF NOT EXISTS veil_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
        const applied = (await client.query<{ version: number }>('SELECT coalesce(max(version), 0) AS version FROM veil_migrations')).rows[0]?.version ?? 0;
        for (let version = applied; version < MIGRATIONS.length; version++) {
          await client.query(MIGRATIONS[version]!);
          await client.query('INSERT INTO veil_migrations (version, applied_at) VALUES ($1, $2)', [version + 1, new Date().toISOString()]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function postgresType(duckdbType: string): string {
  if (duckdbType.startsWith('VARCHAR') || duckdbType === 'TIMESTAMP') return 'TEXT';
  return duckdbType === 'DOUBLE' ? 'DOUBLE PRECISION' : 'BIGINT';
}
