import type { ManifestEntry } from './cache-manifest.ts';
import type { BuildProgress, CacheState, CacheStatus } from './cache-types.ts';

/** A build another process reports on is taken as running while it reported within this time. */
export const LIVE_PROGRESS_MS = 15_000;

export interface StatusFacts {
  readonly dataset: string;
  readonly format: string;
  /** Read where it is, never copied (a Parquet dataset without derived columns). */
  readonly inPlace: boolean;
  readonly enabled: boolean;
  readonly entry: ManifestEntry | undefined;
  /** Whether the entry is of the source as it is now (definition and stamp); undefined when the source cannot be read. */
  readonly sameSource: boolean | undefined;
  /** Whether the entry's file exists with the size the manifest records. */
  readonly fileIntact: boolean;
  /** A build of this process, running now. */
  readonly running: BuildProgress | undefined;
  readonly queued: boolean;
  readonly lastUsedAt: string | undefined;
  readonly now: number;
}

/** What `veil cache status` says of one dataset (the states are explained in cache-types.ts). */
export function describeStatus(facts: StatusFacts): CacheStatus {
  const { entry } = facts;
  const lastUsed = [entry?.lastUsedAt ?? null, facts.lastUsedAt ?? null].filter((v): v is string => v !== null).sort().pop() ?? null;
  const base = {
    dataset: facts.dataset,
    progress: null,
    file_bytes: entry?.state === 'ready' ? entry.fileBytes : null,
    source_bytes: entry?.sourceBytes ?? null,
    rows: entry?.state === 'ready' ? entry.rowCount : null,
    built_at: entry?.state === 'ready' ? entry.builtAt : null,
    last_used_at: lastUsed,
    detail: entry?.detail ?? null,
  };
  if (facts.inPlace) return { ...base, state: 'in_place', detail: 'Parquet datasets without costly masks are read in place' };
  if (!facts.enabled) return { ...base, state: 'off' };
  const remote = entry?.buildProgressAt === null || entry?.buildProgressAt === undefined ? undefined : Date.parse(entry.buildProgressAt);
  if (facts.running !== undefined) return { ...base, state: 'building', progress: facts.running.percent };
  if (remote !== undefined && facts.now - remote < LIVE_PROGRESS_MS) return { ...base, state: 'building', progress: entry?.buildProgress ?? 0 };
  const detail = facts.sameSource === undefined ? 'the source files cannot be read' : base.detail;
  let state: CacheState;
  if (entry === undefined || entry.state === 'absent') state = 'absent';
  else if (entry.state === 'ready') state = facts.sameSource !== true ? 'stale' : facts.fileIntact ? 'fresh' : 'corrupt';
  else state = entry.state;
  if (facts.queued && state !== 'fresh') state = 'queued';
  return { ...base, state, detail };
}
