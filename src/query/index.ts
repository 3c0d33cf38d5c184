export { AccessService } from './access-service.ts';
export { QueryService } from './query-service.ts';
export { ResultCache, RESULT_CACHE_MAX_ENTRIES, RESULT_CACHE_MAX_ROWS } from './result-cache.ts';
export { AdmissionController, type AdmissionSettings, type AdmissionStatus } from './admission-controller.ts';
export type { PreparedQuery, PrepareOptions, Explanation, ExplainedDataset } from './query-service.ts';
export { searchCatalog, searchTerms, MAX_SEARCH_RESULTS, type SearchOptions, type SearchResult } from './catalog-search.ts';
export { postgresCsvEligible } from './postgres-text.ts';
