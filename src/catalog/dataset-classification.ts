import { classifyColumns, type ClassificationProposal } from '../classification/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { sqlIdentifier } from '../engine/index.ts';
import type { CatalogService } from './catalog-service.ts';
import { fullName, type Dataset } from './dataset-types.ts';
import { sourceViewName } from './source-relation.ts';

/**
 * Classification of a registered dataset: a sample of its raw rows (read internally, never
 * returned) goes through the classifier; proposals come back with the stewards' decisions on
 * them. Accepting a proposal tags the column, so policies written against the tag apply at once;
 * rejecting it records the decision, and the proposal is not made as new again.
 */
export type ProposalStatus = 'proposed' | 'accepted' | 'rejected';

export interface DatasetClassification {
  readonly dataset: string;
  readonly sampled_rows: number;
  readonly proposals: readonly (ClassificationProposal & { readonly status: ProposalStatus })[];
}

export const CLASSIFICATION_SAMPLE_ROWS = 500;

export interface ClassificationDecision {
  readonly column: string;
  readonly tag: string;
  readonly decision: 'accepted' | 'rejected';
}

/** Stewards' decisions on proposals (src/store/classification-decisions.ts). */
export interface ClassificationDecisions {
  /** A dataset's decisions, by `column \u0000 tag`. */
  of(dataset: string): Promise<ReadonlyMap<string, string>>;
  record(dataset: string, decisions: readonly ClassificationDecision[], by: string, at: string): Promise<void>;
}

export async function classifyDataset(catalog: CatalogService, engine: DuckDbEngine, decisionStore: ClassificationDecisions, name: string): Promise<DatasetClassification> {
  const dataset = await catalog.datasets.get(name);
  if (dataset.system) throw new InvalidRequestError('system datasets are not classified');
  const columns = dataset.columns;
  const select = columns.map((c) => `CAST(${sqlIdentifier(c.name)} AS VARCHAR)`).join(', ');
  const rows = await engine.runInternal<(string | null)[]>(`SELECT ${select} FROM ${sourceViewName(dataset)} USING SAMPLE ${CLASSIFICATION_SAMPLE_ROWS} ROWS`);
  const proposals = classifyColumns(columns.map((c, i) => ({ name: c.name, type: c.type, values: rows.map((r) => r[i] ?? null) })));
  const decisions = await decisionStore.of(fullName(dataset));
  return {
    dataset: fullName(dataset),
    sampled_rows: rows.length,
    proposals: proposals.map((p) => ({ ...p, status: statusOf(dataset, decisions, p) })),
  };
}

export async function decideClassification(
  catalog: CatalogService,
  decisionStore: ClassificationDecisions,
  name: string,
  decisions: { accept?: readonly { column: string; tag: string }[]; reject?: readonly { column: string; tag: string }[] },
  by: string,
): Promise<void> {
  const dataset = await catalog.datasets.get(name);
  const all: ClassificationDecision[] = [
    ...(decisions.accept ?? []).map((d) => ({ ...d, decision: 'accepted' as const })),
    ...(decisions.reject ?? []).map((d) => ({ ...d, decision: 'rejected' as const })),
  ];
  for (const d of all) {
    if (!dataset.columns.some((c) => c.name === d.column)) throw new InvalidRequestError(`column ${d.column} is not in ${fullName(dataset)}`);
  }
  const now = new Date().toISOString();
  const columns: Record<string, { add: string[]; remove: string[] }> = {};
  for (const d of all) {
    const change = (columns[d.column] ??= { add: [], remove: [] });
    (d.decision === 'accepted' ? change.add : change.remove).push(d.tag);
  }
  // Tag first (it validates tag names), then record the decisions.
  await catalog.tag(fullName(dataset), { columns });
  await decisionStore.record(fullName(dataset), all, by, now);
}

function statusOf(dataset: Dataset, decisions: ReadonlyMap<string, string>, p: ClassificationProposal): ProposalStatus {
  if (dataset.columns.find((c) => c.name === p.column)?.tags.includes(p.tag)) return 'accepted';
  return decisions.get(`${p.column}\u0000${p.tag}`) === 'rejected' ? 'rejected' : 'proposed';
}
