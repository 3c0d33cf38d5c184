import type { Dataset } from './dataset-types.ts';

export type StoredDataset = Omit<Dataset, 'createdAt' | 'updatedAt'>;

/**
 * Where datasets live (docs/scale-out.md): the control store, SQLite or PostgreSQL
 * (src/store/dataset-repository.ts). Validation happens in the catalog service, not here. Every
 * write bumps the generation.
 */
export interface DatasetRepository {
  list(): Promise<Dataset[]>;
  find(name: string): Promise<Dataset | undefined>;
  /** DatasetNotFoundError when there is none. */
  get(name: string): Promise<Dataset>;
  /** AlreadyExistsError when the name is taken. */
  insert(dataset: StoredDataset): Promise<Dataset>;
  /** Replaces a dataset with `change(current)`, in one transaction. */
  update(name: string, change: (current: Dataset) => StoredDataset): Promise<Dataset>;
  delete(name: string): Promise<void>;
}
