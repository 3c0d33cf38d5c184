export { ColumnarCache, isCacheable, type CacheCatalog, type ColumnarCacheOptions } from './columnar-cache.ts';
export { CacheManifest } from './cache-manifest.ts';
export type { BuildProgress, BuildProgressListener, CacheSettings, CacheState, CacheStatus } from './cache-types.ts';
