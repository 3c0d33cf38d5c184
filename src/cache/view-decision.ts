import type { ManifestEntry } from './cache-manifest.ts';

/**
 * What a dataset's view must read for a query, and what background work that asks for:
 * - a copy only if the manifest holds a ready copy of exactly this definition and source stamp,
 *   and this process verified that very file, unchanged since;
 * - otherwise the source, with a build (no copy of this source yet, or one evicted, corrupt or
 *   never finished) or a verification (a ready copy this process has not checked) to queue.
 * A copy dropped by an operator is not rebuilt; a refusal (over budget, failed, unsupported)
 * stands until the source changes.
 */
export type ViewDecision = { readonly read: 'copy'; readonly relation: string } | { readonly read: 'source'; readonly work: 'build' | 'verify' | 'none' };

export function decideView(
  entry: ManifestEntry | undefined,
  definition: string,
  stampDigest: string,
  /** The relation of the copy this process verified, if it is this entry's file and unchanged on disk. */
  verifiedCopy: (entry: ManifestEntry) => string | undefined,
): ViewDecision {
  if (entry === undefined || entry.definition !== definition || entry.stampDigest !== stampDigest) {
    return { read: 'source', work: entry?.state === 'dropped' ? 'none' : 'build' };
  }
  switch (entry.state) {
    case 'ready': {
      const relation = verifiedCopy(entry);
      return relation === undefined ? { read: 'source', work: 'verify' } : { read: 'copy', relation };
    }
    case 'absent':
    case 'evicted':
    case 'corrupt':
      return { read: 'source', work: 'build' };
    case 'dropped':
    case 'over_budget':
    case 'failed':
    case 'unsupported':
      return { read: 'source', work: 'none' };
    default:
      return exhaustive(entry.state);
  }
}

function exhaustive(state: never): never {
  throw new Error(`unknown cache entry state ${String(state)}`);
}
