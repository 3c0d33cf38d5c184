export { AuditLog, AUDIT_TABLE, openAuditDatabase } from './audit-log.ts';
export { AUDIT_COLUMNS, AUDIT_DATASET_COLUMNS } from './audit-types.ts';
export { canonicalJson, eventHash, GENESIS_HASH, type ChainEvent, type ChainEventKind } from './audit-chain.ts';
export type { AuditRecord, AuditCompletion, AuditDecision, Door } from './audit-types.ts';
export { verifyAuditStore, type AuditVerification, type AuditBreak } from './audit-verifier.ts';
export { createCheckpoint, parseCheckpoint, verifyCheckpoint, CHECKPOINT_FORMAT, type AuditCheckpoint } from './audit-checkpoint.ts';
export { AUDIT_DATASETS, AUDIT_DATASET_NAMES, type AuditDatasetDefinition } from './audit-datasets.ts';
export { pruneAudit, readAnchor, type AuditAnchor, type PruneResult } from './audit-retention.ts';
export { exportAudit, type AuditExportFormat, type AuditExportOptions } from './audit-export.ts';
