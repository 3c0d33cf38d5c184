import type { BuildProgressListener, CacheStatus } from '../cache/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import type { Authorization } from './authorization.ts';
import type { RequestScope } from './request-scope.ts';

/**
 * The columnar cache's administration (docs/cache.md): what is cached, rebuilding and dropping
 * copies. Administrators only (the local operator of the home too): a copy's state and size say
 * nothing about rows, but choosing what the server spends its disk and CPU on is administration.
 */
export class CacheOperations {
  constructor(
    private readonly runtime: VeilRuntime,
    private readonly authorization: Authorization,
  ) {}

  status(scope: RequestScope, datasets: readonly string[] = []): Promise<CacheStatus[]> {
    scope.describe('admin', `cache status${suffix(datasets)}`);
    scope.datasets = datasets.map((d) => d.toLowerCase());
    this.authorization.requireAdmin(scope);
    return this.runtime.cache.status(datasets);
  }

  /** Builds copies now (waits for them), even of datasets that have one or whose copy was dropped. */
  async rebuild(scope: RequestScope, datasets: readonly string[] = [], onProgress?: BuildProgressListener): Promise<CacheStatus[]> {
    scope.describe('admin', `cache rebuild${suffix(datasets)}`);
    scope.datasets = datasets.map((d) => d.toLowerCase());
    this.authorization.requireAdmin(scope);
    return this.runtime.cache.rebuild(datasets, onProgress);
  }

  /** Removes copies; the datasets read their sources until rebuilt. */
  async drop(scope: RequestScope, datasets: readonly string[] = []): Promise<CacheStatus[]> {
    scope.describe('admin', `cache drop${suffix(datasets)}`);
    scope.datasets = datasets.map((d) => d.toLowerCase());
    this.authorization.requireAdmin(scope);
    return this.runtime.cache.drop(datasets);
  }
}

function suffix(datasets: readonly string[]): string {
  return datasets.length === 0 ? ' (all datasets)' : ` ${datasets.join(' ').slice(0, 500)}`;
}
