import type { ClassificationDecision, ClassificationDecisions } from '../catalog/index.ts';
import type { SqliteDatabase } from '../store/index.ts';

/** Stewards' decisions on classification proposals in a home's control database (table classification_decisions). */
export class SqliteClassificationDecisions implements ClassificationDecisions {
  constructor(private readonly db: SqliteDatabase) {}

  async of(dataset: string): Promise<ReadonlyMap<string, string>> {
    const rows = this.db.prepare('SELECT column_name, tag, decision FROM classification_decisions WHERE dataset = ?').all(dataset) as { column_name: string; tag: string; decision: string }[];
    return new Map(rows.map((r) => [`${r.column_name}\u0000${r.tag}`, r.decision]));
  }

  async record(dataset: string, decisions: readonly ClassificationDecision[], by: string, at: string): Promise<void> {
    const store = this.db.prepare(
      `INSERT INTO classification_decisions (dataset, column_name, tag, decision, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(dataset, column_name, tag) DO UPDATE SET decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
    );
    this.db.transaction(() => {
      for (const d of decisions) store.run(dataset, d.column, d.tag, d.decision, by, at);
    })();
  }
}
