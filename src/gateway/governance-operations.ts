import { fullName, type Dataset } from '../catalog/index.ts';
import { chunkRowsJson, sqlIdentifier } from '../engine/index.ts';
import { DatasetNotFoundError, InvalidRequestError, isVeilError } from '../errors/index.ts';
import { principalOf, type Principal } from '../identity/index.ts';
import {
  checkPolicyDocuments,
  policyToAuthored,
  resolveEffectivePolicy,
  type EffectiveDatasetPolicy,
  type PolicyChange,
  type PolicyDefinition,
  type PolicyProblem,
} from '../policy/index.ts';
import type { ExplainedDataset } from '../query/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import type { Authorization } from './authorization.ts';
import type { DataOperations } from './data-operations.ts';
import { transformText } from './presenters.ts';
import type { RequestScope } from './request-scope.ts';

/** How one user may read one dataset, in words a reviewer compares: access per column and filters. */
interface AccessShape {
  readonly visible: boolean;
  readonly readable: boolean;
  /** column → "clear", "hidden" or "masked: <transform>" */
  readonly columns: Readonly<Record<string, string>>;
  readonly rowFilters: readonly string[];
}

/** What a change would do to one user's access to one dataset. */
export interface AccessImpact {
  readonly user: string;
  readonly dataset: string;
  /** e.g. "gains access", "loses access", "access changes" */
  readonly summary: string;
  readonly before: { readonly visible: boolean; readonly readable: boolean };
  readonly after: { readonly visible: boolean; readonly readable: boolean };
  readonly columns: readonly { readonly column: string; readonly before: string; readonly after: string }[];
  readonly rowFilters: { readonly before: readonly string[]; readonly after: readonly string[] } | null;
}

export interface PolicyChangePreview {
  /** False when the text has problems: nothing can be applied until they are fixed. */
  readonly valid: boolean;
  readonly problems: readonly PolicyProblem[];
  readonly policies: { readonly created: readonly string[]; readonly updated: readonly string[]; readonly unchanged: readonly string[]; readonly deleted: readonly string[] };
  readonly impact: readonly AccessImpact[];
  /** The users (stored in Veil) and datasets the impact was computed over. */
  readonly considered: { readonly users: number; readonly datasets: number };
}

export interface ViewAs {
  readonly user: string;
  readonly dataset: string;
  readonly visible: boolean;
  readonly readable: boolean;
  readonly denial: string | null;
  /** Exactly what `/v1/explain` answers that user for `SELECT * FROM <dataset>`. */
  readonly explanation: ExplainedDataset | null;
  readonly preview: { readonly columns: readonly string[]; readonly rows: readonly unknown[][] } | null;
  /** Why no preview rows are shown, when they are not. */
  readonly previewWithheld: string | null;
}

const VIEW_AS_PREVIEW_ROWS = 20;
const MAX_IMPACT_ENTRIES = 2000;

/**
 * Policy governance for administrators: what a policy change would do before it is applied, the
 * history of changes, and one user's view of a dataset as another user sees it ("view as").
 */
export class GovernanceOperations {
  constructor(
    private readonly runtime: VeilRuntime,
    private readonly authorization: Authorization,
    private readonly data: DataOperations,
  ) {}

  history(scope: RequestScope, options: { policy?: string; limit?: number; before?: number }): Promise<PolicyChange[]> {
    scope.describe('admin', `policy history${options.policy === undefined ? '' : ` of ${options.policy}`}`);
    this.authorization.requireAdmin(scope);
    return this.runtime.policies.history(options);
  }

  /**
   * Validates a policy file and computes, without applying it, which users' access to which
   * datasets would change: resolution runs on the current and on the proposed policy set with the
   * same resolver that enforces them, for every user Veil stores and every dataset.
   */
  async previewChange(scope: RequestScope, text: string, options: { prune: boolean }): Promise<PolicyChangePreview> {
    scope.describe('admin', `preview policy change (${text.length} characters)`);
    this.authorization.requireAdmin(scope);
    const { policies: proposed, problems } = checkPolicyDocuments(text);
    const current = await this.runtime.policies.list();
    const currentByName = new Map(current.map((p) => [p.name, p] as const));
    const proposedNames = new Set(proposed.map((p) => p.name));
    const created: string[] = [];
    const updated: string[] = [];
    const unchanged: string[] = [];
    for (const p of proposed) {
      const existing = currentByName.get(p.name);
      if (existing === undefined) created.push(p.name);
      else if (JSON.stringify(policyToAuthored(existing)) !== JSON.stringify(policyToAuthored(p))) updated.push(p.name);
      else unchanged.push(p.name);
    }
    const deleted = options.prune ? current.filter((p) => !proposedNames.has(p.name)).map((p) => p.name) : [];
    const valid = problems.length === 0 && proposed.length > 0;
    const after: PolicyDefinition[] = options.prune ? [...proposed] : [...current.filter((p) => !proposedNames.has(p.name)), ...proposed];
    const users = (await this.runtime.users.list()).map(principalOf);
    const datasets = [...(await this.runtime.access.snapshot()).datasets.values()];
    const impact = valid ? accessImpact(users, datasets, current, after, this.runtime.access.now()) : [];
    return {
      valid,
      problems: proposed.length === 0 && problems.length === 0 ? [{ message: 'the text holds no policy', line: 1, column: 1 }] : problems,
      policies: { created, updated, unchanged, deleted },
      impact,
      considered: { users: users.length, datasets: datasets.length },
    };
  }

  /**
   * One user's view of a dataset, for an administrator: the explanation the user would get, and
   * their preview rows, which the administrator sees only when they reveal nothing the
   * administrator could not read themselves (no row filter on the administrator, and every column
   * the user reads is clear to the administrator). Audited as the administrator's preview.
   */
  async viewAs(scope: RequestScope, dataset: string, user: string): Promise<ViewAs> {
    scope.describe('preview', `view ${dataset} as ${user}`);
    const viewer = scope.requirePrincipal();
    this.authorization.requireAdmin(scope);
    const subject = principalOf(await this.runtime.users.get(user));
    const name = dataset.toLowerCase();
    // The administrator must know the dataset exists: otherwise it answers like a missing one.
    const own = await this.runtime.access.effective(viewer, name);
    scope.datasets = [fullName(own.dataset)];
    let theirs: EffectiveDatasetPolicy;
    try {
      theirs = await this.runtime.access.effective(subject, name);
    } catch (error) {
      if (!(error instanceof DatasetNotFoundError)) throw error;
      return { user, dataset: fullName(own.dataset), visible: false, readable: false, denial: `${user} cannot see this dataset`, explanation: null, preview: null, previewWithheld: null };
    }
    const base = { user, dataset: fullName(theirs.dataset), visible: true, readable: theirs.readable, denial: theirs.denial ?? null };
    if (!theirs.readable) return { ...base, explanation: null, preview: null, previewWithheld: null };
    const statement = `SELECT * FROM ${sqlIdentifier(theirs.dataset.database)}.${sqlIdentifier(theirs.dataset.name)}`;
    const explanation = (await this.runtime.queries.explain(subject, statement)).datasets[0] ?? null;
    const withheld = previewWithheld(own, theirs, viewer.user, user);
    if (withheld !== null) return { ...base, explanation, preview: null, previewWithheld: withheld };
    const prepared = await this.runtime.queries.prepare(subject, `${statement} LIMIT ${VIEW_AS_PREVIEW_ROWS}`);
    await this.data.startDelivery(scope, prepared);
    const stream = await this.data.results.open(prepared);
    const rows: unknown[][] = [];
    try {
      for (let chunk = await stream.nextChunk(); chunk !== null && rows.length < VIEW_AS_PREVIEW_ROWS; chunk = await stream.nextChunk()) rows.push(...chunkRowsJson(chunk));
    } finally {
      stream.close();
    }
    this.data.delivered(scope, rows.length, undefined);
    return { ...base, explanation, preview: { columns: stream.columns.map((c) => c.name), rows: rows.slice(0, VIEW_AS_PREVIEW_ROWS) }, previewWithheld: null };
  }
}

/** Why the viewer may not see the subject's rows, or null when they reveal nothing new to the viewer. */
function previewWithheld(own: EffectiveDatasetPolicy, theirs: EffectiveDatasetPolicy, viewer: string, user: string): string | null {
  const reason = `${user}'s rows are not shown: they could reveal values you (${viewer}) may not read yourself`;
  if (!own.readable || own.rowFilters.length > 0) return `${reason} (rows that your own policies filter out)`;
  for (const column of theirs.columns) {
    if (column.access === 'hidden') continue;
    const mine = own.columns.find((c) => c.column.name === column.column.name);
    if (mine?.access !== 'clear') return `${reason} (column ${column.column.name})`;
  }
  return null;
}

function shapeOf(effective: EffectiveDatasetPolicy): AccessShape {
  const columns: Record<string, string> = {};
  for (const c of effective.columns) {
    columns[c.column.name] = !effective.readable || c.access === 'hidden' ? 'hidden' : c.access === 'clear' ? 'clear' : `masked: ${transformText(c.masks) ?? ''}`;
  }
  return { visible: effective.visible, readable: effective.readable, columns, rowFilters: effective.rowFilters.map((f) => f.predicate).sort() };
}

function accessImpact(users: readonly Principal[], datasets: readonly Dataset[], before: readonly PolicyDefinition[], after: readonly PolicyDefinition[], now: Date): AccessImpact[] {
  const impact: AccessImpact[] = [];
  for (const user of users) {
    for (const dataset of datasets) {
      if (impact.length >= MAX_IMPACT_ENTRIES) return impact;
      let old: AccessShape;
      let next: AccessShape;
      try {
        old = shapeOf(resolveEffectivePolicy(user, dataset, before, now));
        next = shapeOf(resolveEffectivePolicy(user, dataset, after, now));
      } catch (error) {
        if (isVeilError(error)) throw new InvalidRequestError(`the policies cannot be resolved for ${user.user} on ${fullName(dataset)}: ${error.message}`);
        throw error;
      }
      const columns = Object.keys({ ...old.columns, ...next.columns })
        .filter((c) => old.columns[c] !== next.columns[c])
        .map((c) => ({ column: c, before: old.columns[c] ?? 'hidden', after: next.columns[c] ?? 'hidden' }));
      const filtersChanged = JSON.stringify(old.rowFilters) !== JSON.stringify(next.rowFilters);
      if (columns.length === 0 && !filtersChanged && old.visible === next.visible && old.readable === next.readable) continue;
      impact.push({
        user: user.user,
        dataset: fullName(dataset),
        summary: summarize(old, next),
        before: { visible: old.visible, readable: old.readable },
        after: { visible: next.visible, readable: next.readable },
        columns,
        rowFilters: filtersChanged ? { before: old.rowFilters, after: next.rowFilters } : null,
      });
    }
  }
  return impact;
}

function summarize(old: AccessShape, next: AccessShape): string {
  if (!old.readable && next.readable) return 'gains read access';
  if (old.readable && !next.readable) return next.visible ? 'loses read access (still listed)' : 'loses all access';
  if (!old.visible && next.visible) return 'may now see that the dataset exists';
  if (old.visible && !next.visible) return 'no longer sees the dataset';
  return 'access changes';
}
