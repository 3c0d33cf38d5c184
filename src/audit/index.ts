export { AuditLog, AUDIT_TABLE } from './audit-log.ts';
export { AUDIT_COLUMNS } from './audit-types.ts';
export type { AuditRecord, AuditCompletion, AuditDecision, Door } from './audit-types.ts';
