import { AlreadyExistsError, DatasetNotFoundError } from '../errors/index.ts';
import { bumpGeneration, nowIso, type SqliteDatabase } from '../store/index.ts';
import { fullName, type Dataset } from './dataset-types.ts';

type StoredDataset = Omit<Dataset, 'createdAt' | 'updatedAt'>;

/** Datasets in the control database. Validation happens in the catalog service, not here. */
export class DatasetStore {
  constructor(private readonly db: SqliteDatabase) {}

  list(): Dataset[] {
    const rows = this.db.prepare('SELECT definition, created_at, updated_at FROM datasets ORDER BY full_name').all() as Row[];
    return rows.map(fromRow);
  }

  find(name: string): Dataset | undefined {
    const row = this.db.prepare('SELECT definition, created_at, updated_at FROM datasets WHERE full_name = ?').get(name) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  get(name: string): Dataset {
    const dataset = this.find(name);
    if (dataset === undefined) throw new DatasetNotFoundError(name);
    return dataset;
  }

  insert(dataset: StoredDataset): Dataset {
    const name = fullName(dataset);
    const now = nowIso();
    this.db.transaction(() => {
      if (this.find(name) !== undefined) throw new AlreadyExistsError(`dataset ${name}`);
      this.db
        .prepare('INSERT INTO datasets (full_name, database_name, name, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(name, dataset.database, dataset.name, JSON.stringify(dataset), now, now);
      bumpGeneration(this.db);
    })();
    return this.get(name);
  }

  update(name: string, change: (current: Dataset) => StoredDataset): Dataset {
    this.db.transaction(() => {
      const current = this.get(name);
      const next = change(current);
      this.db.prepare('UPDATE datasets SET definition = ?, updated_at = ? WHERE full_name = ?').run(JSON.stringify(next), nowIso(), name);
      bumpGeneration(this.db);
    })();
    return this.get(name);
  }

  delete(name: string): void {
    this.db.transaction(() => {
      const result = this.db.prepare('DELETE FROM datasets WHERE full_name = ?').run(name);
      if (result.changes === 0) throw new DatasetNotFoundError(name);
      bumpGeneration(this.db);
    })();
  }
}

interface Row {
  definition: string;
  created_at: string;
  updated_at: string;
}

function fromRow(row: Row): Dataset {
  const stored = JSON.parse(row.definition) as StoredDataset;
  return { ...stored, createdAt: row.created_at, updatedAt: row.updated_at };
}
