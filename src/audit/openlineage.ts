import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditCompletion, AuditRecord } from './audit-types.ts';

/**
 * OpenLineage run events (https://openlineage.io) for data requests, one JSON object per line in
 * a file that a lineage collector (Marquez, DataHub, OpenMetadata) can tail: START when the access
 * begins, COMPLETE or FAIL with its outcome. The job is the query (named by the hash of its text,
 * so the same query is the same job), the inputs are the datasets it read.
 */
export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const OPENLINEAGE_PRODUCER = 'https://github.com/veil-gateway/veil';
const NAMESPACE = 'veil';

export class OpenLineageWriter {
  /** What START said about each begun access, until its outcome arrives. */
  private readonly running = new Map<number, { record: AuditRecord; job: string }>();

  constructor(
    private readonly file: string,
    private readonly log: (message: string) => void = (message) => console.error(`[veil] ${message}`),
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  started(seq: number, record: AuditRecord): void {
    if (record.datasets.length === 0 || !['query', 'scan'].includes(record.statement_type)) return;
    const job = `${record.statement_type}.${createHash('sha256').update(record.statement ?? '').digest('hex').slice(0, 16)}`;
    this.running.set(seq, { record, job });
    this.write('START', record.event_time, record, job, {});
  }

  finished(seq: number, completion: AuditCompletion): void {
    const entry = this.running.get(seq);
    if (entry === undefined) return;
    this.running.delete(seq);
    const failed = completion.decision !== 'allowed';
    this.write(failed ? 'FAIL' : 'COMPLETE', new Date().toISOString(), entry.record, entry.job, {
      veil_outcome: {
        _producer: OPENLINEAGE_PRODUCER,
        _schemaURL: `${OPENLINEAGE_PRODUCER}/docs/audit.md#openlineage`,
        decision: completion.decision,
        rows_returned: completion.rows_returned,
        bytes_returned: completion.bytes_returned,
        duration_ms: completion.duration_ms,
        error_code: completion.error_code,
      },
    });
  }

  private write(eventType: 'START' | 'COMPLETE' | 'FAIL', eventTime: string, record: AuditRecord, job: string, runFacets: Record<string, unknown>): void {
    const event = {
      eventType,
      eventTime,
      producer: OPENLINEAGE_PRODUCER,
      schemaURL: OPENLINEAGE_SCHEMA_URL,
      run: { runId: record.request_id, facets: runFacets },
      job: {
        namespace: NAMESPACE,
        name: job,
        facets: {
          sql: { _producer: OPENLINEAGE_PRODUCER, _schemaURL: 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet', query: record.statement ?? '' },
        },
      },
      inputs: record.datasets.map((name) => ({ namespace: NAMESPACE, name })),
      outputs: [],
    };
    try {
      appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    } catch (error) {
      // Lineage is a copy for other tools; the audit trail itself is already durable.
      this.log(`OpenLineage event not written to ${this.file}: ${(error as Error).message}`);
    }
  }
}
