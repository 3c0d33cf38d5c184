export type DatasetFormat = 'csv' | 'parquet' | 'json';

export interface CsvOptions {
  readonly header?: boolean;
  readonly delimiter?: string;
  readonly nullString?: string;
}

export interface DatasetColumn {
  readonly name: string;
  /** DuckDB SQL type, as inferred at registration (or overridden). */
  readonly type: string;
  readonly tags: readonly string[];
  readonly description?: string;
  /** True for Hive-style key=value directory columns. */
  readonly partition?: boolean;
}

export interface Dataset {
  readonly database: string;
  readonly name: string;
  /** Storage location as registered: a file, a glob, or a directory, relative to a storage root. */
  readonly location: string;
  readonly format: DatasetFormat;
  readonly csv: CsvOptions;
  readonly description: string;
  readonly owner: string;
  /** Who curates the dataset's documentation and classification (may differ from the owner). */
  readonly steward?: string;
  readonly certification?: Certification;
  readonly tags: readonly string[];
  readonly columns: readonly DatasetColumn[];
  /** Built-in datasets (veil_system.*) are served from Veil's own tables, not from storage. */
  readonly system?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const CERTIFICATION_STATUSES = ['draft', 'validated', 'deprecated'] as const;
export type CertificationStatus = (typeof CERTIFICATION_STATUSES)[number];

/** Whether people should build on the dataset, said by whom and when. */
export interface Certification {
  readonly status: CertificationStatus;
  readonly by: string;
  readonly at: string;
  readonly note?: string;
}

export function fullName(dataset: Pick<Dataset, 'database' | 'name'>): string {
  return `${dataset.database}.${dataset.name}`;
}

/** Identifiers Veil accepts for databases, datasets, columns: what every SQL tool can type unquoted. */
export const NAME_PATTERN = /^[a-z_][a-z0-9_]{0,127}$/;
/** Tags: dot-separated namespaces, e.g. pii.email */
export const TAG_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
