import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InvalidRequestError } from '../errors/index.ts';
import type { ClassificationDecisions, CrawlState, DatasetRepository } from '../catalog/index.ts';
import type { VeilHome, VeilSettings } from '../home/index.ts';
import { ApiTokenStore, type UserRepository } from '../identity/index.ts';
import type { PolicyRepository } from '../policy/index.ts';
import { openPostgresStore } from '../postgres/migrations.ts';
import { PostgresStore } from '../postgres/postgres-store.ts';
import { openSqliteAuditStore, openSqliteControlStore } from '../sqlite/migrations.ts';
import type { SqliteStore } from '../sqlite/sqlite-store.ts';
import { SqlApiTokenRepository } from '../store/api-token-repository.ts';
import { SqlClassificationDecisions } from '../store/classification-decisions.ts';
import { SqlCrawlState } from '../store/crawl-state-repository.ts';
import { SqlDatasetRepository } from '../store/dataset-repository.ts';
import { SqlPolicyRepository } from '../store/policy-repository.ts';
import { readMeta, writeMeta, type SqlStore } from '../store/index.ts';
import { SqlUserRepository } from '../store/user-repository.ts';

/**
 * The stores of one deployment (docs/scale-out.md, "Control store"): catalog, identities, policies
 * and the audit trail in SQLite files of the home, or in one PostgreSQL schema shared by replicas.
 * What stays per machine either way is `local`, the home's veil.db, which records the store the
 * home uses.
 */
export interface ControlStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Catalog, identities and policies. */
  readonly control: SqlStore;
  /** The audit trail and its hash chain (the same store as `control` on PostgreSQL). */
  readonly audit: SqlStore;
  /** The home's own SQLite database (per machine): which store the home uses. */
  readonly local: Database.Database;
  readonly datasets: DatasetRepository;
  readonly users: UserRepository;
  readonly apiTokens: ApiTokenStore;
  readonly policies: PolicyRepository;
  readonly crawlState: CrawlState;
  readonly classificationDecisions: ClassificationDecisions;
  close(): Promise<void>;
}

/** Which store a home's settings name: `sqlite`, or `postgres/<schema>`. */
function storeIdentity(settings: VeilSettings): string {
  return settings.controlStore === 'postgres' ? `postgres/${settings.postgresSchema}` : 'sqlite';
}

/**
 * A home remembers (in its own veil.db) which store its catalog, policies and audit trail live in.
 * Opening it with other settings is refused: a CLI started without the servers' environment would
 * otherwise act on an empty SQLite catalog, or verify an empty trail and call it intact.
 */
async function checkStoreIdentity(local: SqliteStore, settings: VeilSettings): Promise<void> {
  const configured = storeIdentity(settings);
  const recorded = await readMeta(local, 'control_store');
  if (recorded === undefined) await writeMeta(local, 'control_store', configured);
  else if (recorded !== configured) throw mismatch(recorded, configured);
}

function mismatch(recorded: string, configured: string): InvalidRequestError {
  return new InvalidRequestError(
    `this home's catalog, policies and audit trail are in ${recorded} (recorded in veil.db), but the settings say ${configured}: ` +
      'set control_store and postgres_schema (or VEIL_CONTROL_STORE, VEIL_POSTGRES_SCHEMA) as the servers on this home have them; Veil does not move a home between stores',
  );
}

export async function openControlStore(home: VeilHome, settings: VeilSettings): Promise<ControlStore> {
  const local = openSqliteControlStore(home.catalogDatabasePath);
  let control: SqlStore = local;
  let audit: SqlStore | undefined;
  try {
    await checkStoreIdentity(local, settings);
    if (settings.controlStore === 'postgres') {
      control = await openPostgresStore({ url: settings.postgresUrl, schema: settings.postgresSchema, maxConnections: settings.postgresMaxConnections });
      audit = control;
    } else {
      audit = openSqliteAuditStore(home.auditDatabasePath);
    }
  } catch (error) {
    await local.close();
    throw error;
  }
  return storesOver(settings.controlStore === 'postgres' ? 'postgres' : 'sqlite', control, audit, local);
}

/**
 * The audit trail alone, read-only, for verification, export and checkpoints by the operator:
 * nothing is created or migrated (a missing audit.db is an error, never an empty trail that
 * verifies), and a read-only backup can be checked where it lies.
 */
export function openAuditReader(home: VeilHome, settings: VeilSettings): SqlStore {
  if (existsSync(home.catalogDatabasePath)) {
    const local = new Database(home.catalogDatabasePath, { readonly: true, fileMustExist: true });
    try {
      const recorded = (local.prepare(`SELECT value FROM meta WHERE key = 'control_store'`).get() as { value: string } | undefined)?.value;
      if (recorded !== undefined && recorded !== storeIdentity(settings)) throw mismatch(recorded, storeIdentity(settings));
    } finally {
      local.close();
    }
  }
  if (settings.controlStore === 'postgres') {
    return new PostgresStore({ url: settings.postgresUrl, schema: settings.postgresSchema, maxConnections: 2 });
  }
  if (!existsSync(home.auditDatabasePath)) throw new InvalidRequestError(`${home.auditDatabasePath} does not exist: this home has no audit trail`);
  return openSqliteAuditStore(home.auditDatabasePath, { readonly: true });
}

function storesOver(backend: 'sqlite' | 'postgres', control: SqlStore, audit: SqlStore, local: SqliteStore): ControlStore {
  return {
    backend,
    control,
    audit,
    local: local.db,
    datasets: new SqlDatasetRepository(control),
    users: new SqlUserRepository(control),
    apiTokens: new ApiTokenStore(new SqlApiTokenRepository(control)),
    policies: new SqlPolicyRepository(control),
    crawlState: new SqlCrawlState(control),
    classificationDecisions: new SqlClassificationDecisions(control),
    async close() {
      await audit.close();
      if (control !== audit) await control.close();
      if (local !== control) await local.close();
    },
  };
}
