import type { AuditRecord } from '../../src/audit/index.ts';

/** An allowed query's record with empty lists and no outcome yet; tests name what matters to them. */
export function auditRecord(fields: Pick<AuditRecord, 'request_id' | 'user' | 'statement'> & Partial<AuditRecord>): AuditRecord {
  return {
    event_time: new Date().toISOString(),
    groups: [],
    client_application: 'test',
    client_address: null,
    door: 'http',
    statement_type: 'query',
    datasets: [],
    columns: [],
    policies: [],
    decision: 'allowed',
    rows_returned: null,
    bytes_returned: null,
    duration_ms: null,
    error_code: null,
    ...fields,
  };
}
