import { fullName } from '../catalog/index.ts';
import { isVeilError } from '../errors/index.ts';
import { principalOf, type Principal } from '../identity/index.ts';
import type { EffectiveColumn, EffectiveDatasetPolicy } from '../policy/index.ts';
import { transformDefinition, typeFamily } from '../policy/transform-registry.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import { bindPolicyPredicate } from '../sql/policy-expression-compiler.ts';
import { printTrinoExpression, trinoIdentifier, TrinoTranslationError } from '../sql/trino-printer.ts';
import type { RequestScope } from './request-scope.ts';

/**
 * Trino's questions, as its OPA access-control plugin asks them (src/trino/ parses the wire form;
 * docs/scale-out.md), answered from Veil's own policies. Fail closed throughout: anything Veil
 * cannot answer exactly — an unknown user, operation or table, a filter or mask without a Trino
 * equivalent — is a denial, and the row-filter and mask answers for such a table are a filter
 * that keeps nothing or an error, never "no filter" or "no mask".
 */
export interface TrinoQuestion {
  readonly user: string;
  readonly groups: readonly string[];
  readonly trinoVersion: string;
  readonly queryId: string | null;
  readonly operation: string;
  readonly resource?: TrinoResource;
  readonly filterResources?: readonly TrinoResource[];
}

export interface TrinoResource {
  readonly catalog?: { readonly name: string };
  readonly schema?: { readonly catalogName: string; readonly schemaName: string };
  readonly table?: { readonly catalogName: string; readonly schemaName: string; readonly tableName: string; readonly columns?: readonly string[] };
  readonly column?: { readonly catalogName: string; readonly schemaName: string; readonly tableName: string; readonly columnName: string; readonly columnType: string };
  readonly user?: { readonly user: string };
}

export interface TrinoSettings {
  /** The Trino catalog whose schemas are Veil's databases and whose tables are its datasets. */
  readonly catalog: string;
  /** Take the groups Trino sends as the user's (only where Trino's group provider is trusted). */
  readonly trustGroups: boolean;
}

export interface TrinoViewExpression {
  readonly expression: string;
}

/** Raised when a table's policy has no exact Trino form: Trino must then fail the query. */
export class TrinoRefusalError extends TrinoTranslationError {}

const METADATA_SCHEMA = 'information_schema';

/** Operations answered from the table's policy; every other operation is denied. */
const TABLE_READS = new Set(['ShowColumns', 'ShowCreateTable', 'FilterTables']);

export class TrinoOperations {
  /**
   * Translations by the effective policy they came from: AccessService hands out a new object
   * whenever the policies, the catalog, the principal's facts or a validity window change, so an
   * entry can never outlive what it was computed from.
   */
  private readonly translations = new WeakMap<EffectiveDatasetPolicy, Map<string, Promise<unknown>>>();

  constructor(
    private readonly runtime: VeilRuntime,
    readonly settings: TrinoSettings,
  ) {}

  /** An allow decision (opa.policy.uri). */
  async allow(scope: RequestScope, question: TrinoQuestion): Promise<boolean> {
    this.describe(scope, question, question.resource === undefined ? [] : [question.resource]);
    const principal = await this.principal(scope, question);
    if (principal === undefined) return false;
    return this.allowed(principal, question.operation, question.resource);
  }

  /** Indices of the allowed items of a batched filter (opa.policy.batched-uri). */
  async batch(scope: RequestScope, question: TrinoQuestion): Promise<number[]> {
    const items = question.filterResources ?? [];
    this.describe(scope, question, items);
    const principal = await this.principal(scope, question);
    if (principal === undefined) return [];
    // FilterColumns sends one table and asks about the positions of its columns.
    if (question.operation === 'FilterColumns') {
      const table = items.length === 1 ? items[0]?.table : undefined;
      if (table === undefined) return [];
      const columns = table.columns ?? [];
      const allowed = await this.columnsAllowed(principal, table, columns);
      return columns.flatMap((_, i) => (allowed[i] === true ? [i] : []));
    }
    const answers: number[] = [];
    for (const [i, item] of items.entries()) if (await this.allowed(principal, question.operation, item)) answers.push(i);
    return answers;
  }

  /** Row filters of a table (opa.policy.row-filters-uri): a filter keeping nothing when Veil cannot say. */
  async rowFilters(scope: RequestScope, question: TrinoQuestion): Promise<TrinoViewExpression[]> {
    const table = question.resource?.table;
    this.describe(scope, question, question.resource === undefined ? [] : [question.resource]);
    const principal = await this.principal(scope, question);
    const nothing = [{ expression: 'FALSE' }];
    if (principal === undefined || table === undefined || table.catalogName !== this.settings.catalog) return nothing;
    if (table.schemaName === METADATA_SCHEMA) return [];
    const effective = await this.effective(principal, table);
    if (effective === undefined || !effective.readable) return nothing;
    try {
      return await this.translatedFilters(principal, effective);
    } catch (error) {
      if (isRefusal(error)) return nothing;
      throw error;
    }
  }

  /**
   * Masks of a table's columns (opa.policy.batch-column-masking-uri), by their index in the
   * request. A column Veil masks without a Trino form throws TrinoRefusalError: the door answers
   * an error and Trino fails the query (an empty answer would show the column in clear).
   */
  async columnMasks(scope: RequestScope, question: TrinoQuestion): Promise<{ index: number; viewExpression: TrinoViewExpression }[]> {
    const items = question.filterResources ?? [];
    this.describe(scope, question, items);
    const principal = await this.principal(scope, question);
    const answers: { index: number; viewExpression: TrinoViewExpression }[] = [];
    for (const [index, item] of items.entries()) {
      const column = item.column;
      if (column === undefined) throw new TrinoRefusalError('a column mask question without a column');
      if (column.catalogName !== this.settings.catalog || column.schemaName === METADATA_SCHEMA) continue;
      const effective = principal === undefined ? undefined : await this.effective(principal, { schemaName: column.schemaName, tableName: column.tableName });
      if (principal === undefined || effective === undefined || !effective.readable) throw new TrinoRefusalError(`${column.schemaName}.${column.tableName} is not readable`);
      const entry = effective.columns.find((c) => c.column.name.toLowerCase() === column.columnName.toLowerCase());
      if (entry === undefined || entry.access === 'hidden') throw new TrinoRefusalError(`column ${column.columnName} is not visible`);
      if (entry.access !== 'masked') continue;
      answers.push({ index, viewExpression: { expression: await this.maskExpression(principal, effective, entry, column.columnType) } });
    }
    return answers;
  }

  private describe(scope: RequestScope, question: TrinoQuestion, resources: readonly TrinoResource[]): void {
    const names = resources.map(resourceName).filter((n) => n !== '');
    scope.describe('trino', `${question.operation}${names.length === 0 ? '' : ` ${names.slice(0, 20).join(', ')}${names.length > 20 ? ` … (${names.length})` : ''}`}${question.queryId === null ? '' : ` [trino query ${question.queryId}]`}`);
    scope.datasets = [...new Set(resources.flatMap((r) => datasetOf(r, this.settings.catalog)))];
  }

  /** Trino's user as a Veil principal: Veil's user store decides, Trino's groups only when trusted. */
  private async principal(scope: RequestScope, question: TrinoQuestion): Promise<Principal | undefined> {
    const stored = await this.runtime.users.find(question.user);
    let principal: Principal | undefined;
    if (stored !== undefined) {
      const own = principalOf(stored);
      principal = this.settings.trustGroups ? { ...own, groups: [...new Set([...own.groups, ...question.groups])] } : own;
    } else if (this.settings.trustGroups) {
      principal = { user: question.user, groups: [...question.groups], attributes: {} };
    }
    if (principal !== undefined) {
      scope.principal = principal;
      scope.authentication = { method: 'local', via: 'trino' };
    } else {
      scope.principal = { user: question.user, groups: [], attributes: {} };
    }
    return principal;
  }

  private async effective(principal: Principal, table: { readonly schemaName: string; readonly tableName: string }): Promise<EffectiveDatasetPolicy | undefined> {
    try {
      return await this.runtime.access.effective(principal, `${table.schemaName}.${table.tableName}`.toLowerCase());
    } catch (error) {
      if (isVeilError(error)) return undefined;
      throw error;
    }
  }

  private async allowed(principal: Principal, operation: string, resource: TrinoResource | undefined): Promise<boolean> {
    const catalog = this.settings.catalog;
    switch (operation) {
      case 'ExecuteQuery':
        return true;
      case 'AccessCatalog':
      case 'ShowSchemas':
      case 'FilterCatalogs':
        return resource?.catalog?.name === catalog;
      case 'ShowTables':
      case 'FilterSchemas': {
        const schema = resource?.schema;
        if (schema === undefined || schema.catalogName !== catalog) return false;
        if (schema.schemaName === METADATA_SCHEMA) return true;
        return (await this.runtime.access.visibleDatasets(principal)).some((e) => e.dataset.database.toLowerCase() === schema.schemaName.toLowerCase());
      }
      case 'SelectFromColumns':
      case 'FilterColumns': {
        const table = resource?.table;
        if (table === undefined) return false;
        // SELECT count(*) asks with no columns: the table itself must be readable.
        return (await this.columnsAllowed(principal, table, table.columns ?? [])).every(Boolean);
      }
      case 'ViewQueryOwnedBy':
      case 'KillQueryOwnedBy':
      case 'FilterViewQueryOwnedBy':
        return resource?.user?.user === principal.user;
      default: {
        if (!TABLE_READS.has(operation)) return false;
        const table = resource?.table;
        if (table === undefined || table.catalogName !== catalog) return false;
        if (table.schemaName === METADATA_SCHEMA) return true;
        return (await this.effective(principal, table)) !== undefined;
      }
    }
  }

  /**
   * Whether each column may be selected: the table is readable, its policy has an exact Trino form
   * for this user (otherwise every column is refused: the table is denied), and the column is not
   * hidden. Trino's own metadata tables are readable (Trino filters their rows through Filter*).
   */
  private async columnsAllowed(principal: Principal, table: NonNullable<TrinoResource['table']>, columns: readonly string[]): Promise<boolean[]> {
    // One false more than the columns: an empty list must not read as "all allowed".
    const none = [...columns.map(() => false), false];
    if (table.catalogName !== this.settings.catalog) return none;
    if (table.schemaName === METADATA_SCHEMA) return columns.map(() => true);
    const effective = await this.effective(principal, table);
    if (effective === undefined || !effective.readable) return none;
    if (!(await this.translatable(principal, effective))) return none;
    return columns.map((name) => {
      const entry = effective.columns.find((c) => c.column.name.toLowerCase() === name.toLowerCase());
      return entry !== undefined && entry.access !== 'hidden';
    });
  }

  /** A translation computed once per effective policy and key; refusals are kept too (they are as deterministic). */
  private remember<T>(effective: EffectiveDatasetPolicy, key: string, compute: () => Promise<T>): Promise<T> {
    let entries = this.translations.get(effective);
    if (entries === undefined) {
      entries = new Map();
      this.translations.set(effective, entries);
    }
    const known = entries.get(key);
    if (known !== undefined) return known as Promise<T>;
    const computed = compute();
    entries.set(key, computed);
    computed.catch((error: unknown) => {
      // Only refusals are answers; anything else is tried again next time.
      if (!isRefusal(error)) entries.delete(key);
    });
    return computed;
  }

  /** True when every row filter and every mask of the user's policy has a Trino form. */
  private async translatable(principal: Principal, effective: EffectiveDatasetPolicy): Promise<boolean> {
    try {
      await this.translatedFilters(principal, effective);
      for (const entry of effective.columns) if (entry.access === 'masked') await this.maskExpression(principal, effective, entry, trinoTypeOf(entry.column.type));
      return true;
    } catch (error) {
      if (isRefusal(error)) return false;
      throw error;
    }
  }

  private translatedFilters(principal: Principal, effective: EffectiveDatasetPolicy): Promise<TrinoViewExpression[]> {
    return this.remember(effective, `filters ${this.runtime.access.now().getUTCFullYear()}`, () => this.translateFilters(principal, effective));
  }

  private async translateFilters(principal: Principal, effective: EffectiveDatasetPolicy): Promise<TrinoViewExpression[]> {
    const names = new Set(effective.dataset.columns.map((c) => c.name.toLowerCase()));
    const dataset = fullName(effective.dataset);
    const filters: TrinoViewExpression[] = [];
    for (const filter of effective.rowFilters) {
      const tree = await bindPolicyPredicate(this.runtime.engine, filter.predicate, principal, names, { policy: filter.policy, dataset });
      filters.push({ expression: printTrinoExpression(tree) });
    }
    return filters;
  }

  /** The column's masks in Trino's dialect, layered as the scan layers them (src/sql/scan-builder.ts). */
  private maskExpression(principal: Principal, effective: EffectiveDatasetPolicy, entry: EffectiveColumn, trinoType: string): Promise<string> {
    const key = `mask ${this.runtime.access.now().getUTCFullYear()} ${JSON.stringify([entry.column.name, trinoType])}`;
    return this.remember(effective, key, () => this.translateMask(principal, effective, entry, trinoType));
  }

  private async translateMask(principal: Principal, effective: EffectiveDatasetPolicy, entry: EffectiveColumn, trinoType: string): Promise<string> {
    if (!/^[a-z][a-z0-9_]*(\([0-9, ]+\))?( with(out)? time zone)?$/.test(trinoType)) throw new TrinoRefusalError(`column type ${trinoType}`);
    const column = trinoIdentifier(entry.column.name);
    const family = typeFamily(entry.column.type);
    const names = new Set(effective.dataset.columns.map((c) => c.name.toLowerCase()));
    const referenceYear = this.runtime.access.now().getUTCFullYear();
    const branches: { when: string | undefined; sql: string }[] = [];
    for (const layer of entry.masks) {
      const definition = transformDefinition(layer.transform.name);
      // A mask must keep the column's Trino type; text-producing masks apply to text columns only.
      if (definition.output === 'VARCHAR' && family !== 'text') throw new TrinoRefusalError(`${layer.transform.text} of a ${entry.column.type} column`);
      const sql = definition.trino?.({ column, trinoType, family, args: layer.transform.args, referenceYear, zip3Restricted: this.runtime.settings.zip3RestrictedPrefixes });
      if (sql === undefined) throw new TrinoRefusalError(`transform ${layer.transform.text}`);
      const when =
        layer.when === undefined
          ? undefined
          : printTrinoExpression(await bindPolicyPredicate(this.runtime.engine, layer.when, principal, names, { policy: layer.policy, dataset: fullName(effective.dataset) }));
      branches.push({ when, sql });
    }
    const otherwise = branches.find((b) => b.when === undefined)?.sql ?? column;
    const conditional = branches.filter((b) => b.when !== undefined);
    // A layer applies unless its condition is false (NULL applies it), as in Veil's own scans.
    return conditional.length === 0 ? otherwise : `CASE ${conditional.map((b) => `WHEN coalesce(${b.when}, TRUE) THEN ${b.sql}`).join(' ')} ELSE ${otherwise} END`;
  }
}

/** The Trino type of a DuckDB column type (lower case, as Trino names types). */
export function trinoTypeOf(duckdbType: string): string {
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(duckdbType);
  if (decimal !== null) return `decimal(${decimal[1]}, ${decimal[2]})`;
  const known: Record<string, string> = {
    VARCHAR: 'varchar', BOOLEAN: 'boolean', TINYINT: 'tinyint', SMALLINT: 'smallint', INTEGER: 'integer', BIGINT: 'bigint',
    FLOAT: 'real', DOUBLE: 'double', DATE: 'date', TIMESTAMP: 'timestamp(6)', 'TIMESTAMP WITH TIME ZONE': 'timestamp(6) with time zone',
  };
  return known[duckdbType] ?? duckdbType.toLowerCase();
}

/** A policy without an exact Trino form (TrinoTranslationError carries the same code), as opposed to a failure. */
function isRefusal(error: unknown): boolean {
  return isVeilError(error) && error.code === 'POLICY_NOT_APPLICABLE';
}

function resourceName(resource: TrinoResource): string {
  if (resource.column !== undefined) return `${resource.column.catalogName}.${resource.column.schemaName}.${resource.column.tableName}.${resource.column.columnName}`;
  if (resource.table !== undefined) return `${resource.table.catalogName}.${resource.table.schemaName}.${resource.table.tableName}`;
  if (resource.schema !== undefined) return `${resource.schema.catalogName}.${resource.schema.schemaName}`;
  if (resource.catalog !== undefined) return resource.catalog.name;
  if (resource.user !== undefined) return `user ${resource.user.user}`;
  return '';
}

function datasetOf(resource: TrinoResource, catalog: string): string[] {
  const table = resource.table ?? resource.column;
  if (table === undefined || table.catalogName !== catalog || table.schemaName === METADATA_SCHEMA) return [];
  return [`${table.schemaName}.${table.tableName}`.toLowerCase()];
}
