import { statfsSync } from 'node:fs';
import type { ManifestEntry } from './cache-manifest.ts';

/** Free space a build never takes from the cache's file system, whatever the budget says. */
export const MIN_FREE_BYTES = 1024 ** 3;

export interface BudgetCandidate {
  readonly dataset: string;
  readonly bytes: number;
  /** ISO time of the last query that read it (null: never). */
  readonly lastUsedAt: string | null;
}

export interface BudgetDecision {
  /** Copies to evict, least recently used first, to make room for the new one. */
  readonly evict: readonly string[];
  /** The new copy does not fit even alone. */
  readonly tooLarge: boolean;
}

/**
 * Least recently used eviction: which copies must go so that `incoming` bytes fit beside the rest
 * within `maxBytes`. Copies never used count as the oldest; ties go by name, so every process
 * decides the same way.
 */
export function planEviction(existing: readonly BudgetCandidate[], incoming: number, maxBytes: number): BudgetDecision {
  if (incoming > maxBytes) return { evict: [], tooLarge: true };
  let total = existing.reduce((sum, c) => sum + c.bytes, 0) + incoming;
  const evict: string[] = [];
  const byAge = [...existing].sort((a, b) => (a.lastUsedAt ?? '').localeCompare(b.lastUsedAt ?? '') || a.dataset.localeCompare(b.dataset));
  for (const candidate of byAge) {
    if (total <= maxBytes) break;
    evict.push(candidate.dataset);
    total -= candidate.bytes;
  }
  return { evict, tooLarge: false };
}

/** Bytes free for unprivileged writers on the file system of `directory` (Infinity when unknown). */
export function freeBytes(directory: string): number {
  try {
    const stats = statfsSync(directory);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** A copy for eviction: last used when it was read or built, whichever came later (a new copy is not the oldest). */
export function evictionCandidate(entry: ManifestEntry): BudgetCandidate {
  const times = [entry.lastUsedAt, entry.builtAt].filter((t): t is string => t !== null).sort();
  return { dataset: entry.dataset, bytes: entry.fileBytes ?? 0, lastUsedAt: times.pop() ?? null };
}
