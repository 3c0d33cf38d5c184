import type { CacheManifest } from './cache-manifest.ts';
import type { BuildProgress, BuildProgressListener } from './cache-types.ts';

/** Builds' progress is written to the manifest (for other processes' status) at most this often. */
const PROGRESS_WRITE_MS = 1000;

/** Progress of this process's builds: for its listeners, its status, and other processes' status. */
export class BuildProgressHub {
  private readonly listeners = new Set<BuildProgressListener>();
  private readonly running = new Map<string, BuildProgress>();
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly manifest: CacheManifest,
    private readonly log?: (message: string, error: unknown) => void,
  ) {}

  listen(listener: BuildProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The build of a dataset running in this process, as it last reported. */
  current(dataset: string): BuildProgress | undefined {
    return this.running.get(dataset);
  }

  report(progress: BuildProgress): void {
    if (progress.phase === 'started' || progress.phase === 'writing' || progress.phase === 'checking') {
      this.running.set(progress.dataset, progress);
      const now = Date.now();
      if (now - (this.writtenAt.get(progress.dataset) ?? 0) >= PROGRESS_WRITE_MS) {
        this.writtenAt.set(progress.dataset, now);
        this.manifest.progress(progress.dataset, progress.percent);
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(progress);
      } catch (error) {
        this.log?.('columnar cache: a progress listener failed', error);
      }
    }
  }

  /** The build ended (whatever its outcome): no more progress is reported for it. */
  ended(dataset: string): void {
    this.running.delete(dataset);
    this.writtenAt.delete(dataset);
    this.manifest.progress(dataset, null);
  }
}
