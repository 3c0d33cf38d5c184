import { AUDIT_DATASET_COLUMNS } from './audit-types.ts';

/**
 * The governed datasets of the audit trail, in database veil_system. They are read through the
 * normal query path, so policies (built-in: each user sees their own records, compliance all)
 * filter and mask them like any other dataset; `statement` can be masked by tag audit.statement.
 */
export interface AuditDatasetDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly { name: string; type: string; tags: string[] }[];
  /** SELECT over the relation that holds every audit record (the audit_log source view). */
  sql(records: string): string;
}

export const AUDIT_DATASET_NAMES = ['veil_system.audit_log', 'veil_system.audit_daily'] as const;

export const AUDIT_DATASETS: readonly AuditDatasetDefinition[] = [
  {
    name: 'audit_daily',
    description:
      'Accesses per day, user, tool, dataset and decision: request counts and the rows and bytes returned. ' +
      'A request that read several datasets counts once for each of them.',
    columns: [
      { name: 'day', type: 'DATE', tags: [] },
      { name: 'user', type: 'VARCHAR', tags: ['audit.user'] },
      { name: 'door', type: 'VARCHAR', tags: [] },
      { name: 'client_application', type: 'VARCHAR', tags: [] },
      { name: 'statement_type', type: 'VARCHAR', tags: [] },
      { name: 'decision', type: 'VARCHAR', tags: [] },
      { name: 'dataset', type: 'VARCHAR', tags: [] },
      { name: 'requests', type: 'BIGINT', tags: [] },
      { name: 'rows_returned', type: 'BIGINT', tags: [] },
      { name: 'bytes_returned', type: 'BIGINT', tags: [] },
    ],
    sql: (records) => `SELECT CAST(event_time AS DATE) AS day, "user", door, client_application, statement_type, decision, dataset,
        CAST(count(*) AS BIGINT) AS requests, CAST(sum(rows_returned) AS BIGINT) AS rows_returned, CAST(sum(bytes_returned) AS BIGINT) AS bytes_returned
      FROM (SELECT *, unnest(CASE WHEN len(datasets) = 0 THEN [NULL::VARCHAR] ELSE datasets END) AS dataset FROM ${records})
      GROUP BY ALL`,
  },
];

export { AUDIT_DATASET_COLUMNS };
