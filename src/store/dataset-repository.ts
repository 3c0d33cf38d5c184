import { fullName, type Dataset, type DatasetRepository, type StoredDataset } from '../catalog/index.ts';
import { AlreadyExistsError, DatasetNotFoundError } from '../errors/index.ts';
import { bumpGeneration, nowIso, type SqlExecutor, type SqlStore } from './sql-store.ts';

/** Datasets in the control store (table datasets; the definition as JSON). */
export class SqlDatasetRepository implements DatasetRepository {
  constructor(private readonly db: SqlStore) {}

  async list(): Promise<Dataset[]> {
    return (await this.db.all<Row>('SELECT definition, created_at, updated_at FROM datasets ORDER BY full_name')).map(fromRow);
  }

  find(name: string): Promise<Dataset | undefined> {
    return findIn(this.db, name);
  }

  async get(name: string): Promise<Dataset> {
    return getIn(this.db, name);
  }

  async insert(dataset: StoredDataset): Promise<Dataset> {
    const name = fullName(dataset);
    const now = nowIso();
    return this.db.transaction(async (tx) => {
      if ((await findIn(tx, name)) !== undefined) throw new AlreadyExistsError(`dataset ${name}`);
      await tx.run('INSERT INTO datasets (full_name, database_name, name, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
        name,
        dataset.database,
        dataset.name,
        JSON.stringify(dataset),
        now,
        now,
      ]);
      await bumpGeneration(tx);
      return getIn(tx, name);
    });
  }

  async update(name: string, change: (current: Dataset) => StoredDataset): Promise<Dataset> {
    return this.db.transaction(async (tx) => {
      const next = change(await getIn(tx, name));
      await tx.run('UPDATE datasets SET definition = ?, updated_at = ? WHERE full_name = ?', [JSON.stringify(next), nowIso(), name]);
      await bumpGeneration(tx);
      return getIn(tx, name);
    });
  }

  async delete(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM datasets WHERE full_name = ?', [name])) === 0) throw new DatasetNotFoundError(name);
      await bumpGeneration(tx);
    });
  }
}

interface Row {
  definition: string;
  created_at: string;
  updated_at: string;
}

async function findIn(db: SqlExecutor, name: string): Promise<Dataset | undefined> {
  const row = await db.get<Row>('SELECT definition, created_at, updated_at FROM datasets WHERE full_name = ?', [name]);
  return row === undefined ? undefined : fromRow(row);
}

async function getIn(db: SqlExecutor, name: string): Promise<Dataset> {
  const dataset = await findIn(db, name);
  if (dataset === undefined) throw new DatasetNotFoundError(name);
  return dataset;
}

function fromRow(row: Row): Dataset {
  const stored = JSON.parse(row.definition) as StoredDataset;
  return { ...stored, createdAt: row.created_at, updatedAt: row.updated_at };
}
