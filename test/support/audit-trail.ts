import Database from 'better-sqlite3';
import path from 'node:path';
import type { AuditRecord } from './pg-wire.ts';
import type { SqlStore, SqlValue } from '../../src/store/index.ts';
import { VeilHome } from '../../src/home/index.ts';
import { openHomeStores } from './stores.ts';
import { rmSync } from 'node:fs';

/**
 * Reading a home's audit trail from a test, on this run's backend (audit.db, or the home's
 * PostgreSQL schema), through a connection of the test's own rather than the runtime's. Each
 * statement sees what is committed when it runs; `audit.snapshot` gives one consistent view.
 */
export async function readAuditStore<T>(home: string, read: (audit: SqlStore) => Promise<T>): Promise<T> {
  const store = await openHomeStores(home);
  try {
    return await read(store.audit);
  } finally {
    await store.close();
  }
}

/** Every column of the audit_log rows matching `where` (portable SQL, `?` placeholders), in order. */
export function auditLogRows(home: string, where: string, params: readonly SqlValue[] = []): Promise<Record<string, unknown>[]> {
  return readAuditStore(home, (audit) => audit.all<Record<string, unknown>>(`SELECT * FROM audit_log WHERE ${where} ORDER BY seq`, params));
}

/** The highest record number now (records after it belong to what a test does next). */
export async function auditMark(home: string): Promise<number> {
  const row = await readAuditStore(home, (audit) => audit.get<{ seq: number }>('SELECT coalesce(max(seq), 0) AS seq FROM audit_log'));
  return Number(row?.seq ?? 0);
}

const SINCE = 'SELECT seq, request_id, "user", door, statement, statement_type, decision, error_code, rows_returned, client_application FROM audit_log WHERE seq > ? ORDER BY seq';

export function auditSince(home: string, mark: number): Promise<AuditRecord[]> {
  return readAuditStore(home, (audit) => audit.all<AuditRecord>(SINCE, [mark]));
}

/**
 * Records after the mark that match, waiting (bounded) until at least one exists and none is still
 * in flight (a record is written 'allowed' with no row count when a result starts, and completed
 * when it ends). Returns what was found, possibly nothing.
 */
export function awaitAudit(home: string, mark: number, match: (r: AuditRecord) => boolean, attempts = 80): Promise<AuditRecord[]> {
  return readAuditStore(home, async (audit) => {
    for (let i = 0; ; i++) {
      const found = (await audit.all<AuditRecord>(SINCE, [mark])).filter(match);
      const inFlight = found.some((r) => r.decision === 'allowed' && r.rows_returned === null);
      if ((found.length > 0 && !inFlight) || i >= attempts) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });
}

const AUDIT_TABLES = ['audit_log', 'audit_chain', 'audit_anchor'] as const;

/**
 * Puts a consistent copy of the audit trail of home `source` in place of the trail of home
 * `target` (whose processes must be stopped), on this run's backend: a backup of source's audit.db
 * written as target's audit.db, or, on PostgreSQL, target's audit tables replaced by the rows of
 * source's schema, read in one statement (one snapshot) and with the sequences moved on past them,
 * as a copied audit.db carries its own.
 */
export async function copyAuditTrail(source: string, target: string): Promise<void> {
  const from = new VeilHome(source).loadSettings();
  if (from.controlStore !== 'postgres') {
    for (const file of ['audit.db', 'audit.db-wal', 'audit.db-shm']) rmSync(path.join(target, file), { force: true });
    const live = new Database(path.join(source, 'audit.db'), { readonly: true });
    try {
      await live.backup(path.join(target, 'audit.db'));
    } finally {
      live.close();
    }
    return;
  }
  const to = new VeilHome(target).loadSettings();
  const stores = await openHomeStores(target);
  try {
    await stores.audit.transaction(async (tx) => {
      for (const table of AUDIT_TABLES) await tx.run(`DELETE FROM ${to.postgresSchema}.${table}`);
      const [first, ...rest] = AUDIT_TABLES.map((table) => `INSERT INTO ${to.postgresSchema}.${table} SELECT * FROM ${from.postgresSchema}.${table}`);
      await tx.run(`WITH ${rest.map((insert, i) => `copied${i} AS (${insert} RETURNING 1)`).join(', ')} ${first}`);
      for (const table of ['audit_log', 'audit_chain']) {
        await tx.get(`SELECT setval(pg_get_serial_sequence('${to.postgresSchema}.${table}', 'seq'), (SELECT coalesce(max(seq), 0) + 1 FROM ${to.postgresSchema}.${table}), false)`);
      }
    });
  } finally {
    await stores.close();
  }
}
