import { classifyDataset, crawlUri, decideClassification, exportMetadata, fullName, importMetadata, splitDatasetName, type CrawlProgressListener, type CrawlReport, type Dataset, type ImportReport, type MetadataAsset, type RegisterDatasetInput } from '../catalog/index.ts';
import type { EffectiveDatasetPolicy } from '../policy/index.ts';
import { searchCatalog, type SearchOptions, type SearchResult } from '../query/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import type { Authorization } from './authorization.ts';
import { adminView, datasetSummary, describeForCaller } from './presenters.ts';
import type { RequestScope } from './request-scope.ts';

/** The crawler's progress callback (src/catalog/index.ts does not export its name). */

/** A Veil database and its datasets as one caller sees them: what SQL tools browse. */
export interface VisibleCatalog {
  readonly schemas: readonly { readonly name: string; readonly description: string }[];
  readonly tables: readonly {
    readonly schema: string;
    readonly name: string;
    readonly description: string;
    readonly readable: boolean;
    readonly columns: readonly { readonly name: string; readonly type: string; readonly description: string }[];
  }[];
}

/** Finding, describing and managing datasets. */
export class CatalogOperations {
  /** Dataset popularity from the audit trail for search ranking, refreshed at most once a minute. */
  private popularityCache: { at: number; value: Promise<Map<string, number>> } | undefined;

  constructor(
    private readonly runtime: VeilRuntime,
    private readonly authorization: Authorization,
  ) {}

  /** Datasets the caller may see; built-in ones (veil_system.*) only on request. */
  async list(scope: RequestScope, options: { database?: string; includeSystem?: boolean; describe?: string }): Promise<Record<string, unknown>[]> {
    scope.describe('list', options.describe ?? 'list datasets');
    const database = options.database?.toLowerCase();
    const includeSystem = options.includeSystem === true || database === 'veil_system';
    return (await this.visible(scope))
      .filter((e) => database === undefined || e.dataset.database === database)
      .filter((e) => includeSystem || !e.dataset.system)
      .map(datasetSummary);
  }

  /** The caller's catalog for SQL tools: visible datasets with their visible columns only. */
  async visibleCatalog(scope: RequestScope): Promise<VisibleCatalog> {
    const visible = await this.visible(scope);
    const schemas = [...new Set(visible.map((e) => e.dataset.database))].sort().map((name) => ({ name, description: name === 'veil_system' ? "Veil's own datasets: the audit trail" : '' }));
    const tables = visible.map((e) => ({
      schema: e.dataset.database,
      name: e.dataset.name,
      description: e.dataset.description,
      readable: e.readable,
      columns: e.readable ? e.columns.filter((c) => c.access !== 'hidden').map((c) => ({ name: c.column.name, type: c.column.type, description: c.column.description ?? '' })) : [],
    }));
    return { schemas, tables };
  }

  async describeDataset(scope: RequestScope, name: string): Promise<Record<string, unknown>> {
    scope.describe('describe', `describe ${name}`);
    scope.datasets = [name.toLowerCase()];
    const effective = await this.runtime.access.effective(scope.requirePrincipal(), name);
    scope.policies = effective.policies;
    return describeForCaller(effective);
  }

  /** The stored dataset, for the local operator (CLI without --user). */
  storedDataset(scope: RequestScope, name: string): Promise<Dataset> {
    this.authorization.requireAdmin(scope);
    scope.describe('describe', `describe ${name}`);
    return this.runtime.catalog.datasets.get(name.toLowerCase());
  }

  async search(scope: RequestScope, options: SearchOptions): Promise<SearchResult[]> {
    scope.describe('search', `search ${options.query.slice(0, 500)}`);
    const results = await searchCatalog(this.runtime.access, scope.requirePrincipal(), options, await this.popularity());
    scope.datasets = results.map((r) => r.name);
    scope.rows = results.length;
    return results;
  }

  async classification(scope: RequestScope, name: string): Promise<unknown> {
    scope.describe('admin', `classify ${name}`);
    scope.datasets = [name.toLowerCase()];
    await this.requireSteward(scope, name);
    return classifyDataset(this.runtime.catalog, this.runtime.engine, this.runtime.classificationDecisions, checkedName(name));
  }

  async decideClassification(scope: RequestScope, name: string, decisions: { accept: readonly { column: string; tag: string }[]; reject: readonly { column: string; tag: string }[] }, by?: string): Promise<unknown> {
    scope.describe('admin', `classification ${name}: accept ${decisions.accept.map((d) => `${d.column}=${d.tag}`).join(' ')}; reject ${decisions.reject.map((d) => `${d.column}=${d.tag}`).join(' ')}`);
    scope.datasets = [name.toLowerCase()];
    await this.requireSteward(scope, name);
    await decideClassification(this.runtime.catalog, this.runtime.classificationDecisions, checkedName(name), { accept: [...decisions.accept], reject: [...decisions.reject] }, by ?? scope.requirePrincipal().user);
    return classifyDataset(this.runtime.catalog, this.runtime.engine, this.runtime.classificationDecisions, checkedName(name));
  }

  /** `onProgress` hears of each candidate as the crawl goes (after the admin check and the prefix's validation). */
  async crawl(scope: RequestScope, prefix: string, options: { database: string; owner?: string; onProgress?: CrawlProgressListener }): Promise<CrawlReport> {
    scope.describe('admin', `crawl ${prefix} into ${options.database}`);
    this.authorization.requireAdmin(scope);
    const { catalog, engine, crawlState, home } = this.runtime;
    const report = await crawlUri({ catalog, engine, state: crawlState, storageRoot: home.storageRoot }, prefix, options);
    scope.datasets = report.registered.map((r) => r.dataset);
    return report;
  }

  /** Registers a dataset and proposes classifications for its steward to review (nothing is tagged until accepted). */
  async register(scope: RequestScope, input: RegisterDatasetInput, options: { classify?: boolean } = {}): Promise<Record<string, unknown>> {
    scope.describe('admin', `register ${input.name}`);
    scope.datasets = [input.name.toLowerCase()];
    this.authorization.requireAdmin(scope);
    const dataset = await this.runtime.catalog.register(input);
    if (options.classify === false) return adminView(dataset);
    const classification = await classifyDataset(this.runtime.catalog, this.runtime.engine, this.runtime.classificationDecisions, fullName(dataset)).catch(() => null);
    return { ...adminView(dataset), classification };
  }

  async update(scope: RequestScope, name: string, changes: Parameters<VeilRuntime['catalog']['update']>[1]): Promise<Record<string, unknown>> {
    scope.describe('admin', `update ${name}`);
    scope.datasets = [name.toLowerCase()];
    // Owner and steward are assigned by administrators; documentation and certification also by the steward.
    if (changes.owner !== undefined || changes.steward !== undefined) this.authorization.requireAdmin(scope);
    else await this.requireSteward(scope, name);
    return adminView(await this.runtime.catalog.update(checkedName(name), changes));
  }

  async tag(scope: RequestScope, name: string, changes: Parameters<VeilRuntime['catalog']['tag']>[1]): Promise<Record<string, unknown>> {
    scope.describe('admin', `tag ${name}`);
    scope.datasets = [name.toLowerCase()];
    this.authorization.requireAdmin(scope);
    return adminView(await this.runtime.catalog.tag(checkedName(name), changes));
  }

  async drop(scope: RequestScope, name: string): Promise<string> {
    scope.describe('admin', `drop ${name}`);
    scope.datasets = [name.toLowerCase()];
    this.authorization.requireAdmin(scope);
    await this.runtime.catalog.drop(checkedName(name));
    return name.toLowerCase();
  }

  /** Business metadata of every dataset, for an external catalog. */
  exportMetadata(scope: RequestScope, mapping: Record<string, string>): Promise<MetadataAsset[]> {
    scope.describe('admin', 'export metadata');
    this.authorization.requireAdmin(scope);
    return exportMetadata(this.runtime.catalog, mapping);
  }

  importMetadata(scope: RequestScope, assets: readonly MetadataAsset[], mapping: Record<string, string>, options: { by: string; dryRun?: boolean }): Promise<ImportReport> {
    scope.describe('admin', `import metadata (${assets.length} assets${options.dryRun === true ? ', dry run' : ''})`);
    this.authorization.requireAdmin(scope);
    return importMetadata(this.runtime.catalog, assets, mapping, options);
  }

  /** Every stored dataset, for the local operator's listing. */
  storedDatasets(scope: RequestScope): Promise<Dataset[]> {
    scope.describe('list', 'list datasets');
    this.authorization.requireAdmin(scope);
    return this.runtime.catalog.datasets.list();
  }

  private visible(scope: RequestScope): Promise<EffectiveDatasetPolicy[]> {
    return this.runtime.access.visibleDatasets(scope.requirePrincipal());
  }

  /** Stewardship of a dataset; a caller who cannot see it learns only that it does not exist. */
  private async requireSteward(scope: RequestScope, name: string): Promise<void> {
    if (scope.operator || this.authorization.isAdmin(scope.requirePrincipal())) return;
    this.authorization.requireSteward(scope, (await this.runtime.access.effective(scope.requirePrincipal(), name)).dataset);
  }

  private popularity(): Promise<Map<string, number>> {
    const now = Date.now();
    if (this.popularityCache === undefined || now - this.popularityCache.at > 60_000) this.popularityCache = { at: now, value: this.runtime.audit.datasetPopularity(30) };
    return this.popularityCache.value;
  }
}

function checkedName(name: string): string {
  return splitDatasetName(name).join('.');
}
