import type { CacheManifest } from './cache-manifest.ts';
import type { CopyFiles } from './copy-files.ts';
import { evictionCandidate, freeBytes, MIN_FREE_BYTES, planEviction } from './disk-budget.ts';
import type { UsageLog } from './usage-log.ts';

/**
 * Keeps the copies within `cache_max_bytes` by evicting the least recently used, and never leaves
 * less than MIN_FREE_BYTES free on the cache's disk. An evicted dataset reads its source
 * (`onEvicted` points its view back) and is copied again on its next use.
 */
export class BudgetKeeper {
  constructor(
    private readonly manifest: CacheManifest,
    private readonly files: CopyFiles,
    private readonly usage: UsageLog,
    private readonly maxBytes: number,
    private readonly onEvicted: (dataset: string) => Promise<void>,
  ) {}

  /** Evicts what must go for a new copy of `bytes` (already on disk) to fit; returns why it cannot fit, if it cannot. */
  async makeRoom(dataset: string, bytes: number): Promise<string | undefined> {
    this.usage.flush();
    const others = this.manifest
      .list()
      .filter((e) => e.state === 'ready' && e.file !== null && e.dataset !== dataset)
      .map(evictionCandidate);
    const held = others.reduce((sum, o) => sum + o.bytes, 0);
    // The new file is already on disk: what is free now is what remains beside it.
    const budget = Math.min(this.maxBytes, held + bytes + freeBytes(this.files.directory) - MIN_FREE_BYTES);
    const plan = planEviction(others, bytes, budget);
    if (plan.tooLarge) return `the copy takes ${bytes} bytes, more than the budget of ${Math.max(0, budget)} bytes (cache_max_bytes)`;
    for (const other of plan.evict) await this.evict(other);
    return undefined;
  }

  /** Brings the copies within the budget (a server's start, after the setting was lowered). */
  async enforce(): Promise<void> {
    this.usage.flush();
    const held = this.manifest.list().filter((e) => e.state === 'ready' && e.file !== null);
    const plan = planEviction(held.map(evictionCandidate), 0, this.maxBytes);
    for (const dataset of plan.evict) await this.evict(dataset);
  }

  private async evict(dataset: string): Promise<void> {
    const entry = this.manifest.get(dataset);
    if (entry?.file === null || entry?.file === undefined) return;
    // Only if the manifest still names this file (another process may have replaced it).
    if (!this.manifest.retire(dataset, 'evicted', 'least recently used; removed to stay within cache_max_bytes (rebuilt on next use)', entry.file)) return;
    await this.onEvicted(dataset);
    this.files.removeLater(entry.file);
  }
}
