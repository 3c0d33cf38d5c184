import { classifyColumns, type ClassificationProposal } from '../classification/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { sqlIdentifier } from '../engine/index.ts';
import type { SqliteDatabase } from '../store/index.ts';
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

export async function classifyDataset(catalog: CatalogService, engine: DuckDbEngine, db: SqliteDatabase, name: string): Promise<DatasetClassification> {
  const dataset = catalog.datasets.get(name);
  if (dataset.system) throw new InvalidRequestError('system datasets are not classified');
  const columns = dataset.columns;
  const select = columns.map((c) => `CAST(${sqlIdentifier(c.name)} AS VARCHAR)`).join(', ');
  const rows = await engine.runInternal<(string | null)[]>(`SELECT ${select} FROM ${sourceViewName(dataset)} USING SAMPLE ${CLASSIFICATION_SAMPLE_ROWS} ROWS`);
  const proposals = classifyColumns(columns.map((c, i) => ({ name: c.name, type: c.type, values: rows.map((r) => r[i] ?? null) })));
  const decisions = decisionsOf(db, fullName(dataset));
  return {
    dataset: fullName(dataset),
    sampled_rows: rows.length,
    proposals: proposals.map((p) => ({ ...p, status: statusOf(dataset, decisions, p) })),
  };
}

export function decideClassification(
  catalog: CatalogService,
  db: SqliteDatabase,
  name: string,
  decisions: { accept?: readonly { column: string; tag: string }[]; reject?: readonly { column: string; tag: string }[] },
  by: string,
): void {
  const dataset = catalog.datasets.get(name);
  const all = [...(decisions.accept ?? []).map((d) => ({ ...d, decision: 'accepted' })), ...(decisions.reject ?? []).map((d) => ({ ...d, decision: 'rejected' }))];
  for (const d of all) {
    if (!dataset.columns.some((c) => c.name === d.column)) throw new InvalidRequestError(`column ${d.column} is not in ${fullName(dataset)}`);
  }
  const store = db.prepare(
    `INSERT INTO classification_decisions (dataset, column_name, tag, decision, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(dataset, column_name, tag) DO UPDATE SET decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
  );
  const now = new Date().toISOString();
  const columns: Record<string, { add: string[]; remove: string[] }> = {};
  for (const d of all) {
    const change = (columns[d.column] ??= { add: [], remove: [] });
    (d.decision === 'accepted' ? change.add : change.remove).push(d.tag);
  }
  // Tag first (it validates tag names), then record the decisions.
  catalog.tag(fullName(dataset), { columns });
  db.transaction(() => {
    for (const d of all) store.run(fullName(dataset), d.column, d.tag, d.decision, by, now);
  })();
}

function decisionsOf(db: SqliteDatabase, dataset: string): Map<string, string> {
  const rows = db.prepare('SELECT column_name, tag, decision FROM classification_decisions WHERE dataset = ?').all(dataset) as { column_name: string; tag: string; decision: string }[];
  return new Map(rows.map((r) => [`${r.column_name}\u0000${r.tag}`, r.decision]));
}

function statusOf(dataset: Dataset, decisions: Map<string, string>, p: ClassificationProposal): ProposalStatus {
  if (dataset.columns.find((c) => c.name === p.column)?.tags.includes(p.tag)) return 'accepted';
  return decisions.get(`${p.column}\u0000${p.tag}`) === 'rejected' ? 'rejected' : 'proposed';
}
