import { InvalidDatasetError, InvalidRequestError, StorageError, VeilError } from '../errors/index.ts';
import { sqlIdentifier, sqlString, type DuckDbEngine } from '../engine/index.ts';
import type { DatasetRepository } from './dataset-store.ts';
import { CERTIFICATION_STATUSES, fullName, NAME_PATTERN, TAG_PATTERN, type CertificationStatus, type CsvOptions, type Dataset, type DatasetColumn, type DatasetFormat } from './dataset-types.ts';
import { DERIVED_SOURCE_ALIAS, derivedKey, DIRECTORY_FILE_PATTERN, readFunctionSql, sourceViewName, type CsvDialect } from './source-relation.ts';
import type { ResolvedLocation, StorageBackend } from './storage.ts';

export interface RegisterDatasetInput {
  /** database.name */
  readonly name: string;
  readonly location: string;
  /** Inferred from the file extension when absent. */
  readonly format?: DatasetFormat;
  readonly csv?: CsvOptions;
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: readonly string[];
  readonly columnTags?: Readonly<Record<string, readonly string[]>>;
  readonly columnDescriptions?: Readonly<Record<string, string>>;
  /** Overrides of inferred types, e.g. { zip: 'VARCHAR' } to keep leading zeros. */
  readonly columnTypes?: Readonly<Record<string, string>>;
}

export interface TagChange {
  /** Tags on the dataset itself (inherited by every column). */
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  /** Per column. */
  readonly columns?: Readonly<Record<string, { readonly add?: readonly string[]; readonly remove?: readonly string[] }>>;
}

/**
 * How a dataset's internal view reads its source: the read_* call, with the registered column types
 * and the sniffed CSV dialect. The columnar cache (src/cache) copies exactly this relation.
 */
export interface SourceRead {
  readonly database: string;
  readonly name: string;
  readonly format: DatasetFormat;
  /** The location as registered (s3:// for S3 datasets). */
  readonly location: string;
  /** The local path or glob DuckDB reads (the mirror's copy for S3). */
  readonly readPath: string;
  /**
   * What the view reads: the read call, or a select over it that adds the dataset's derived columns
   * (masked values computed once per row; see DerivedColumnSource). A columnar copy stores exactly this.
   */
  readonly sql: string;
  /** Derived columns the view has, by `derivedKey(column, transform)`. */
  readonly derived: ReadonlyMap<string, string>;
}

/** A masked value the view computes per row of the source, for scans to read instead (policy/derived-columns.ts). */
export interface SourceDerivedColumn {
  /** `__veil_d_` and a hash of the macros' fingerprint, the column, its type and the transform. */
  readonly name: string;
  readonly column: string;
  /** The transform's canonical text, e.g. mask_show_last(4). */
  readonly transform: string;
  /** Over the source's columns, qualified with DERIVED_SOURCE_ALIAS. */
  readonly sql: string;
}

/** Which derived columns a dataset's view adds, as policies stand now. */
export type DerivedColumnSource = (dataset: Dataset) => Promise<readonly SourceDerivedColumn[]>;

/** What the catalog tells a listener (the columnar cache) about datasets. */
export interface CatalogEvents {
  /** A dataset was registered (directly or by a crawl), and its view created. */
  registered?(name: string): void;
  /** A dataset was dropped. */
  dropped?(name: string): void;
}

/**
 * Registration, description and tagging of datasets, and the internal views that read them.
 * Views are (re)created lazily so that changes made by another process (the CLI) are picked up.
 */
export class CatalogService {
  private readonly viewVersions = new Map<string, string>();
  /** Sniffed CSV dialects by read path and options (see CsvDialect). */
  private readonly dialects = new Map<string, CsvDialect | undefined>();
  /** The source read of every dataset whose view was defined (its view may have failed to bind). */
  private readonly sources = new Map<string, SourceRead>();
  /** What each view reads now: its source's read call, or another relation (a columnar copy). */
  private readonly viewRelations = new Map<string, string>();
  /** Pending view statements per dataset, applied one after another in the order they were asked. */
  private readonly viewChains = new Map<string, Promise<void>>();
  private readonly listeners: CatalogEvents[] = [];
  private derivedColumns: DerivedColumnSource = () => Promise.resolve([]);

  constructor(
    readonly datasets: DatasetRepository,
    readonly storage: StorageBackend,
    private readonly engine: DuckDbEngine,
  ) {}

  async register(input: RegisterDatasetInput): Promise<Dataset> {
    const [database, name] = splitDatasetName(input.name);
    if (database === 'veil_system') throw new InvalidDatasetError('the veil_system database is reserved');
    const format = input.format ?? inferFormat(input.location);
    const csv = input.csv ?? {};
    await this.storage.prepare?.(input.location);
    const location = this.storage.resolve(input.location, DIRECTORY_FILE_PATTERN[format]);
    const inferred = await this.inferColumns(format, readFunctionSql(format, location, csv, undefined));
    const overrides = input.columnTypes ?? {};
    for (const column of Object.keys({ ...overrides, ...input.columnTags, ...input.columnDescriptions })) {
      if (!inferred.some((c) => c.name === column)) throw new InvalidDatasetError(`column ${column} is not in the data`);
    }
    const columns: DatasetColumn[] = inferred.map((column) => {
      const type = overrides[column.name] ?? column.type;
      const description = input.columnDescriptions?.[column.name];
      return {
        name: column.name,
        type,
        tags: validateTags(input.columnTags?.[column.name] ?? []),
        ...(description === undefined ? {} : { description }),
        ...(location.partitionKeys.includes(column.name) ? { partition: true } : {}),
      };
    });
    // Check that the data reads with the final types before storing anything.
    await this.engine.describeQuery(`SELECT * FROM ${readFunctionSql(format, location, csv, columns)}`).catch((error: unknown) => {
      throw new InvalidDatasetError(`the data cannot be read with the given column types: ${errorText(error)}`);
    });
    const dataset = await this.datasets.insert({
      database,
      name,
      location: input.location,
      format,
      csv,
      description: input.description ?? '',
      owner: input.owner ?? '',
      tags: validateTags(input.tags ?? []),
      columns,
    });
    await this.ensureSourceViews();
    for (const listener of this.listeners) listener.registered?.(fullName(dataset));
    return dataset;
  }

  /** Hears of registrations and drops (the columnar cache builds and forgets copies). */
  listen(events: CatalogEvents): void {
    this.listeners.push(events);
  }

  /** Views defined from now on add the derived columns `source` names (set once policies are open). */
  deriveColumnsWith(source: DerivedColumnSource): void {
    this.derivedColumns = source;
  }

  /** How a dataset's view reads its source, once the view exists. */
  sourceRead(name: string): SourceRead | undefined {
    return this.sources.get(name);
  }

  /**
   * Points a dataset's view at `relation` (a columnar copy of its source), or back at its source
   * when undefined. View statements of one dataset apply in the order they were asked, so the last
   * decision wins; the promise settles once this one has applied. A source that can no longer be
   * read leaves no view at all (never a view over an older copy): the query fails with
   * STORAGE_ERROR, and the next one tries again.
   */
  pointView(name: string, relation: string | undefined): Promise<void> {
    const previous = this.viewChains.get(name) ?? Promise.resolve();
    const applied = previous.then(async () => {
      const source = this.sources.get(name);
      if (source === undefined) return;
      const target = relation ?? source.sql;
      if (this.viewRelations.get(name) === target) return;
      const point = async (to: string): Promise<void> => {
        await this.engine.runInternal(`CREATE OR REPLACE VIEW ${sourceViewName(source)} AS SELECT * FROM ${to}`);
        this.viewRelations.set(name, to);
      };
      try {
        await point(target);
        return;
      } catch {
        // A copy that cannot be bound (removed or damaged since it was checked): the source, then.
        if (relation !== undefined) {
          const usable = await point(source.sql).then(
            () => true,
            () => false,
          );
          if (usable) return;
        }
      }
      await this.engine.runInternal(`DROP VIEW IF EXISTS ${sourceViewName(source)}`);
      this.viewRelations.delete(name);
      // The engine's text names server paths: the caller learns only that the files are unreadable.
      throw new StorageError(`the files of ${name} cannot be read`);
    });
    const settled = applied.then(
      () => undefined,
      () => undefined,
    );
    this.viewChains.set(name, settled);
    void settled.then(() => {
      if (this.viewChains.get(name) === settled) this.viewChains.delete(name);
    });
    return applied;
  }

  /**
   * Brings the local copies of remote datasets (S3) up to date before a query reads them. Takes
   * the datasets the query already resolved, so local-only queries cost nothing here.
   */
  async refresh(datasets: readonly Dataset[]): Promise<void> {
    if (this.storage.prepare === undefined) return;
    let missingView = false;
    for (const dataset of datasets) {
      if (dataset.system) continue;
      await this.storage.prepare(dataset.location);
      missingView ||= !this.viewVersions.has(fullName(dataset));
    }
    // A remote dataset whose copy was not there when the views were built gets its view now.
    if (missingView) await this.ensureSourceViews();
  }

  /** Registers a built-in dataset served from an internal table (idempotent). */
  async registerSystemDataset(dataset: Omit<Dataset, 'createdAt' | 'updatedAt'>): Promise<void> {
    const existing = await this.datasets.find(fullName(dataset));
    if (existing === undefined) {
      // Replicas starting together may both insert: the loser finds it there.
      await this.datasets.insert(dataset).catch(async (error: unknown) => {
        if ((await this.datasets.find(fullName(dataset))) === undefined) throw error;
      });
      return;
    }
    const sameColumns = JSON.stringify(existing.columns.map((c) => [c.name, c.type])) === JSON.stringify(dataset.columns.map((c) => [c.name, c.type]));
    if (!sameColumns) {
      // keep tags and descriptions people wrote, take the new shape
      await this.datasets.update(fullName(dataset), (current) => ({
        ...current,
        columns: dataset.columns.map((c) => ({ ...c, tags: current.columns.find((old) => old.name === c.name)?.tags ?? c.tags })),
      }));
    }
  }

  update(
    name: string,
    change: {
      description?: string;
      owner?: string;
      steward?: string;
      columnDescriptions?: Record<string, string>;
      /** A new certification status, with who sets it (recorded with the time). */
      certification?: { status: string; by: string; note?: string };
    },
  ): Promise<Dataset> {
    const certification = change.certification;
    if (certification !== undefined && !(CERTIFICATION_STATUSES as readonly string[]).includes(certification.status)) {
      throw new InvalidRequestError(`certification status must be one of ${CERTIFICATION_STATUSES.join(', ')}`);
    }
    return this.datasets.update(name, (current) => {
      for (const column of Object.keys(change.columnDescriptions ?? {})) {
        if (!current.columns.some((c) => c.name === column)) throw new InvalidDatasetError(`column ${column} is not in ${name}`);
      }
      return {
        ...current,
        description: change.description ?? current.description,
        owner: change.owner ?? current.owner,
        ...(change.steward === undefined ? {} : { steward: change.steward }),
        ...(certification === undefined
          ? {}
          : {
              certification: {
                status: certification.status as CertificationStatus,
                by: certification.by,
                at: new Date().toISOString(),
                ...(certification.note === undefined ? {} : { note: certification.note }),
              },
            }),
        columns: current.columns.map((c) => {
          const description = change.columnDescriptions?.[c.name];
          return description === undefined ? c : { ...c, description };
        }),
      };
    });
  }

  tag(name: string, change: TagChange): Promise<Dataset> {
    return this.datasets.update(name, (current) => {
      for (const column of Object.keys(change.columns ?? {})) {
        if (!current.columns.some((c) => c.name === column)) throw new InvalidDatasetError(`column ${column} is not in ${name}`);
      }
      return {
        ...current,
        tags: applyTagChange(current.tags, change.add, change.remove),
        columns: current.columns.map((c) => {
          const columnChange = change.columns?.[c.name];
          return columnChange === undefined ? c : { ...c, tags: applyTagChange(c.tags, columnChange.add, columnChange.remove) };
        }),
      };
    });
  }

  async drop(name: string): Promise<void> {
    const dataset = await this.datasets.get(name);
    if (dataset.system) throw new InvalidDatasetError(`${name} is built in and cannot be dropped`);
    await this.datasets.delete(name);
    this.sources.delete(name);
    await (this.viewChains.get(name) ?? Promise.resolve());
    await this.engine.runInternal(`DROP VIEW IF EXISTS ${sourceViewName(dataset)}`);
    this.viewRelations.delete(name);
    this.viewVersions.delete(name);
    for (const listener of this.listeners) listener.dropped?.(name);
  }

  /** Creates or replaces the internal view of every dataset whose definition changed. */
  async ensureSourceViews(): Promise<void> {
    const seen = new Set<string>();
    for (const dataset of await this.datasets.list()) {
      const name = fullName(dataset);
      seen.add(name);
      if (dataset.system) continue;
      const derived = await this.derivedColumns(dataset);
      const version = `${dataset.updatedAt}|${dataset.location}|${JSON.stringify(dataset.columns)}|${derived.map((d) => d.name).join(',')}`;
      if (this.viewVersions.get(name) === version) continue;
      try {
        const location = this.storage.resolve(dataset.location, DIRECTORY_FILE_PATTERN[dataset.format]);
        const dialect = dataset.format === 'csv' ? await this.csvDialect(location, dataset.csv) : undefined;
        const read = readFunctionSql(dataset.format, location, dataset.csv, dataset.columns, dialect);
        const sql =
          derived.length === 0
            ? read
            : `(SELECT ${DERIVED_SOURCE_ALIAS}.*, ${derived.map((d) => `${d.sql} AS ${sqlIdentifier(d.name)}`).join(', ')} FROM ${read} AS ${DERIVED_SOURCE_ALIAS})`;
        // A new definition reads its source until the columnar cache has a copy of exactly it.
        this.sources.set(name, {
          database: dataset.database,
          name: dataset.name,
          format: dataset.format,
          location: dataset.location,
          readPath: location.readPath,
          sql,
          derived: new Map(derived.map((d) => [derivedKey(d.column, d.transform), d.name])),
        });
        this.viewRelations.delete(name);
        await this.pointView(name, undefined);
        this.viewVersions.set(name, version);
      } catch (error) {
        // A dataset whose files vanished stays registered; querying it fails with a clear error.
        if (!(error instanceof VeilError)) throw error;
      }
    }
    for (const name of [...this.viewVersions.keys()]) if (!seen.has(name)) this.viewVersions.delete(name);
    for (const name of [...this.sources.keys()]) if (!seen.has(name)) this.sources.delete(name);
  }

  /**
   * The dialect of a CSV dataset's first file, sniffed once per process. Undefined when it cannot
   * be sniffed: the view then leaves detection to DuckDB at every query, as before.
   */
  private async csvDialect(location: ResolvedLocation, csv: CsvOptions): Promise<CsvDialect | undefined> {
    const key = `${location.readPath}|${JSON.stringify(csv)}`;
    if (this.dialects.has(key)) return this.dialects.get(key);
    let dialect: CsvDialect | undefined;
    try {
      const [first] = await this.engine.runInternal<[string]>(`SELECT file FROM glob(${sqlString(location.readPath)}) ORDER BY file LIMIT 1`);
      if (first !== undefined) {
        const options = [`header = ${csv.header ?? true}`, ...(csv.delimiter === undefined ? [] : [`delim = ${sqlString(csv.delimiter)}`])];
        const [row] = await this.engine.runInternal<[string, string, string, string | null]>(
          `SELECT Delimiter, Quote, Escape, DateFormat FROM sniff_csv(${sqlString(first[0])}, ${options.join(', ')})`,
        );
        if (row !== undefined) {
          const literal = (value: string): string => (value === '(empty)' ? '' : value);
          dialect = { delimiter: literal(row[0]), quote: literal(row[1]), escape: literal(row[2]), dateFormat: row[3] === null || row[3] === '' ? null : row[3] };
        }
      }
    } catch {
      dialect = undefined;
    }
    this.dialects.set(key, dialect);
    return dialect;
  }

  private async inferColumns(format: DatasetFormat, readSql: string): Promise<{ name: string; type: string }[]> {
    try {
      const columns = await this.engine.describeQuery(`SELECT * FROM ${readSql}`);
      for (const column of columns) {
        if (!NAME_PATTERN.test(column.name)) {
          throw new InvalidDatasetError(`column name "${column.name}" must match ${NAME_PATTERN} (lower case letters, digits, _)`);
        }
      }
      return columns.map((c) => ({ name: c.name, type: c.type }));
    } catch (error) {
      if (error instanceof VeilError) throw error;
      throw new InvalidDatasetError(`cannot read ${format} data: ${errorText(error)}`);
    }
  }
}

export function splitDatasetName(name: string): [string, string] {
  const parts = name.toLowerCase().split('.');
  if (parts.length !== 2 || !parts.every((p) => NAME_PATTERN.test(p))) {
    throw new InvalidRequestError(`dataset names have the form database.name using a-z, 0-9 and _ (got "${name}")`);
  }
  return [parts[0] as string, parts[1] as string];
}

function inferFormat(location: string): DatasetFormat {
  const lower = location.toLowerCase();
  if (/\.parquet$/.test(lower)) return 'parquet';
  if (/\.(nd)?jsonl?(\.gz)?$/.test(lower)) return 'json';
  if (/\.(csv|tsv|txt)(\.gz)?$/.test(lower)) return 'csv';
  throw new InvalidDatasetError(`cannot infer the format of ${location}; pass format csv, parquet or json`);
}

function validateTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    if (!TAG_PATTERN.test(tag)) throw new InvalidDatasetError(`tag "${tag}" must look like namespace.key (a-z, 0-9, _ and dots)`);
  }
  return [...new Set(tags)].sort();
}

function applyTagChange(current: readonly string[], add: readonly string[] = [], remove: readonly string[] = []): string[] {
  const removed = new Set(remove);
  return validateTags([...current.filter((t) => !removed.has(t)), ...add]);
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
