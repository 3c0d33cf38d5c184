import type Database from 'better-sqlite3';
import type { ClassificationDecisions, CrawlState, DatasetRepository } from '../catalog/index.ts';
import type { VeilHome, VeilSettings } from '../home/index.ts';
import { ApiTokenStore, type UserRepository } from '../identity/index.ts';
import type { PolicyRepository } from '../policy/index.ts';
import { openPostgresStore } from '../postgres/migrations.ts';
import { openSqliteAuditStore, openSqliteControlStore } from '../sqlite/migrations.ts';
import type { SqliteStore } from '../sqlite/sqlite-store.ts';
import { SqlApiTokenRepository } from '../store/api-token-repository.ts';
import { SqlClassificationDecisions } from '../store/classification-decisions.ts';
import { SqlCrawlState } from '../store/crawl-state-repository.ts';
import { SqlDatasetRepository } from '../store/dataset-repository.ts';
import { SqlPolicyRepository } from '../store/policy-repository.ts';
import type { SqlStore } from '../store/index.ts';
import { SqlUserRepository } from '../store/user-repository.ts';

/**
 * The stores of one deployment (docs/scale-out.md, "Control store"): catalog, identities, policies
 * and the audit trail in SQLite files of the home, or in one PostgreSQL schema shared by replicas.
 * What stays per machine either way is `local`, the home's veil.db: the columnar cache's manifest
 * (copies are per replica).
 */
export interface ControlStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Catalog, identities and policies. */
  readonly control: SqlStore;
  /** The audit trail and its hash chain (the same store as `control` on PostgreSQL). */
  readonly audit: SqlStore;
  /** The home's own SQLite database (per machine). */
  readonly local: Database.Database;
  readonly datasets: DatasetRepository;
  readonly users: UserRepository;
  readonly apiTokens: ApiTokenStore;
  readonly policies: PolicyRepository;
  readonly crawlState: CrawlState;
  readonly classificationDecisions: ClassificationDecisions;
  close(): Promise<void>;
}

export async function openControlStore(home: VeilHome, settings: VeilSettings): Promise<ControlStore> {
  const local = openSqliteControlStore(home.catalogDatabasePath);
  let control: SqlStore = local;
  let audit: SqlStore | undefined;
  try {
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
