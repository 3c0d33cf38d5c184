export { AccessService } from './access-service.ts';
export { QueryService } from './query-service.ts';
export type { PreparedQuery, Explanation, ExplainedDataset } from './query-service.ts';
