export type AuditDecision = 'allowed' | 'denied' | 'error';
/** The door a request came through, decided by the server (never by a client header). */
export type Door = 'http' | 'pg' | 'ui' | 'cli' | 'trino';

/** One access, as recorded. Field names are the columns of veil_system.audit_log. */
export interface AuditRecord {
  readonly event_time: string;
  readonly request_id: string;
  readonly user: string | null;
  readonly groups: readonly string[];
  readonly client_application: string | null;
  readonly client_address: string | null;
  readonly door: Door;
  /** Statement text, or a description of the API call (e.g. "scan drug_xyz.trial_july2020"). */
  readonly statement: string | null;
  /** query, scan, explain, list, describe, admin, auth */
  readonly statement_type: string;
  readonly datasets: readonly string[];
  readonly columns: readonly string[];
  readonly policies: readonly string[];
  readonly decision: AuditDecision;
  readonly rows_returned: number | null;
  readonly bytes_returned: number | null;
  readonly duration_ms: number | null;
  readonly error_code: string | null;
}

export interface AuditCompletion {
  readonly decision: AuditDecision;
  readonly rows_returned: number | null;
  readonly bytes_returned: number | null;
  readonly duration_ms: number;
  readonly error_code: string | null;
}

/** Column names and DuckDB types of the audit dataset, in order. */
export const AUDIT_COLUMNS: readonly { name: keyof AuditRecord; type: string; tags: string[] }[] = [
  { name: 'event_time', type: 'TIMESTAMP', tags: [] },
  { name: 'request_id', type: 'VARCHAR', tags: [] },
  { name: 'user', type: 'VARCHAR', tags: ['audit.user'] },
  { name: 'groups', type: 'VARCHAR[]', tags: [] },
  { name: 'client_application', type: 'VARCHAR', tags: [] },
  { name: 'client_address', type: 'VARCHAR', tags: ['audit.address'] },
  { name: 'door', type: 'VARCHAR', tags: [] },
  { name: 'statement', type: 'VARCHAR', tags: ['audit.statement'] },
  { name: 'statement_type', type: 'VARCHAR', tags: [] },
  { name: 'datasets', type: 'VARCHAR[]', tags: [] },
  { name: 'columns', type: 'VARCHAR[]', tags: [] },
  { name: 'policies', type: 'VARCHAR[]', tags: [] },
  { name: 'decision', type: 'VARCHAR', tags: [] },
  { name: 'rows_returned', type: 'BIGINT', tags: [] },
  { name: 'bytes_returned', type: 'BIGINT', tags: [] },
  { name: 'duration_ms', type: 'DOUBLE', tags: [] },
  { name: 'error_code', type: 'VARCHAR', tags: [] },
];

/** The columns of veil_system.audit_log: the record, and the hash of its latest chain event. */
export const AUDIT_DATASET_COLUMNS: readonly { name: string; type: string; tags: string[] }[] = [
  ...AUDIT_COLUMNS,
  { name: 'record_hash', type: 'VARCHAR', tags: [] },
];

/** Fields of a record that are lists (stored as JSON text in the audit store). */
export const AUDIT_LIST_FIELDS: ReadonlySet<string> = new Set(['groups', 'datasets', 'columns', 'policies']);
