export { CatalogService, splitDatasetName } from './catalog-service.ts';
export type { RegisterDatasetInput, TagChange } from './catalog-service.ts';
export { DatasetStore } from './dataset-store.ts';
export { LocalFileStorage } from './storage.ts';
export type { StorageBackend, ResolvedLocation } from './storage.ts';
export { sourceViewName } from './source-relation.ts';
export { fullName, NAME_PATTERN, TAG_PATTERN } from './dataset-types.ts';
export type { Dataset, DatasetColumn, DatasetFormat, CsvOptions } from './dataset-types.ts';
export { crawl, datasetNameOf, SqliteCrawlState, type CrawlReport, type CrawlState } from './crawler.ts';
