/**
 * What `veil cache status` says of a dataset:
 * - fresh: a verified Parquet copy of the current source; queries read it.
 * - building: a build is running (with an estimated percentage); queries read the source.
 * - queued: a build or a verification waits its turn; queries read the source.
 * - stale: the copy is of an older source (or definition); queries read the source, a rebuild is queued.
 * - absent: never built (built on first use).
 * - evicted: removed to keep the disk budget (rebuilt on next use).
 * - dropped: removed by `veil cache drop` (built again only by `veil cache rebuild`).
 * - over_budget: larger than the whole budget on its own (retried when the source changes).
 * - failed, unsupported: the build failed, or a column type has no exact Parquet form.
 * - corrupt: the copy's file does not match its manifest (rebuilt).
 * - in_place: Parquet datasets are read where they are.
 * - off: the cache is turned off (`columnar_cache: false`).
 */
export type CacheState =
  | 'fresh'
  | 'building'
  | 'queued'
  | 'stale'
  | 'absent'
  | 'evicted'
  | 'dropped'
  | 'over_budget'
  | 'failed'
  | 'unsupported'
  | 'corrupt'
  | 'in_place'
  | 'off';

export interface CacheStatus {
  readonly dataset: string;
  readonly state: CacheState;
  /** building only: estimated percentage done. */
  readonly progress: number | null;
  readonly file_bytes: number | null;
  readonly source_bytes: number | null;
  readonly rows: number | null;
  readonly built_at: string | null;
  readonly last_used_at: string | null;
  /** Why a copy is not used (failed, unsupported, over_budget, corrupt). */
  readonly detail: string | null;
}

/** Progress of one build, as it goes. */
export interface BuildProgress {
  readonly dataset: string;
  readonly phase: 'started' | 'writing' | 'checking' | 'done' | 'discarded' | 'failed';
  /** Parquet bytes written so far. */
  readonly bytesWritten: number;
  /** Bytes of the source files. */
  readonly sourceBytes: number;
  /** Estimated from the bytes written and the compression of earlier builds; 100 once done. */
  readonly percent: number;
  /** done only. */
  readonly rows?: number;
  /** discarded and failed only. */
  readonly reason?: string;
}

export type BuildProgressListener = (progress: BuildProgress) => void;

export interface CacheSettings {
  readonly enabled: boolean;
  /** Bytes all Parquet copies may take together (least recently used are evicted beyond). */
  readonly maxBytes: number;
}
