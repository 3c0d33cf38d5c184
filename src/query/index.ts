export { AccessService } from './access-service.ts';
export { QueryService, AUDIT_DATASET } from './query-service.ts';
export type { PreparedQuery, Explanation, ExplainedDataset } from './query-service.ts';
