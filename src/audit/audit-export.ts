import { closeSync, copyFileSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditRecordsAfter } from '../store/audit-trail.ts';
import type { SqlExecutor } from '../store/index.ts';
import { DuckDbEngine, sqlString } from '../engine/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import { AUDIT_DATASET_COLUMNS, AUDIT_LIST_FIELDS } from './audit-types.ts';

/**
 * Audit records out of Veil: JSON Lines (one record per line, lists as arrays, the record_hash
 * included so exported records can be matched against the chain) or Parquet (written by DuckDB
 * from the JSON Lines, with the audit_log column types).
 */
export type AuditExportFormat = 'jsonl' | 'parquet';

export interface AuditExportOptions {
  readonly format: AuditExportFormat;
  /** Records with event_time at or after this instant (ISO 8601). */
  readonly since?: string;
  /** Records with event_time before this instant. */
  readonly until?: string;
}

function checkedInstant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidRequestError(`${name} must be a date or date-time (ISO 8601)`);
  return new Date(time).toISOString();
}

const EXPORT_PAGE_ROWS = 10_000;

/** Writes the selected records to `target` (never overwriting); returns how many. */
export async function exportAudit(db: SqlExecutor, target: string, options: AuditExportOptions): Promise<number> {
  const since = checkedInstant(options.since, '--since');
  const until = checkedInstant(options.until, '--until');
  // Pages by sequence number: memory stays flat whatever the size of the trail.
  const window = { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
  const page = (after: number): Promise<Record<string, unknown>[]> => auditRecordsAfter(db, after, EXPORT_PAGE_ROWS, window);
  const work = mkdtempSync(path.join(os.tmpdir(), 'veil-audit-export-'));
  try {
    const jsonl = path.join(work, 'audit.jsonl');
    const fd = openSync(jsonl, 'wx');
    let count = 0;
    try {
      for (let rows = await page(0); rows.length > 0; rows = await page(Number(rows[rows.length - 1]?.['seq']))) {
        for (const row of rows) {
        const record: Record<string, unknown> = {};
        for (const column of AUDIT_DATASET_COLUMNS) {
          const value = row[column.name] ?? null;
          record[column.name] = AUDIT_LIST_FIELDS.has(column.name) && typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
        }
        writeSync(fd, `${JSON.stringify(record)}\n`);
        count++;
        }
      }
    } finally {
      closeSync(fd);
    }
    if (options.format === 'jsonl') {
      moveNoClobber(jsonl, target);
      return count;
    }
    const parquet = path.join(work, 'audit.parquet');
    const engine = await DuckDbEngine.open({ allowedDirectories: [work], threads: 1, memoryLimit: '1GB' });
    try {
      const columns = `{${AUDIT_DATASET_COLUMNS.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
      await engine.runInternal(`COPY (SELECT * FROM read_json(${sqlString(jsonl)}, format = 'newline_delimited', columns = ${columns})) TO ${sqlString(parquet)} (FORMAT parquet)`);
    } finally {
      await engine.close();
    }
    moveNoClobber(parquet, target);
    return count;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function moveNoClobber(from: string, to: string): void {
  // Exports are evidence: an existing file is never replaced.
  const fd = openSync(to, 'wx');
  closeSync(fd);
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to); // the temporary directory is on another file system
  }
}
