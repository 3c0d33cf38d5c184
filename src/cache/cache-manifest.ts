import type { SourceStamp } from './source-stamp.ts';

/** What the manifest can say of a dataset's copy (cache-types.ts tells what each means to users). */
export type EntryState = 'ready' | 'absent' | 'evicted' | 'dropped' | 'over_budget' | 'failed' | 'unsupported' | 'corrupt';

export interface ManifestEntry {
  readonly dataset: string;
  readonly state: EntryState;
  /** sha256 of the read call the source view uses (types, dialect, path): a new definition is a new source. */
  readonly definition: string;
  readonly stampDigest: string;
  readonly sourceStamp: string;
  readonly sourceBytes: number;
  /** File name under the cache directory (ready only). */
  readonly file: string | null;
  readonly fileBytes: number | null;
  readonly fileSha256: string | null;
  readonly rowCount: number | null;
  readonly builtAt: string | null;
  readonly buildMs: number | null;
  readonly lastUsedAt: string | null;
  readonly detail: string | null;
  readonly buildProgress: number | null;
  readonly buildProgressAt: string | null;
}

/**
 * The truth about every dataset's Parquet copy for every process on a home (the CLI and a server):
 * a file no entry names is not a copy. Kept per machine in a SQLite file of its own
 * (`<home>/cache/columnar-manifest.db`, src/sqlite/cache-manifest.ts), whatever the control store:
 * copies are per replica. Synchronous,
 * like the file operations it sits beside.
 */
export interface CacheManifest {
  get(dataset: string): ManifestEntry | undefined;
  list(): ManifestEntry[];
  /**
   * Makes `entry` the dataset's copy, in one immediate transaction, unless `keep` (given the row as
   * it is now) says the current row must stay: then nothing changes. Returns the row it replaced.
   */
  publish(entry: Omit<ManifestEntry, 'lastUsedAt' | 'buildProgress' | 'buildProgressAt'>, keep: (current: ManifestEntry | undefined) => boolean): { published: boolean; previous: ManifestEntry | undefined };
  /**
   * Marks a dataset's copy as no longer usable (evicted, dropped, corrupt, …) if the row still names
   * `file` (or any file when `file` is undefined). Returns whether it changed the row.
   */
  retire(dataset: string, state: EntryState, detail: string | null, file?: string | null): boolean;
  /** Records why no copy exists for this source (unsupported, failed, over budget), keeping usage. */
  refuse(dataset: string, state: EntryState, detail: string, definition: string, stamp: SourceStamp): void;
  progress(dataset: string, percent: number | null): void;
  /** A row for a dataset that has none yet, so that progress can be recorded on it. */
  ensure(dataset: string, definition: string, stamp: SourceStamp): void;
  touch(uses: ReadonlyMap<string, string>): void;
  delete(dataset: string): ManifestEntry | undefined;
}

export function stampJson(stamp: SourceStamp): string {
  return JSON.stringify({ files: stamp.files.map((f) => ({ path: f.path, size: f.size, mtime_ns: f.mtimeNs })), ...(stamp.etags === undefined ? {} : { etags: stamp.etags }) });
}
