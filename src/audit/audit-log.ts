import type { KeyObject } from 'node:crypto';
import { INTERNAL_SCHEMA, sqlString, type DuckDbEngine } from '../engine/index.ts';
import {
  auditRecordCount,
  auditRecordsAfter,
  auditRecordsBetween,
  auditRecordsIn,
  chainEventsAfter,
  chainHashAt,
  chainHead,
  completeAuditRecord,
  insertAuditRecord,
  insertChainEvent,
  lastChainSeq,
  oldestAuditRecord,
  setRecordHash,
} from '../store/audit-trail.ts';
import type { SqlExecutor, SqlStore, SqlValue } from '../store/index.ts';
import { canonicalJson, eventHash, GENESIS_HASH, type ChainEventKind } from './audit-chain.ts';
import { pruneAudit, type PruneResult } from './audit-retention.ts';
import type { OpenLineageWriter } from './openlineage.ts';
import { AUDIT_COLUMNS, AUDIT_DATASET_COLUMNS, AUDIT_LIST_FIELDS as LIST_FIELDS, type AuditCompletion, type AuditRecord } from './audit-types.ts';

/** The in-memory mirror table (when no persistent mirror can be used). */
/** Records per page when the mirror is loaded from scratch. */
const LOAD_PAGE_ROWS = 20_000;

export const AUDIT_TABLE = `${INTERNAL_SCHEMA}.audit_records`;
/** Catalog name under which the persistent mirror file is attached. */
const MIRROR_CATALOG = 'veil_audit_mirror';
/** Records past the newest mirrored one are appended (DuckDB's appender), not upserted. */
const UPSERT_BATCH = 500;

/** Fewer distinct readers than this do not count as popularity (see datasetPopularity). */
export const POPULARITY_MINIMUM_READERS = 5;

/** Mirror files attached by an AuditLog of this process (a second one on the same home uses memory). */
const attachedMirrorFiles = new Set<string>();

/** What the last catch-up of the mirror did (diagnostics, tests, benchmarks). */
export interface MirrorCatchUp {
  /** full: the whole trail was loaded; incremental: only records named by newer chain events. */
  readonly kind: 'full' | 'incremental';
  readonly records: number;
  readonly ms: number;
}

export interface AuditLogOptions {
  /** Optional copy of data accesses as OpenLineage run events. */
  readonly lineage?: OpenLineageWriter;
  /**
   * A DuckDB file that keeps the queryable mirror between restarts, so that starting does not
   * grow with the trail. It is a cache: rebuilt from the audit store when missing, stale or held by
   * another process (then the mirror lives in memory and is loaded when first needed).
   */
  readonly mirrorFile?: string;
}

/**
 * The audit trail. Records live in the audit store: the home's audit.db (WAL, synchronous=FULL), or
 * the PostgreSQL schema replicas share (durable commits); either way a record is on disk before
 * `begin` resolves, and so before any byte of a result is released. Records are bound as
 * parameters and lists stored as JSON: CR/LF or quotes in a statement are data, never structure.
 *
 * Every write is also an event of the hash chain (audit-chain.ts), appended in the same
 * transaction. Writers take one after another (SQLite's IMMEDIATE transaction, PostgreSQL's
 * writers' lock), so processes sharing a home and replicas sharing a schema append one after the
 * other and the chain never forks.
 *
 * For querying, records are mirrored into a DuckDB table that backs the governed
 * veil_system.audit_log dataset; the mirror catches up before every read of that dataset. With a
 * mirror file, the mirror survives restarts: a start reads only the chain events written since
 * (by this server, the CLI or other replicas), so it costs the same with a thousand records or millions.
 */
export class AuditLog {
  /** Records to copy into the mirror at the next flush. */
  private readonly dirty = new Set<number>();
  /**
   * The last chain event the mirror has seen. Chain events name every record begun or completed,
   * by this process or another one sharing the store (the CLI, other replicas), so the mirror
   * follows them all.
   */
  private mirroredChainSeq = 0;
  /** Highest record seq in the mirror: newer records are appended in bulk, older ones upserted. */
  private mirroredMaxSeq = 0;
  /** The oldest record of the trail when the mirror last dropped pruned ones. */
  private mirroredOldest = 0;
  private mirrorQueue: Promise<void> = Promise.resolve();
  /** The mirror table, and whether it lives in the persistent file (set by initializeMirror). */
  private mirror: { readonly table: string; readonly catalog: string; readonly schema: string; readonly persistent: boolean } = {
    table: AUDIT_TABLE,
    catalog: 'memory',
    schema: INTERNAL_SCHEMA,
    persistent: false,
  };
  /** False until the first catch-up (a whole trail may need loading): done lazily, or by warmMirror. */
  private mirrorLoaded = false;
  private lastCatchUp: MirrorCatchUp | undefined;
  private closed = false;
  private readonly lineage: OpenLineageWriter | undefined;
  private readonly mirrorFile: string | undefined;

  constructor(
    /** The audit tables (audit.db in a home, or the shared PostgreSQL schema). */
    private readonly store: SqlStore,
    private readonly engine: DuckDbEngine,
    /** HMAC key of the chain (keys/audit-chain.key). */
    private readonly chainKey: Buffer,
    options: AuditLogOptions = {},
  ) {
    this.lineage = options.lineage;
    this.mirrorFile = options.mirrorFile;
  }

  /** Durably records an access before it proceeds. Returns the record's sequence number. */
  async begin(record: AuditRecord): Promise<number> {
    const stored = storedForm(record);
    const seq = await this.store.transaction((tx) => appendRecord(tx, this.chainKey, stored));
    this.dirty.add(seq);
    this.lineage?.started(seq, record);
    return seq;
  }

  /**
   * Writes finished records in one durable transaction, each chained exactly like record():
   * imports of an existing trail, and benchmarks and tests that need a large one.
   */
  async recordMany(records: readonly AuditRecord[]): Promise<number[]> {
    const seqs = await this.store.transaction(async (tx) => {
      const appended: number[] = [];
      for (const record of records) appended.push(await appendRecord(tx, this.chainKey, storedForm(record)));
      return appended;
    });
    for (const seq of seqs) this.dirty.add(seq);
    return seqs;
  }

  /** Adds the outcome (rows, bytes, duration, error) once the response is finished. */
  async finish(seq: number, completion: AuditCompletion): Promise<void> {
    const { decision, rows_returned, bytes_returned, duration_ms, error_code } = completion;
    const outcome = { decision, rows_returned, bytes_returned, duration_ms, error_code };
    await this.store.transaction(async (tx) => completeAuditRecord(tx, seq, outcome, await appendEvent(tx, this.chainKey, 'finish', seq, canonicalJson(outcome))));
    this.dirty.add(seq);
    this.lineage?.finished(seq, completion);
  }

  /** Writes a finished record in one step (denials, failures before execution, metadata calls). */
  record(record: AuditRecord): Promise<number> {
    return this.begin(record);
  }

  /**
   * Opens the mirror: the persistent file when one is configured and free, else a table in memory.
   * Cheap whatever the size of the trail: the catch-up (a full load the first time) runs at the
   * first read of the mirror, or in the background after warmMirror().
   */
  async initializeMirror(): Promise<void> {
    const columns = AUDIT_DATASET_COLUMNS.map((c) => `"${c.name}" ${LIST_FIELDS.has(c.name) ? 'VARCHAR' : c.type}`).join(', ');
    const persistent = this.mirrorFile !== undefined && (await this.attachMirrorFile(this.mirrorFile));
    this.mirror = persistent
      ? { table: `${MIRROR_CATALOG}.main.audit_records`, catalog: MIRROR_CATALOG, schema: 'main', persistent: true }
      : { table: AUDIT_TABLE, catalog: 'memory', schema: INTERNAL_SCHEMA, persistent: false };
    await this.engine.runInternal(`CREATE TABLE IF NOT EXISTS ${this.mirror.table} (seq BIGINT PRIMARY KEY, ${columns})`);
    if (!persistent) return;
    await this.engine.runInternal(`CREATE TABLE IF NOT EXISTS ${MIRROR_CATALOG}.main.mirror_state (id INTEGER PRIMARY KEY, chain_seq BIGINT, chain_hash VARCHAR)`);
    const [state] = await this.engine.runInternal<[number | string, string]>(`SELECT chain_seq, chain_hash FROM ${MIRROR_CATALOG}.main.mirror_state WHERE id = 1`);
    const chainSeq = state === undefined ? 0 : Number(state[0]);
    if (state !== undefined && (await chainHashAt(this.store, chainSeq)) === state[1]) {
      // The mirror followed this very chain up to chainSeq. Records pruned since (a prefix) go.
      this.mirroredChainSeq = chainSeq;
      const oldest = await oldestAuditRecord(this.store);
      await this.engine.runInternal(`DELETE FROM ${this.mirror.table} WHERE seq < ?`, [oldest ?? Number.MAX_SAFE_INTEGER]);
      const [max] = await this.engine.runInternal<[number | string | null]>(`SELECT max(seq) FROM ${this.mirror.table}`);
      this.mirroredMaxSeq = Number(max?.[0] ?? 0);
    } else {
      // New, stale, or from another chain (a restored or replaced audit.db): rebuilt from scratch.
      await this.engine.runInternal(`DELETE FROM ${this.mirror.table}`);
      this.mirroredChainSeq = 0;
      this.mirroredMaxSeq = 0;
    }
  }

  /** Starts the catch-up in the background (servers: the first audit query then finds it done). */
  warmMirror(): void {
    this.syncMirror().catch((error: unknown) => console.error('[veil] audit mirror catch-up failed:', error));
  }

  /** Brings the DuckDB mirror up to date; serialized so concurrent readers never interleave. */
  syncMirror(): Promise<void> {
    this.mirrorQueue = this.mirrorQueue.then(() => (this.closed ? undefined : this.catchUp()));
    return this.mirrorQueue;
  }

  /** Records in the trail (audit.db), whatever the mirror holds. */
  async recordCount(): Promise<number> {
    return auditRecordCount(this.store);
  }

  /** Where the mirror lives and what its last catch-up did. */
  mirrorStatus(): { readonly location: 'file' | 'memory'; readonly lastCatchUp: MirrorCatchUp | undefined } {
    return { location: this.mirror.persistent ? 'file' : 'memory', lastCatchUp: this.lastCatchUp };
  }

  /** SQL of the view behind veil_system.audit_log: lists restored from their JSON text. */
  viewSql(): string {
    const select = AUDIT_DATASET_COLUMNS.map((c) =>
      LIST_FIELDS.has(c.name) ? `CAST(from_json("${c.name}", '["VARCHAR"]') AS VARCHAR[]) AS "${c.name}"` : `"${c.name}"`,
    ).join(', ');
    return `SELECT ${select} FROM ${this.mirror.table}`;
  }

  /**
   * Popularity for search ranking: per dataset, how many distinct users read it (queries, scans)
   * over the last `days` days, and only where at least `minimumReaders` did. Counting users, not
   * requests, and hiding small counts means nobody learns from a ranking what one colleague reads:
   * five queries by bob move nothing (docs/catalog.md, "Search").
   */
  async datasetPopularity(days: number, minimumReaders = POPULARITY_MINIMUM_READERS, now = new Date()): Promise<Map<string, number>> {
    await this.syncMirror();
    const since = new Date(now.getTime() - days * 86_400_000).toISOString();
    const rows = await this.engine.runInternal<[string, number | string]>(
      `SELECT dataset, count(DISTINCT "user") AS readers FROM (
         SELECT "user", unnest(CAST(from_json(datasets, '["VARCHAR"]') AS VARCHAR[])) AS dataset FROM ${this.mirror.table}
         WHERE decision = 'allowed' AND statement_type IN ('query', 'scan') AND event_time >= CAST(? AS TIMESTAMP))
       GROUP BY dataset HAVING count(DISTINCT "user") >= ?`,
      [since, minimumReaders],
    );
    return new Map(rows.map(([dataset, count]) => [dataset, Number(count)]));
  }

  /**
   * Retention: prunes records that began before `before` (audit-retention.ts) and drops them from
   * the queryable mirror too.
   */
  async prune(signingKey: KeyObject, before: Date): Promise<PruneResult> {
    const result = await pruneAudit(this.store, signingKey, before);
    if (result.pruned_records > 0 && result.anchor !== null) {
      const upTo = result.anchor.last_record_seq;
      this.mirrorQueue = this.mirrorQueue.then(async () => {
        await this.engine.runInternal(`DELETE FROM ${this.mirror.table} WHERE seq <= ?`, [upTo]);
      });
      await this.mirrorQueue;
    }
    return result;
  }

  /** Stops mirroring; the store itself belongs to whoever opened it. */
  close(): void {
    this.closed = true;
    if (this.mirror.persistent && this.mirrorFile !== undefined) attachedMirrorFiles.delete(this.mirrorFile);
  }

  /** ATTACHes the mirror file; false when it cannot be used here (held by another process or instance). */
  private async attachMirrorFile(file: string): Promise<boolean> {
    if (attachedMirrorFiles.has(file)) return false;
    try {
      await this.engine.runInternal(`ATTACH ${sqlString(file)} AS ${MIRROR_CATALOG}`);
    } catch {
      // Typically a server holds it while the CLI runs: the CLI's mirror lives in memory.
      return false;
    }
    attachedMirrorFiles.add(file);
    return true;
  }

  private async catchUp(): Promise<void> {
    const started = performance.now();
    const full = !this.mirrorLoaded && this.mirroredChainSeq === 0;
    const records = full ? await this.loadAll() : await this.flushDirty();
    this.mirrorLoaded = true;
    // Records another process pruned (retention runs on every replica and from the CLI; the first
    // one prunes) leave this mirror too: the trail keeps a prefix-free suffix, so one bound says it.
    const oldest = await oldestAuditRecord(this.store);
    if ((oldest ?? Number.MAX_SAFE_INTEGER) > this.mirroredOldest) {
      await this.engine.runInternal(`DELETE FROM ${this.mirror.table} WHERE seq < ?`, [oldest ?? Number.MAX_SAFE_INTEGER]);
      this.mirroredOldest = oldest ?? 0;
    }
    if (full || records > 0) this.lastCatchUp = { kind: full ? 'full' : 'incremental', records, ms: performance.now() - started };
    if (this.mirror.persistent && !this.closed) {
      const hash = (await chainHashAt(this.store, this.mirroredChainSeq)) ?? '';
      await this.engine.runInternal(`INSERT OR REPLACE INTO ${MIRROR_CATALOG}.main.mirror_state VALUES (1, ?, ?)`, [this.mirroredChainSeq, hash]);
    }
  }

  /** The whole trail, through DuckDB's appender: what the chain holds now, then whatever follows. */
  private async loadAll(): Promise<number> {
    const head = await lastChainSeq(this.store);
    // Pages read whole, never an open cursor across an await: requests keep writing records on
    // this same connection meanwhile, and better-sqlite3 refuses writes while a statement iterates.
    let max = 0;
    let loaded = 0;
    for (;;) {
      const rows = await auditRecordsAfter(this.store, max, LOAD_PAGE_ROWS);
      if (rows.length === 0) break;
      loaded += await this.engine.appendRows({ catalog: this.mirror.catalog, schema: this.mirror.schema, name: 'audit_records' }, rows.map(mirrorValues));
      max = Number(rows[rows.length - 1]!['seq']);
    }
    this.mirroredMaxSeq = max;
    this.mirroredChainSeq = head;
    // Everything written meanwhile is named by events after `head`.
    this.dirty.clear();
    return loaded + (await this.flushDirty());
  }

  /** Copies the records named by chain events since the last catch-up; returns how many. */
  private async flushDirty(): Promise<number> {
    const changed = await chainEventsAfter(this.store, this.mirroredChainSeq);
    for (const event of changed) {
      this.dirty.add(event.record_seq);
      this.mirroredChainSeq = event.seq;
    }
    if (this.dirty.size === 0) return 0;
    const seqs = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    // Records the mirror has never seen are appended in bulk; outcomes of known ones are upserted.
    const fresh = seqs.filter((seq) => seq > this.mirroredMaxSeq);
    const known = seqs.filter((seq) => seq <= this.mirroredMaxSeq);
    if (fresh.length > 0) {
      const wanted = new Set(fresh);
      const rows = (await auditRecordsBetween(this.store, fresh[0]!, fresh[fresh.length - 1]!)).filter((row) => wanted.has(Number(row['seq'])));
      await this.engine.appendRows({ catalog: this.mirror.catalog, schema: this.mirror.schema, name: 'audit_records' }, rows.map(mirrorValues));
      if (rows.length > 0) this.mirroredMaxSeq = Number(rows[rows.length - 1]?.['seq']);
    }
    for (let i = 0; i < known.length; i += UPSERT_BATCH) {
      const batch = known.slice(i, i + UPSERT_BATCH);
      const rows = await auditRecordsIn(this.store, batch);
      if (rows.length === 0) continue;
      const width = AUDIT_DATASET_COLUMNS.length + 1;
      const placeholders = rows.map(() => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');
      await this.engine.runInternal(
        `INSERT OR REPLACE INTO ${this.mirror.table} (seq, ${AUDIT_DATASET_COLUMNS.map((c) => `"${c.name}"`).join(', ')}) VALUES ${placeholders}`,
        rows.flatMap(mirrorValues),
      );
    }
    return seqs.length;
  }
}

/** A record as stored (lists as JSON text, columns in AUDIT_COLUMNS order) and as chained (the canonical payload). */
interface StoredRecord {
  readonly values: SqlValue[];
  readonly payload: string;
}

function storedForm(record: AuditRecord): StoredRecord {
  const values: SqlValue[] = [];
  const payload: Record<string, unknown> = {};
  for (const column of AUDIT_COLUMNS) {
    const raw = record[column.name];
    // PostgreSQL's text cannot hold U+0000 (a refused statement may carry one): it is recorded as
    // U+FFFD on every backend, in the row and in the chained payload alike, so that the record of
    // such a request is never lost and a trail reads the same wherever it is kept. Lists are
    // stored as JSON, where it is escaped anyway.
    const value = typeof raw === 'string' ? raw.replaceAll('\u0000', '\uFFFD') : raw;
    values.push(LIST_FIELDS.has(column.name) ? JSON.stringify(value) : (value as SqlValue));
    payload[column.name] = value;
  }
  return { values, payload: canonicalJson(payload) };
}

const RECORD_COLUMNS = AUDIT_COLUMNS.map((c) => c.name);

/**
 * Appends a record and its `begin` event. Runs inside the writers' transaction (SQLite: BEGIN
 * IMMEDIATE; PostgreSQL: the writers' advisory lock), so the chain head read here is still the head
 * when the event is written: writers of every process and replica append one after another and the
 * chain never forks.
 */
async function appendRecord(tx: SqlExecutor, chainKey: Buffer, stored: StoredRecord): Promise<number> {
  const seq = await insertAuditRecord(tx, RECORD_COLUMNS, stored.values);
  await setRecordHash(tx, seq, await appendEvent(tx, chainKey, 'begin', seq, stored.payload));
  return seq;
}

async function appendEvent(tx: SqlExecutor, chainKey: Buffer, kind: ChainEventKind, recordSeq: number, payload: string): Promise<string> {
  const prev = (await chainHead(tx))?.hash ?? GENESIS_HASH;
  const hash = eventHash(chainKey, prev, kind, recordSeq, payload);
  await insertChainEvent(tx, { kind, record_seq: recordSeq, payload, prev_hash: prev, hash });
  return hash;
}

/** The mirror columns of a stored record, in table order (seq first). */
function mirrorValues(row: Record<string, unknown>): (string | number | null)[] {
  const values: (string | number | null)[] = [Number(row['seq'])];
  for (const c of AUDIT_DATASET_COLUMNS) {
    const value = row[c.name];
    values.push(value === undefined || value === null ? null : typeof value === 'number' ? value : String(value));
  }
  return values;
}
