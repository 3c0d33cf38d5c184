import Database from 'better-sqlite3';
import { INTERNAL_SCHEMA, type DuckDbEngine } from '../engine/index.ts';
import { AUDIT_COLUMNS, type AuditCompletion, type AuditRecord } from './audit-types.ts';

const LIST_FIELDS = new Set(['groups', 'datasets', 'columns', 'policies']);
export const AUDIT_TABLE = `${INTERNAL_SCHEMA}.audit_records`;

/**
 * The audit trail. Records live in their own SQLite file (WAL, synchronous=FULL), so a record is on
 * disk before `begin` returns, and so before any byte of a result is released. Records are bound
 * as parameters and lists stored as JSON: CR/LF or quotes in a statement are data, never structure.
 *
 * For querying, records are mirrored into an internal DuckDB table that backs the governed
 * veil_system.audit_log dataset; the mirror catches up before every read of that dataset.
 */
export class AuditLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly complete: Database.Statement;
  /** Sequence numbers written or completed since the last mirror flush. */
  private readonly dirty = new Set<number>();
  private mirrorQueue: Promise<void> = Promise.resolve();

  constructor(file: string, private readonly engine: DuckDbEngine) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      ${AUDIT_COLUMNS.map((c) => `"${c.name}" ${c.type.startsWith('VARCHAR') || c.type === 'TIMESTAMP' ? 'TEXT' : c.type === 'DOUBLE' ? 'REAL' : 'INTEGER'}`).join(',\n      ')}
    )`);
    const names = AUDIT_COLUMNS.map((c) => `"${c.name}"`).join(', ');
    this.insert = this.db.prepare(`INSERT INTO audit_log (${names}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c.name}`).join(', ')})`);
    this.complete = this.db.prepare(
      `UPDATE audit_log SET decision = @decision, rows_returned = @rows_returned, bytes_returned = @bytes_returned,
       duration_ms = @duration_ms, error_code = @error_code WHERE seq = @seq`,
    );
  }

  /** Durably records an access before it proceeds. Returns the record's sequence number. */
  begin(record: AuditRecord): number {
    const row: Record<string, unknown> = {};
    for (const column of AUDIT_COLUMNS) {
      const value = record[column.name];
      row[column.name] = LIST_FIELDS.has(column.name) ? JSON.stringify(value) : value;
    }
    const seq = Number(this.insert.run(row).lastInsertRowid);
    this.dirty.add(seq);
    return seq;
  }

  /** Adds the outcome (rows, bytes, duration, error) once the response is finished. */
  finish(seq: number, completion: AuditCompletion): void {
    this.complete.run({ seq, ...completion });
    this.dirty.add(seq);
  }

  /** Writes a finished record in one step (denials, failures before execution, metadata calls). */
  record(record: AuditRecord): number {
    return this.begin(record);
  }

  /** Creates the mirror table and loads every stored record into it. */
  async initializeMirror(): Promise<void> {
    const columns = AUDIT_COLUMNS.map((c) => `"${c.name}" ${LIST_FIELDS.has(c.name) ? 'VARCHAR' : c.type}`).join(', ');
    await this.engine.runInternal(`CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (seq BIGINT PRIMARY KEY, ${columns})`);
    const all = this.db.prepare('SELECT seq FROM audit_log').all() as { seq: number }[];
    for (const { seq } of all) this.dirty.add(seq);
    await this.syncMirror();
  }

  /** Brings the DuckDB mirror up to date; serialized so concurrent readers never interleave. */
  syncMirror(): Promise<void> {
    this.mirrorQueue = this.mirrorQueue.then(() => this.flushDirty());
    return this.mirrorQueue;
  }

  /** SQL of the view behind veil_system.audit_log: lists restored from their JSON text. */
  viewSql(): string {
    const select = AUDIT_COLUMNS.map((c) =>
      LIST_FIELDS.has(c.name) ? `CAST(from_json("${c.name}", '["VARCHAR"]') AS VARCHAR[]) AS "${c.name}"` : `"${c.name}"`,
    ).join(', ');
    return `SELECT ${select} FROM ${AUDIT_TABLE}`;
  }

  close(): void {
    this.db.close();
  }

  private async flushDirty(): Promise<void> {
    while (this.dirty.size > 0) {
      const batch = [...this.dirty].slice(0, 500);
      for (const seq of batch) this.dirty.delete(seq);
      const rows = this.db.prepare(`SELECT * FROM audit_log WHERE seq IN (${batch.map(() => '?').join(',')})`).all(...batch) as Record<string, unknown>[];
      if (rows.length === 0) continue;
      const placeholders = rows.map(() => `(${['seq', ...AUDIT_COLUMNS.map((c) => c.name)].map(() => '?').join(', ')})`).join(', ');
      const params: (string | number | null)[] = [];
      for (const row of rows) {
        params.push(Number(row['seq']));
        for (const c of AUDIT_COLUMNS) {
          const value = row[c.name];
          params.push(value === undefined || value === null ? null : typeof value === 'number' ? value : String(value));
        }
      }
      await this.engine.runInternal(
        `INSERT OR REPLACE INTO ${AUDIT_TABLE} (seq, ${AUDIT_COLUMNS.map((c) => `"${c.name}"`).join(', ')}) VALUES ${placeholders}`,
        params,
      );
    }
  }
}
