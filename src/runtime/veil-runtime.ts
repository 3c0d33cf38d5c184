import { createHash } from 'node:crypto';
import path from 'node:path';
import { ColumnarCache, type CacheManifest } from '../cache/index.ts';
import { openSqliteCacheManifest } from '../sqlite/cache-manifest.ts';
import { AuditLog, AUDIT_DATASET_COLUMNS, AUDIT_DATASET_NAMES, AUDIT_DATASETS, canonicalJson, OpenLineageWriter } from '../audit/index.ts';
import { CatalogService, fullName, isS3Location, LocalFileStorage, parseS3Settings, RoutedStorage, S3Mirror, sourceViewName, type ClassificationDecisions, type CrawlState } from '../catalog/index.ts';
import { DuckDbEngine } from '../engine/index.ts';
import { VeilHome, type VeilSettings } from '../home/index.ts';
import { Authenticator, LocalTokenIssuer, OidcProvider, parseOidcProviders, type ApiTokenStore, type UserRepository } from '../identity/index.ts';
import { DerivedColumnPlanner, policyToAuthored, transformMacros, validatePolicy, type PolicyRepository } from '../policy/index.ts';
import { AccessService, AdmissionController, QueryService, ResultCache, RESULT_CACHE_MAX_ENTRIES } from '../query/index.ts';
import { readMeta, writeMeta, type SqlStore } from '../store/index.ts';
import { openControlStore, type ControlStore } from './control-store.ts';

/** Everything one Veil deployment runs on, wired once. Every door receives this object. */
export interface VeilRuntime {
  readonly home: VeilHome;
  readonly settings: VeilSettings;
  /** Catalog, identities, policies and the audit trail: SQLite in the home, or PostgreSQL (docs/scale-out.md). */
  readonly store: ControlStore;
  readonly engine: DuckDbEngine;
  readonly catalog: CatalogService;
  /** Parquet copies of CSV and JSON sources (docs/cache.md). */
  readonly cache: ColumnarCache;
  /** The copies' manifest (per machine, `<home>/cache/columnar-manifest.db`). */
  readonly cacheManifest: CacheManifest;
  readonly users: UserRepository;
  readonly policies: PolicyRepository;
  /** What each crawled dataset's files looked like at the last crawl. */
  readonly crawlState: CrawlState;
  /** Stewards' decisions on classification proposals. */
  readonly classificationDecisions: ClassificationDecisions;
  readonly issuer: LocalTokenIssuer;
  readonly authenticator: Authenticator;
  readonly apiTokens: ApiTokenStore;
  readonly identityProviders: readonly OidcProvider[];
  readonly audit: AuditLog;
  readonly access: AccessService;
  readonly queries: QueryService;
  readonly admission: AdmissionController;
  close(): Promise<void>;
}

/** Identifies the transform macros, masking key included (derived columns are named after it). */
function macrosFingerprint(macros: readonly string[]): string {
  return createHash('sha256').update(macros.join('\u0000')).digest('hex');
}

/** Policies every deployment starts with: the audit trail is readable, each user their own part. */
const AUDIT_RESOURCES = AUDIT_DATASET_NAMES.map((dataset) => ({ dataset }));
const BUILTIN_POLICIES = [
  {
    name: 'veil-audit-own-records',
    description: 'Every user may read the audit records of their own requests.',
    subjects: { everyone: true, except: { groups: ['compliance'] } },
    resources: AUDIT_RESOURCES,
    row_filter: '"user" = current_user_name()',
  },
  {
    name: 'veil-audit-compliance',
    description: 'The compliance group reads the whole audit trail.',
    subjects: { groups: ['compliance'] },
    resources: AUDIT_RESOURCES,
  },
];
/** Version 1 covered only audit_log; homes that still have it unchanged get the current version. */
const BUILTIN_POLICIES_VERSION = '2';

export interface RuntimeOptions {
  /**
   * Benchmarks only: requests leave no audit record, so that `npm run bench` can measure what
   * auditing costs against the same server without it. Not reachable from configuration, the
   * CLI or HTTP.
   */
  readonly auditOffForBenchmark?: boolean;
}

export async function openRuntime(homeDir: string | undefined, options: RuntimeOptions = {}): Promise<VeilRuntime> {
  const home = VeilHome.fromOptions(homeDir);
  home.ensure();
  const settings = home.loadSettings();
  const keys = home.loadKeys();
  // Configuration is checked before anything is opened, so a refusal leaves nothing open behind.
  // Configuration errors (a bad JWKS file, a missing audience) stop the start: failing open on
  // identity would be worse than not starting.
  const identityProviders = parseOidcProviders(settings.oidcProviders, home.root, home.settingsPath).map((config) => new OidcProvider(config));
  const s3Settings = parseS3Settings(settings.s3, home.settingsPath);
  const store = await openControlStore(home, settings);
  try {
    const s3 = new S3Mirror(path.join(home.cacheDirectory, 's3'), s3Settings);
    const storage = new RoutedStorage(new LocalFileStorage([home.storageRoot]), s3);
    const macros = transformMacros(keys.masking, settings.zip3RestrictedPrefixes);
    const engine = await DuckDbEngine.open(
      {
        allowedDirectories: [...storage.roots, home.spoolDirectory, home.engineTempDirectory, home.cacheDirectory],
        threads: settings.engineThreads,
        memoryLimit: settings.engineMemoryLimit,
        preserveInsertionOrder: settings.enginePreserveInsertionOrder,
        streamingBufferSize: settings.engineStreamingBufferSize,
        streamingConnections: settings.maxConcurrentQueries,
        tempDirectory: home.engineTempDirectory,
      },
      macros,
    );
    const { datasets, users, policies, apiTokens } = store;
    const catalog = new CatalogService(datasets, storage, engine);
    const admission = new AdmissionController({
      maxConcurrentQueries: settings.maxConcurrentQueries,
      maxConcurrentQueriesPerUser: Math.min(settings.maxConcurrentQueriesPerUser, settings.maxConcurrentQueries),
      maxQueuedQueriesPerUser: settings.maxQueuedQueriesPerUser,
      maxQueuedQueries: settings.maxQueuedQueries,
    });
    const cacheManifest = openSqliteCacheManifest(path.join(home.cacheDirectory, 'columnar-manifest.db'), home.catalogDatabasePath);
    const cache = new ColumnarCache({
      engine,
      catalog,
      manifest: cacheManifest,
      directory: path.join(home.cacheDirectory, 'columnar'),
      settings: { enabled: settings.columnarCache, maxBytes: settings.cacheMaxBytes },
      remoteEtags: (location) => (isS3Location(location) ? s3.knownEtags(location) : undefined),
      log: (message, error) => console.error(`[veil] ${message}:`, error),
      idle: () => admission.status().running === 0,
    });
    catalog.listen({ registered: (name) => cache.registered(name), dropped: (name) => cache.forget(name) });
    const access = new AccessService(store.control, datasets, policies, engine, (name) => catalog.sourceRead(name)?.derived ?? new Map<string, string>());
    // Masked values views compute once per row (and copies keep), named after the macros they were
    // computed with: a new masking key or a changed macro never reads values of the old ones. The
    // policies come from the access snapshot, read once per catalog generation.
    const derived = new DerivedColumnPlanner(macrosFingerprint(macros), async () => (await access.snapshot()).policies);
    catalog.deriveColumnsWith((dataset) => derived.plan(dataset));
    const issuer = new LocalTokenIssuer(keys.tokenSigning);
    await Promise.all(identityProviders.map((p) => p.start()));
    const lineage = settings.openlineageFile === '' ? undefined : new OpenLineageWriter(path.resolve(home.root, settings.openlineageFile));
    const auditOptions = { mirrorFile: path.join(home.cacheDirectory, 'audit-mirror.duckdb'), ...(lineage === undefined ? {} : { lineage }) };
    const audit =
      options.auditOffForBenchmark === true
        ? new UnrecordedAuditLog(store.audit, engine, keys.auditChain, auditOptions)
        : new AuditLog(store.audit, engine, keys.auditChain, auditOptions);

    await catalog.registerSystemDataset({
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
    const auditRecords = sourceViewName({ database: 'veil_system', name: 'audit_log' });
    for (const view of AUDIT_DATASETS) {
      await catalog.registerSystemDataset({
        database: 'veil_system',
        name: view.name,
        location: '',
        format: 'parquet',
        csv: {},
        description: view.description,
        owner: 'veil',
        tags: ['veil.audit'],
        columns: view.columns.map((c) => ({ name: c.name, type: c.type, tags: c.tags })),
        system: true,
      });
      await engine.runInternal(`CREATE OR REPLACE VIEW ${sourceViewName({ database: 'veil_system', name: view.name })} AS ${view.sql(auditRecords)}`);
    }
    await installBuiltinPolicies(store.control, policies);
    await catalog.ensureSourceViews();

    const retention = startAuditRetention(audit, home, settings.auditRetentionDays);
    let viewsGeneration = (await access.snapshot()).generation;
    // `veil keys rotate` replaces the key on disk and bumps the generation: the macros are replaced
    // and the derived columns renamed (docs/policies.md, "Rotating the masking key").
    let maskingKey = keys.masking;
    const reloadMaskingKey = async (): Promise<void> => {
      const current = home.loadMaskingKey();
      if (current.equals(maskingKey)) return;
      const replaced = transformMacros(current, settings.zip3RestrictedPrefixes);
      for (const statement of replaced) await engine.runInternal(statement.replace(/^CREATE MACRO /, 'CREATE OR REPLACE MACRO '));
      derived.useFingerprint(macrosFingerprint(replaced));
      maskingKey = current;
    };
    let viewSync: Promise<void> | undefined;
    const queries = new QueryService(engine, access, settings, admission, async (effective) => {
      const generation = (await access.snapshot()).generation;
      // Another process (the CLI, a replica) changed the catalog or rotated the key: views for what
      // it registered, the key as it is now. One rebuild at a time; queries arriving meanwhile wait
      // for it, and go again when it started from an older generation than theirs (a rotation
      // written after it read the key must not be missed).
      if (generation < viewsGeneration) viewsGeneration = -1; // a store restored from a backup
      while (generation > viewsGeneration) {
        viewSync ??= (async () => {
          const target = (await access.snapshot()).generation;
          await reloadMaskingKey();
          await catalog.ensureSourceViews();
          viewsGeneration = Math.max(viewsGeneration, target);
        })().finally(() => {
          viewSync = undefined;
        });
        await viewSync;
      }
      await catalog.refresh(effective.map((e) => e.dataset));
      // After the S3 mirror is current: each view reads a copy only if it is of the source as it is now.
      await cache.prepare(effective.map((e) => e.dataset));
      if (effective.some((e) => (AUDIT_DATASET_NAMES as readonly string[]).includes(fullName(e.dataset)))) await audit.syncMirror();
    }, new ResultCache(engine, (dataset) => (dataset.system === true ? undefined : cache.sourceVersion(fullName(dataset))), { maxRows: settings.resultCacheMaxRows, maxEntries: RESULT_CACHE_MAX_ENTRIES }));
    return {
      home,
      settings,
      store,
      engine,
      catalog,
      cache,
      cacheManifest,
      users,
      policies,
      crawlState: store.crawlState,
      classificationDecisions: store.classificationDecisions,
      issuer,
      authenticator: new Authenticator(issuer, users, apiTokens, identityProviders, settings.adminGroups),
      apiTokens,
      identityProviders,
      audit,
      access,
      queries,
      admission,
      async close() {
        if (retention !== undefined) clearInterval(retention);
        for (const provider of identityProviders) provider.close();
        await cache.close();
        cacheManifest.close();
        s3.close();
        audit.close();
        await engine.close();
        await store.close();
      },
    };
  } catch (error) {
    // Nothing opened is left behind by a start that fails (a PostgreSQL pool would keep the
    // process alive).
    await store.close().catch(() => undefined);
    throw error;
  }
}

async function installBuiltinPolicies(control: SqlStore, policies: PolicyRepository): Promise<void> {
  const installed = await readMeta(control, 'builtin_policies');
  if (installed === BUILTIN_POLICIES_VERSION) return;
  const existing = new Map((await policies.list()).map((p) => [p.name, p]));
  // Only policies that are missing, or still exactly as an earlier Veil installed them, are
  // (re)written: an administrator's change to a built-in policy is never overwritten.
  const upgradable = BUILTIN_POLICIES.filter((p) => {
    const current = existing.get(p.name);
    return current === undefined || (installed === '1' && isVersionOne(policyToAuthored(current)));
  });
  if (upgradable.length > 0) await policies.apply(upgradable.map(validatePolicy));
  await writeMeta(control, 'builtin_policies', BUILTIN_POLICIES_VERSION);
}

/** True when a stored policy is exactly the version-one built-in of that name (not edited since). */
function isVersionOne(policy: Record<string, unknown>): boolean {
  const original = BUILTIN_POLICIES.find((p) => p.name === policy['name']);
  if (original === undefined) return false;
  const versionOne = policyToAuthored(validatePolicy({ ...original, resources: [{ dataset: 'veil_system.audit_log' }] }));
  return canonicalJson(versionOne) === canonicalJson(policy);
}

/**
 * Prunes audit records past the retention period at start and then daily. Pruning leaves a signed
 * anchor, so the remaining chain still verifies (audit-retention.ts).
 */
function startAuditRetention(audit: AuditLog, home: VeilHome, days: number): NodeJS.Timeout | undefined {
  if (!Number.isInteger(days) || days <= 0) return undefined;
  const key = home.loadAuditSigningKey();
  const prune = (): void => {
    audit.prune(key, new Date(Date.now() - days * 86_400_000)).catch((error: unknown) => console.error('[veil] audit retention failed:', error));
  };
  prune();
  const timer = setInterval(prune, 86_400_000);
  timer.unref();
  return timer;
}

/** The audit log with writes switched off (see RuntimeOptions.auditOffForBenchmark). */
class UnrecordedAuditLog extends AuditLog {
  override begin(): Promise<number> {
    return Promise.resolve(0);
  }

  override finish(): Promise<void> {
    return Promise.resolve();
  }

  override record(): Promise<number> {
    return Promise.resolve(0);
  }
}
