import type { ClassificationDecision, ClassificationDecisions } from '../catalog/index.ts';
import type { SqlStore } from './sql-store.ts';

/** Stewards' decisions on classification proposals (table classification_decisions). */
export class SqlClassificationDecisions implements ClassificationDecisions {
  constructor(private readonly db: SqlStore) {}

  async of(dataset: string): Promise<ReadonlyMap<string, string>> {
    const rows = await this.db.all<{ column_name: string; tag: string; decision: string }>('SELECT column_name, tag, decision FROM classification_decisions WHERE dataset = ?', [dataset]);
    return new Map(rows.map((r) => [`${r.column_name}\u0000${r.tag}`, r.decision]));
  }

  async record(dataset: string, decisions: readonly ClassificationDecision[], by: string, at: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const d of decisions) {
        await tx.run(
          `INSERT INTO classification_decisions (dataset, column_name, tag, decision, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (dataset, column_name, tag) DO UPDATE SET decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
          [dataset, d.column, d.tag, d.decision, by, at],
        );
      }
    });
  }
}
