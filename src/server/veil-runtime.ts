import { AuditLog, AUDIT_DATASET_COLUMNS } from '../audit/index.ts';
import { CatalogService, DatasetStore, LocalFileStorage, sourceViewName } from '../catalog/index.ts';
import { DuckDbEngine } from '../engine/index.ts';
import { VeilHome, type VeilSettings } from '../home/index.ts';
import { ApiTokenStore, Authenticator, LocalTokenIssuer, OidcProvider, parseOidcProviders, UserStore } from '../identity/index.ts';
import { PolicyStore, transformMacros, validatePolicy } from '../policy/index.ts';
import { AccessService, AUDIT_DATASET, QueryService } from '../query/index.ts';
import { openControlDatabase, type SqliteDatabase } from '../store/index.ts';

/** Everything one Veil deployment runs on, wired once. Every door receives this object. */
export interface VeilRuntime {
  readonly home: VeilHome;
  readonly settings: VeilSettings;
  readonly controlDb: SqliteDatabase;
  readonly engine: DuckDbEngine;
  readonly catalog: CatalogService;
  readonly users: UserStore;
  readonly policies: PolicyStore;
  readonly issuer: LocalTokenIssuer;
  readonly authenticator: Authenticator;
  readonly apiTokens: ApiTokenStore;
  readonly identityProviders: readonly OidcProvider[];
  readonly audit: AuditLog;
  readonly access: AccessService;
  readonly queries: QueryService;
  close(): Promise<void>;
}

/** Policies every deployment starts with: the audit trail is readable, each user their own part. */
const BUILTIN_POLICIES = [
  {
    name: 'veil-audit-own-records',
    description: 'Every user may read the audit records of their own requests.',
    subjects: { everyone: true, except: { groups: ['compliance'] } },
    resources: [{ dataset: 'veil_system.audit_log' }],
    row_filter: '"user" = current_user_name()',
  },
  {
    name: 'veil-audit-compliance',
    description: 'The compliance group reads the whole audit trail.',
    subjects: { groups: ['compliance'] },
    resources: [{ dataset: 'veil_system.audit_log' }],
  },
];

export async function openRuntime(homeDir: string | undefined): Promise<VeilRuntime> {
  const home = VeilHome.fromOptions(homeDir);
  home.ensure();
  const settings = home.loadSettings();
  const keys = home.loadKeys();
  const controlDb = openControlDatabase(home.catalogDatabasePath);
  const storage = new LocalFileStorage([home.storageRoot]);
  const engine = await DuckDbEngine.open(
    {
      allowedDirectories: [...storage.roots, home.spoolDirectory, home.engineTempDirectory],
      threads: settings.engineThreads,
      memoryLimit: settings.engineMemoryLimit,
      tempDirectory: home.engineTempDirectory,
      maxConcurrentQueries: settings.maxConcurrentQueries,
    },
    transformMacros(keys.masking, settings.zip3RestrictedPrefixes),
  );
  const datasets = new DatasetStore(controlDb);
  const catalog = new CatalogService(datasets, storage, engine);
  const users = new UserStore(controlDb);
  const policies = new PolicyStore(controlDb);
  const issuer = new LocalTokenIssuer(keys.tokenSigning);
  const apiTokens = new ApiTokenStore(controlDb);
  // Configuration errors (a bad JWKS file, a missing audience) stop the start: failing open on
  // identity would be worse than not starting.
  const identityProviders = parseOidcProviders(settings.oidcProviders, home.root, home.settingsPath).map((config) => new OidcProvider(config));
  await Promise.all(identityProviders.map((p) => p.start()));
  const audit = new AuditLog(home.auditDatabasePath, engine, keys.auditChain);

  catalog.registerSystemDataset({
    database: 'veil_system',
    name: 'audit_log',
    location: '',
    format: 'parquet',
    csv: {},
    description: 'Every request to Veil: who, when, through which tool, what, how much, under which policies, and the decision.',
    owner: 'veil',
    tags: ['veil.audit'],
    columns: AUDIT_DATASET_COLUMNS.map((c) => ({ name: c.name, type: c.type, tags: c.tags })),
    system: true,
  });
  await audit.initializeMirror();
  await engine.runInternal(`CREATE OR REPLACE VIEW ${sourceViewName({ database: 'veil_system', name: 'audit_log' })} AS ${audit.viewSql()}`);
  installBuiltinPolicies(controlDb, policies);
  await catalog.ensureSourceViews();

  const access = new AccessService(controlDb, datasets, policies, engine);
  let viewsGeneration = access.snapshot().generation;
  const queries = new QueryService(engine, access, settings, async (prepared) => {
    const generation = access.snapshot().generation;
    if (generation !== viewsGeneration) {
      await catalog.ensureSourceViews();
      viewsGeneration = generation;
    }
    if (prepared.datasets.includes(AUDIT_DATASET)) await audit.syncMirror();
  });
  return {
    home,
    settings,
    controlDb,
    engine,
    catalog,
    users,
    policies,
    issuer,
    authenticator: new Authenticator(issuer, users, apiTokens, identityProviders, settings.adminGroups),
    apiTokens,
    identityProviders,
    audit,
    access,
    queries,
    async close() {
      for (const provider of identityProviders) provider.close();
      audit.close();
      await engine.close();
      controlDb.close();
    },
  };
}

function installBuiltinPolicies(controlDb: SqliteDatabase, policies: PolicyStore): void {
  const installed = controlDb.prepare(`SELECT value FROM meta WHERE key = 'builtin_policies'`).get();
  if (installed !== undefined) return;
  const existing = new Set(policies.list().map((p) => p.name));
  policies.apply(BUILTIN_POLICIES.filter((p) => !existing.has(p.name)).map(validatePolicy));
  controlDb.prepare(`INSERT INTO meta (key, value) VALUES ('builtin_policies', '1')`).run();
}
