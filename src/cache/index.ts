export { ColumnarCache, isCacheable, type CacheCatalog, type ColumnarCacheOptions } from './columnar-cache.ts';
export { stampJson, type CacheManifest, type EntryState, type ManifestEntry } from './cache-manifest.ts';
export type { SourceStamp } from './source-stamp.ts';
export type { BuildProgress, BuildProgressListener, CacheSettings, CacheState, CacheStatus } from './cache-types.ts';
