import path from 'node:path';
import Database from 'better-sqlite3';
import { VeilHome } from '../../src/home/index.ts';
import { openPostgresStore } from '../../src/postgres/migrations.ts';
import { openControlStore, type ControlStore } from '../../src/runtime/control-store.ts';
import { SqliteStore } from '../../src/sqlite/sqlite-store.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { PostgresStore } from '../../src/postgres/postgres-store.ts';

/**
 * The stores of a home, whichever backend this test run uses (SQLite files, or the PostgreSQL
 * schema the environment names: scripts/run-tests.mjs runs the suite on both). Close it after use.
 */
export function openHomeStores(home: string): Promise<ControlStore> {
  const veilHome = new VeilHome(home);
  return openControlStore(veilHome, veilHome.loadSettings());
}

/** Which backend this run's homes use. */
export function testBackend(): 'sqlite' | 'postgres' {
  return process.env['VEIL_CONTROL_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
}

let copies = 0;

/**
 * A consistent copy of a home's audit trail to tamper with, on the same backend: a backup of
 * audit.db, or a new PostgreSQL schema holding a copy of the audit tables.
 */
export async function copyOfAuditStore(home: string, scratch: string): Promise<SqlStore> {
  const settings = new VeilHome(home).loadSettings();
  copies++;
  if (settings.controlStore === 'postgres') {
    const schema = `${settings.postgresSchema}_copy${copies}_${process.pid}`.slice(0, 63);
    const copy = await openPostgresStore({ url: settings.postgresUrl, schema });
    // One statement, so one snapshot: records and chain events of the same moment (a record's
    // outcome may be written while the copy is made).
    const live = settings.postgresSchema;
    await copy.run(
      `WITH c0 AS (INSERT INTO ${schema}.audit_chain SELECT * FROM ${live}.audit_chain RETURNING 1),
            c1 AS (INSERT INTO ${schema}.audit_anchor SELECT * FROM ${live}.audit_anchor RETURNING 1)
       INSERT INTO ${schema}.audit_log SELECT * FROM ${live}.audit_log`,
    );
    return copy;
  }
  const file = path.join(scratch, `audit-copy-${copies}.db`);
  const live = new Database(path.join(home, 'audit.db'), { readonly: true });
  try {
    await live.backup(file);
  } finally {
    live.close();
  }
  return new SqliteStore(new Database(file));
}

/**
 * Whether the PostgreSQL schema of a home exists (a home on the postgres control store keeps its
 * tables there). Only asks: unlike opening the home's store, it creates nothing.
 */
export async function postgresSchemaOfHomeExists(home: string): Promise<boolean> {
  const settings = new VeilHome(home).loadSettings();
  if (settings.controlStore !== 'postgres') throw new Error(`${home} does not use the postgres control store`);
  const store = new PostgresStore({ url: settings.postgresUrl, schema: settings.postgresSchema });
  try {
    return (await store.get<{ n: number }>('SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [settings.postgresSchema]))?.n === 1;
  } finally {
    await store.close();
  }
}
