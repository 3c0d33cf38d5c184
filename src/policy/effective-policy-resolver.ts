import type { Dataset, DatasetColumn } from '../catalog/index.ts';
import { fullName } from '../catalog/index.ts';
import type { Principal } from '../identity/index.ts';
import type { MaskRule, PolicyDefinition, ResourceSelector, SubjectSelector } from './policy-types.ts';
import { anyTagMatches, tagMatches } from './tag-matching.ts';
import { compareStrength, parseTransform, type TransformSpec } from './transforms.ts';

export { compareStrength };

/**
 * What one principal may see of one dataset, after combining every applicable policy. The rules
 * (docs/policies.md) are order-independent: every step is a set operation or picks by a total
 * order (transform strength, then policy name), never by creation order.
 */
export interface EffectiveDatasetPolicy {
  readonly dataset: Dataset;
  /** The caller may know the dataset exists (list, describe). Invisible = answered like nonexistent. */
  readonly visible: boolean;
  /** The caller may select from it (at least one column). */
  readonly readable: boolean;
  readonly columns: readonly EffectiveColumn[];
  readonly rowFilters: readonly RowFilter[];
  /** Policies that shaped this result, sorted. */
  readonly policies: readonly string[];
  /** Why the dataset is not readable, when it is not. */
  readonly denial?: string;
}

export type ColumnAccess = 'clear' | 'masked' | 'hidden';

export interface MaskLayer {
  readonly transform: TransformSpec;
  readonly when?: string;
  readonly policy: string;
}

export interface EffectiveColumn {
  readonly column: DatasetColumn;
  readonly access: ColumnAccess;
  /**
   * For masked columns: conditional layers first (strongest first), then at most one unconditional
   * layer; a cell takes the first layer whose condition is not false, else the raw value.
   */
  readonly masks: readonly MaskLayer[];
  /** Policies behind the column's access (grants, hides, denies or masks). */
  readonly policies: readonly string[];
  readonly reason: string;
}

export interface RowFilter {
  readonly predicate: string;
  readonly policy: string;
}

export function subjectMatches(subjects: SubjectSelector, principal: Principal): boolean {
  const inGroup = (groups: readonly string[] | undefined): boolean => (groups ?? []).some((g) => principal.groups.includes(g));
  if (subjects.except !== undefined && ((subjects.except.users ?? []).includes(principal.user) || inGroup(subjects.except.groups))) return false;
  const named = subjects.users !== undefined || subjects.groups !== undefined || subjects.everyone === true;
  const byName = subjects.everyone === true || (subjects.users ?? []).includes(principal.user) || inGroup(subjects.groups);
  if (named && !byName) return false;
  for (const [key, accepted] of Object.entries(subjects.attributes ?? {})) {
    const held = principal.attributes[key] ?? [];
    const ok = accepted.includes('*') ? held.length > 0 : held.some((v) => accepted.includes(v));
    if (!ok) return false;
  }
  return true;
}

export function isInForce(policy: PolicyDefinition, now: Date): boolean {
  if (!policy.enabled) return false;
  const t = now.getTime();
  if (policy.validFrom !== undefined && t < Date.parse(policy.validFrom)) return false;
  if (policy.validUntil !== undefined && t >= Date.parse(policy.validUntil)) return false;
  return true;
}

/** How a resource selector covers a dataset: all of it, some columns, or nothing. */
type Coverage = { kind: 'dataset' } | { kind: 'columns'; columns: ReadonlySet<string> } | { kind: 'none' };

function coverage(resource: ResourceSelector, dataset: Dataset): Coverage {
  if ('database' in resource) return resource.database === dataset.database ? { kind: 'dataset' } : { kind: 'none' };
  if ('dataset' in resource) return resource.dataset === fullName(dataset) ? { kind: 'dataset' } : { kind: 'none' };
  if (dataset.tags.some((t) => tagMatches(resource.tag, t))) return { kind: 'dataset' };
  const columns = dataset.columns.filter((c) => c.tags.some((t) => tagMatches(resource.tag, t))).map((c) => c.name);
  return columns.length > 0 ? { kind: 'columns', columns: new Set(columns) } : { kind: 'none' };
}

function coversColumn(c: Coverage, column: string): boolean {
  return c.kind === 'dataset' || (c.kind === 'columns' && c.columns.has(column));
}

function combinedCoverage(policy: PolicyDefinition, dataset: Dataset): Coverage {
  const columns = new Set<string>();
  for (const resource of policy.resources) {
    const c = coverage(resource, dataset);
    if (c.kind === 'dataset') return c;
    if (c.kind === 'columns') for (const name of c.columns) columns.add(name);
  }
  return columns.size > 0 ? { kind: 'columns', columns } : { kind: 'none' };
}

function columnTags(dataset: Dataset, column: DatasetColumn): readonly string[] {
  return [...dataset.tags, ...column.tags];
}

function selects(selector: { columns?: readonly string[]; tags?: readonly string[] }, dataset: Dataset, column: DatasetColumn): boolean {
  return (selector.columns ?? []).includes(column.name) || anyTagMatches(selector.tags ?? [], columnTags(dataset, column));
}

function compareLayers(a: MaskLayer, b: MaskLayer): number {
  return (
    compareStrength(a.transform, b.transform) ||
    (a.when === undefined ? 0 : 1) - (b.when === undefined ? 0 : 1) ||
    a.transform.text.localeCompare(b.transform.text) ||
    a.policy.localeCompare(b.policy) ||
    (a.when ?? '').localeCompare(b.when ?? '')
  );
}

/** Orders the mask rules on one column into the layers a cell is evaluated against. */
export function maskLayers(rules: readonly MaskLayer[]): MaskLayer[] {
  const sorted = [...rules].sort(compareLayers);
  const base = sorted.find((l) => l.when === undefined);
  // Conditional rules weaker than the unconditional one can never show less; they are dropped.
  const conditional = sorted.filter((l) => l.when !== undefined && (base === undefined || compareStrength(l.transform, base.transform) < 0));
  return base === undefined ? conditional : [...conditional, base];
}

export function resolveEffectivePolicy(
  principal: Principal,
  dataset: Dataset,
  policies: readonly PolicyDefinition[],
  now: Date,
): EffectiveDatasetPolicy {
  const applicable = policies
    .filter((p) => isInForce(p, now) && subjectMatches(p.subjects, principal))
    .map((p) => ({ policy: p, coverage: combinedCoverage(p, dataset) }))
    .filter((a) => a.coverage.kind !== 'none')
    .sort((a, b) => a.policy.name.localeCompare(b.policy.name));

  const grants = applicable.filter((a) => a.policy.effect === 'grant');
  const denies = applicable.filter((a) => a.policy.effect === 'deny');
  const restrictions = applicable.filter((a) => a.policy.effect !== 'deny');
  const selectGrants = grants.filter((a) => a.policy.actions.includes('select'));
  const describeGrants = grants.filter((a) => a.policy.actions.includes('describe') || a.policy.actions.includes('select'));
  const datasetDenies = (action: 'select' | 'describe') =>
    denies.filter((a) => a.coverage.kind === 'dataset' && a.policy.actions.includes(action));

  const describeDenied = datasetDenies('describe');
  const visible = describeGrants.length > 0 && describeDenied.length === 0;
  const selectDenied = datasetDenies('select');
  const shaping = new Set<string>();

  const columns: EffectiveColumn[] = dataset.columns.map((column) => {
    const granting = selectGrants.filter((a) => coversColumn(a.coverage, column.name)).map((a) => a.policy.name);
    const denying = denies
      .filter((a) => a.policy.actions.includes('select') && coversColumn(a.coverage, column.name))
      .map((a) => a.policy.name);
    const hiding = restrictions.filter((a) => a.policy.hide !== undefined && selects(a.policy.hide, dataset, column)).map((a) => a.policy.name);
    if (granting.length === 0) return { column, access: 'hidden', masks: [], policies: [], reason: 'no policy grants this column' };
    if (denying.length > 0) return { column, access: 'hidden', masks: [], policies: denying, reason: `denied by ${denying.join(', ')}` };
    if (hiding.length > 0) return { column, access: 'hidden', masks: [], policies: hiding, reason: `hidden by ${hiding.join(', ')}` };
    const rules: MaskLayer[] = [];
    for (const { policy } of restrictions) {
      for (const rule of policy.masks ?? []) {
        if (selects(rule, dataset, column)) rules.push(layerOf(rule, policy.name));
      }
    }
    const layers = maskLayers(rules);
    if (layers.length === 0) return { column, access: 'clear', masks: [], policies: granting, reason: `granted by ${granting.join(', ')}` };
    const maskPolicies = [...new Set(layers.map((l) => l.policy))];
    return { column, access: 'masked', masks: layers, policies: [...new Set([...granting, ...maskPolicies])], reason: `masked by ${maskPolicies.join(', ')}` };
  });

  const readableColumns = columns.filter((c) => c.access !== 'hidden');
  const readable = selectDenied.length === 0 && readableColumns.length > 0;
  const rowFilters: RowFilter[] = restrictions
    .filter((a) => a.policy.rowFilter !== undefined)
    .map((a) => ({ predicate: a.policy.rowFilter as string, policy: a.policy.name }));

  if (readable) {
    for (const c of columns) for (const p of c.policies) shaping.add(p);
    for (const f of rowFilters) shaping.add(f.policy);
  }
  let denial: string | undefined;
  if (!readable) {
    if (selectDenied.length > 0) denial = `denied by ${selectDenied.map((a) => a.policy.name).join(', ')}`;
    else if (selectGrants.length === 0) denial = 'no policy grants select';
    else denial = 'every column is hidden';
  }
  return {
    dataset,
    visible: visible || readable,
    readable,
    columns,
    rowFilters: readable ? rowFilters : [],
    policies: [...(readable ? shaping : new Set(selectDenied.map((a) => a.policy.name)))].sort(),
    ...(denial === undefined ? {} : { denial }),
  };
}

function layerOf(rule: MaskRule, policy: string): MaskLayer {
  return { transform: parseTransform(rule.transform), ...(rule.when === undefined ? {} : { when: rule.when }), policy };
}

/**
 * Every (column, transform) some policy could mask this dataset's cells with, for anyone, at any
 * time: the masks of every non-deny policy covering the dataset (subjects and validity windows
 * ignored). Transforms that cannot be parsed are skipped (stored policies were validated).
 */
export function possibleMasks(dataset: Dataset, policies: readonly PolicyDefinition[]): { column: DatasetColumn; transform: TransformSpec }[] {
  const found = new Map<string, { column: DatasetColumn; transform: TransformSpec }>();
  for (const policy of policies) {
    if (policy.effect === 'deny' || (policy.masks ?? []).length === 0 || combinedCoverage(policy, dataset).kind === 'none') continue;
    for (const rule of policy.masks ?? []) {
      let transform: TransformSpec;
      try {
        transform = parseTransform(rule.transform);
      } catch {
        continue;
      }
      for (const column of dataset.columns) {
        if (selects(rule, dataset, column)) found.set(`${column.name}\u0000${transform.text}`, { column, transform });
      }
    }
  }
  return [...found.values()];
}
