import { randomBytes } from 'node:crypto';
import { chmodSync, renameSync, rmSync, statSync } from 'node:fs';
import { fullName, type Dataset, type SourceRead } from '../catalog/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { DatasetNotFoundError, InvalidRequestError } from '../errors/index.ts';
import { writeParquetCopy } from './cache-builder.ts';
import { stampJson, type CacheManifest, type EntryState } from './cache-manifest.ts';
import { describeStatus } from './cache-status.ts';
import type { BuildProgress, BuildProgressListener, CacheSettings, CacheStatus } from './cache-types.ts';
import { CopyFiles, type FileIdentity } from './copy-files.ts';
import { BudgetKeeper } from './budget-keeper.ts';
import { freeBytes, MIN_FREE_BYTES } from './disk-budget.ts';
import { JobQueue, type JobKind } from './job-queue.ts';
import { inexactColumn, verifyParquet } from './parquet-check.ts';
import type { SourceStamp } from './source-stamp.ts';
import { SourceInspector } from './source-inspector.ts';
import { BuildProgressHub } from './build-progress.ts';
import { UsageLog } from './usage-log.ts';
import { decideView } from './view-decision.ts';

/** The catalog as the cache sees it: source reads, and the one place that points views. */
export interface CacheCatalog {
  sourceRead(name: string): SourceRead | undefined;
  pointView(name: string, relation: string | undefined): Promise<void>;
  readonly datasets: { list(): Promise<Dataset[]>; find(name: string): Promise<Dataset | undefined> };
}

export interface ColumnarCacheOptions {
  readonly engine: DuckDbEngine;
  readonly catalog: CacheCatalog;
  readonly manifest: CacheManifest;
  /** `<home>/cache/columnar`: inside the engine's allowed directories. */
  readonly directory: string;
  readonly settings: CacheSettings;
  /** S3 datasets: the ETags of the objects the local mirror holds. */
  readonly remoteEtags?: (location: string) => Readonly<Record<string, string>> | undefined;
  /** Unexpected failures of background work (a bug, not a failed build: those are in the manifest). */
  readonly log?: (message: string, error: unknown) => void;
  /**
   * Whether no query is running: a build that was not asked for explicitly waits until none has
   * run for BUILD_QUIET_MS (at most BUILD_YIELD_MAX_MS), so that the query that found the copy
   * stale does not share the cores with the build it queued.
   */
  readonly idle?: () => boolean;
}

/** A background build waits at most this long for the engine to be idle; then it runs anyway. */
const BUILD_YIELD_MAX_MS = 30_000;
const BUILD_YIELD_POLL_MS = 50;
/** How long no query must have run before a background build starts. */
const BUILD_QUIET_MS = 500;

/** A copy this process checked, and the file's identity then: any change to the file is seen. */
interface VerifiedCopy extends FileIdentity {
  readonly definition: string;
  readonly relation: string;
}

/** Entry states that record why the current source has no copy; retried when the source changes. */
const REFUSED: ReadonlySet<EntryState> = new Set(['over_budget', 'failed', 'unsupported']);
/** Parquet bytes per source byte assumed before a dataset's first build (progress estimates only). */
const FIRST_BUILD_RATIO = { csv: 0.35, json: 0.25, parquet: 1 } as const;
/** After a build that the source changed under, the next one waits (doubling up to a minute). */
const BACKOFF_MS = { first: 1000, max: 60_000 } as const;

class Discarded extends Error {}

/**
 * CSV and JSON datasets copied once to Parquet, read instead of their sources while the copy is of
 * the source as it is now (docs/cache.md).
 *
 * - Before every query (`prepare`, from prepareSources), the source is stamped (a stat of every
 *   file, S3 ETags) and compared with the manifest: a view reads a copy only if it is of exactly this
 *   source and definition, and its file is the one this process verified, unchanged. Otherwise the
 *   view reads the source at once and the work is queued: a stale copy is never read.
 * - Builds and verifications run in the background, one at a time, never in a query's path.
 * - A build copies the source as the view reads it into a temporary file, checks it (footer, count,
 *   types, sha256), stamps the source again (a change meanwhile discards the copy), keeps the budget
 *   by evicting the least recently used copies, renames the file into place and publishes it in
 *   the manifest, the truth for every process on the home.
 * - The view keeps its name and columns whatever it reads, so scans and policies never change.
 */
export class ColumnarCache {
  private readonly engine: DuckDbEngine;
  private readonly catalog: CacheCatalog;
  private readonly manifest: CacheManifest;
  private readonly files: CopyFiles;
  private readonly queue: JobQueue;
  private readonly usage: UsageLog;
  private readonly verified = new Map<string, VerifiedCopy>();
  private readonly sources: SourceInspector;
  private readonly progress: BuildProgressHub;
  private readonly budget: BudgetKeeper;
  private readonly backoff = new Map<string, { until: number; delay: number }>();
  private closed = false;

  constructor(private readonly options: ColumnarCacheOptions) {
    this.engine = options.engine;
    this.catalog = options.catalog;
    this.manifest = options.manifest;
    this.files = new CopyFiles(options.directory);
    this.queue = new JobQueue((dataset, kind, force, signal) => this.runJob(dataset, kind, force, signal));
    this.usage = new UsageLog((uses) => this.manifest.touch(uses), options.log);
    this.sources = new SourceInspector(options.engine, options.remoteEtags);
    this.progress = new BuildProgressHub(options.manifest, options.log);
    this.budget = new BudgetKeeper(options.manifest, this.files, this.usage, options.settings.maxBytes, async (dataset) => {
      this.verified.delete(dataset);
      await this.catalog.pointView(dataset, undefined).catch(() => undefined);
    });
  }

  get enabled(): boolean {
    return this.options.settings.enabled;
  }

  /**
   * Points the views of the datasets a query reads at their copies when these are valid, and at
   * their sources otherwise (at once). Cheap: a manifest lookup and a stat per file.
   */
  async prepare(datasets: readonly Dataset[]): Promise<void> {
    if (!this.enabled || this.closed) return;
    const pending: Promise<void>[] = [];
    for (const dataset of datasets) {
      const name = fullName(dataset);
      const source = this.catalog.sourceRead(name);
      if (!this.cacheable(dataset)) continue;
      if (source !== undefined) pending.push(this.catalog.pointView(name, this.decide(name, source, true)));
    }
    await Promise.all(pending);
  }

  /**
   * The version of a dataset's data as it is now — a hash of its read call and the stamp of every
   * file it reads (ETags on S3) — or undefined when it has no files to stamp (Veil's own datasets)
   * or they cannot be read. Any format, whether or not the cache is on: the result cache keys on it.
   */
  sourceVersion(name: string): string | undefined {
    const source = this.catalog.sourceRead(name);
    if (source === undefined) return undefined;
    try {
      return `${this.sources.definition(source)}:${this.sources.stamp(source).digest}`;
    } catch {
      return undefined;
    }
  }

  /** A dataset was registered: build its copy in the background. */
  registered(name: string): void {
    if (!this.enabled || this.closed) return;
    this.catalog.datasets
      .find(name)
      .then((dataset) => {
        if (!this.closed && dataset !== undefined && this.cacheable(dataset)) void this.queue.add(name, 'build');
      })
      .catch((error: unknown) => this.options.log?.(`columnar cache: ${name} not queued`, error));
  }

  /** A dataset was dropped: its copy goes too. */
  forget(name: string): void {
    this.queue.cancel(name);
    this.verified.delete(name);
    this.usage.forget(name);
    const entry = this.manifest.delete(name);
    if (entry?.file !== null && entry?.file !== undefined) this.files.removeLater(entry.file);
  }

  /** Hears of every build's progress; returns the function that stops listening. */
  onProgress(listener: BuildProgressListener): () => void {
    return this.progress.listen(listener);
  }

  async status(names?: readonly string[]): Promise<CacheStatus[]> {
    return (await this.targets(names, false)).map((dataset) => {
      const name = fullName(dataset);
      const entry = this.manifest.get(name);
      const source = this.catalog.sourceRead(name);
      let sameSource: boolean | undefined;
      if (source !== undefined) {
        try {
          const stamp = this.sources.stamp(source);
          sameSource = entry !== undefined && entry.definition === this.sources.definition(source) && entry.stampDigest === stamp.digest;
        } catch {
          sameSource = undefined;
        }
      }
      return describeStatus({
        dataset: name,
        format: dataset.format,
        inPlace: !this.cacheable(dataset),
        enabled: this.enabled,
        entry,
        sameSource,
        fileIntact: entry !== undefined && this.files.intact(entry.file, entry.fileBytes),
        running: this.progress.current(name),
        queued: this.queue.has(name),
        lastUsedAt: this.usage.lastUsed(name),
        now: Date.now(),
      });
    });
  }

  /** Builds copies now, even of datasets that have one or were dropped, and waits for them. */
  async rebuild(names?: readonly string[], onProgress?: BuildProgressListener): Promise<CacheStatus[]> {
    if (!this.enabled) throw new InvalidRequestError('the columnar cache is off (setting columnar_cache: false)');
    const targets = (await this.targets(names, true)).map(fullName);
    const stop = onProgress === undefined ? undefined : this.onProgress(onProgress);
    try {
      await Promise.all(targets.map((name) => this.queue.add(name, 'build', true)));
    } finally {
      stop?.();
    }
    return this.status(names);
  }

  /** Removes copies; a dropped dataset reads its source until `rebuild` (or a drop of the dataset). */
  async drop(names?: readonly string[]): Promise<CacheStatus[]> {
    for (const dataset of await this.targets(names, true)) {
      const name = fullName(dataset);
      this.queue.cancel(name);
      this.verified.delete(name);
      const entry = this.manifest.get(name);
      const reason = 'dropped by veil cache drop; built again by veil cache rebuild';
      if (entry !== undefined) this.manifest.retire(name, 'dropped', reason);
      else {
        const source = this.catalog.sourceRead(name);
        if (source !== undefined) {
          try {
            this.manifest.refuse(name, 'dropped', reason, this.sources.definition(source), this.sources.stamp(source));
          } catch {
            // the source cannot be read: nothing to drop
          }
        }
      }
      await this.catalog.pointView(name, undefined).catch(() => undefined);
      if (entry?.file !== null && entry?.file !== undefined) this.files.removeLater(entry.file);
    }
    return this.status(names);
  }

  /**
   * Background work a long-running server wants at start: files of builds that died with their
   * process are removed, the budget is enforced, and existing copies are verified so that the
   * first queries can read them.
   */
  async warm(): Promise<void> {
    if (!this.enabled || this.closed) return;
    this.files.sweep(new Set(this.manifest.list().flatMap((e) => (e.file === null ? [] : [e.file]))));
    const known = new Set((await this.catalog.datasets.list()).map(fullName));
    for (const entry of this.manifest.list()) if (!known.has(entry.dataset)) this.forget(entry.dataset);
    void this.budget.enforce().catch((error: unknown) => this.options.log?.('columnar cache: budget enforcement failed', error));
    for (const entry of this.manifest.list()) {
      if (entry.state === 'ready' && this.catalog.sourceRead(entry.dataset) !== undefined) void this.queue.add(entry.dataset, 'verify');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    this.usage.close();
    this.files.close();
  }

  /**
   * The relation a dataset's view must read now: its verified copy, or undefined for the source.
   * Synchronous, so that no other decision interleaves; queues whatever work is missing.
   */
  private decide(name: string, source: SourceRead, used: boolean): string | undefined {
    let stamp: SourceStamp;
    try {
      stamp = this.sources.stamp(source);
    } catch {
      return undefined; // the source cannot be read: the query fails as it would without a cache
    }
    if (used) this.usage.used(name);
    const definition = this.sources.definition(source);
    const decision = decideView(this.manifest.get(name), definition, stamp.digest, (entry) => {
      const verified = this.verified.get(name);
      const same = verified !== undefined && verified.file === entry.file && verified.definition === definition && verified.bytes === entry.fileBytes;
      return same && this.files.unchanged(verified) ? verified.relation : undefined;
    });
    if (decision.read === 'copy') return decision.relation;
    if (decision.work === 'build') this.requestBuild(name);
    else if (decision.work === 'verify') void this.queue.add(name, 'verify');
    return undefined;
  }

  private requestBuild(name: string): void {
    const backoff = this.backoff.get(name);
    if (backoff !== undefined && Date.now() < backoff.until) return;
    void this.queue.add(name, 'build');
  }

  private async runJob(name: string, kind: JobKind, force: boolean, signal: AbortSignal): Promise<void> {
    try {
      if (kind === 'verify') await this.verify(name, signal);
      else {
        if (!force) await this.yieldToQueries(signal);
        if (!signal.aborted) await this.build(name, force, signal);
      }
    } catch (error) {
      if (!signal.aborted) this.options.log?.(`columnar cache: ${kind} of ${name} failed`, error);
    }
  }

  private async yieldToQueries(signal: AbortSignal): Promise<void> {
    const idle = this.options.idle;
    if (idle === undefined) return;
    // Idle for a quiet period, not just now: the query that found the copy stale queued this build
    // before it was admitted to the engine, so a single look would see an idle engine.
    const until = Date.now() + BUILD_YIELD_MAX_MS;
    let quietSince = Date.now();
    while (Date.now() < until && !signal.aborted && !this.closed) {
      if (!idle()) quietSince = Date.now();
      else if (Date.now() - quietSince >= BUILD_QUIET_MS) return;
      await new Promise((resolve) => setTimeout(resolve, BUILD_YIELD_POLL_MS));
    }
  }

  private async verify(name: string, signal: AbortSignal): Promise<void> {
    const source = this.catalog.sourceRead(name);
    const entry = this.manifest.get(name);
    if (source === undefined || entry?.state !== 'ready' || entry.file === null || entry.definition !== this.sources.definition(source)) return;
    const file = this.files.path(entry.file);
    try {
      const checked = await verifyParquet(this.engine, file, await this.sources.columnsOf(source), {
        ...(entry.rowCount === null ? {} : { rows: entry.rowCount }),
        ...(entry.fileBytes === null ? {} : { bytes: entry.fileBytes }),
        ...(entry.fileSha256 === null ? {} : { sha256: entry.fileSha256 }),
      });
      this.verified.set(name, { file: entry.file, definition: entry.definition, relation: checked.relation, bytes: checked.bytes, mtimeNs: checked.mtimeNs, ino: checked.ino });
    } catch (error) {
      if (signal.aborted) return;
      this.verified.delete(name);
      // Only if the manifest still names this file: another process may have published a new one.
      if (this.manifest.retire(name, 'corrupt', `the copy failed its check (${errorText(error)}); rebuilt`, entry.file)) {
        await this.catalog.pointView(name, undefined).catch(() => undefined);
        rmSync(file, { force: true });
      }
      void this.queue.add(name, 'build');
      return;
    }
    await this.repoint(name);
  }

  private async build(name: string, force: boolean, signal: AbortSignal): Promise<void> {
    const source = this.catalog.sourceRead(name);
    const dataset = await this.catalog.datasets.find(name);
    if (source === undefined || dataset === undefined || !this.cacheable(dataset)) return;
    const definition = this.sources.definition(source);
    let before: SourceStamp;
    try {
      before = this.sources.stamp(source);
    } catch {
      return;
    }
    const entry = this.manifest.get(name);
    const sameSource = entry !== undefined && entry.definition === definition && entry.stampDigest === before.digest;
    if (!force) {
      if (entry?.state === 'dropped') return;
      // Another process built it meanwhile: check that copy instead.
      if (sameSource && entry.state === 'ready') return this.verify(name, signal);
      if (sameSource && REFUSED.has(entry.state)) return;
    }
    const columns = await this.sources.columnsOf(source);
    const inexact = inexactColumn(columns);
    if (inexact !== undefined) {
      this.manifest.refuse(name, 'unsupported', `column ${inexact.name} is ${inexact.type}, which Parquet cannot hold exactly`, definition, before);
      return;
    }
    const ratio = entry?.fileBytes && entry.sourceBytes > 0 ? entry.fileBytes / entry.sourceBytes : FIRST_BUILD_RATIO[source.format];
    const estimate = Math.max(1, Math.round(before.bytes * ratio));
    const free = freeBytes(this.files.directory);
    if (free - estimate < MIN_FREE_BYTES) {
      this.manifest.refuse(name, 'over_budget', `only ${free} bytes are free on the cache's disk (a copy keeps at least ${MIN_FREE_BYTES} free)`, definition, before);
      return;
    }
    this.manifest.ensure(name, definition, before);
    const report = (phase: BuildProgress['phase'], bytesWritten: number, extra: { rows?: number; reason?: string } = {}): void => {
      const percent = phase === 'done' ? 100 : Math.min(99, Math.floor((100 * bytesWritten) / estimate));
      this.progress.report({ dataset: name, phase, bytesWritten, sourceBytes: before.bytes, percent, ...extra });
    };
    report('started', 0);
    let finalName: string | undefined;
    try {
      const written = await writeParquetCopy(this.engine, { dataset: name, sourceSql: source.sql, directory: this.files.directory, signal, onBytes: (bytes) => report('writing', bytes) });
      finalName = `${name}-${before.digest.slice(0, 12)}-${randomBytes(4).toString('hex')}.parquet`;
      const file = this.files.path(finalName);
      renameSync(written.file, file);
      chmodSync(file, 0o600); // raw rows, as sensitive as the source: readable by the home's owner only
      report('checking', statSync(file).size);
      const checked = await verifyParquet(this.engine, file, columns, { rows: written.rows });
      const after = this.sources.stamp(source);
      if (after.digest !== before.digest || this.catalog.sourceRead(name)?.sql !== source.sql) throw new Discarded('the source changed during the build');
      const tooLarge = await this.budget.makeRoom(name, checked.bytes);
      if (tooLarge !== undefined) {
        this.manifest.refuse(name, 'over_budget', tooLarge, definition, before);
        throw new Discarded(tooLarge);
      }
      if (signal.aborted) throw new Discarded('stopped');
      const { published, previous } = this.manifest.publish(
        {
          dataset: name,
          state: 'ready',
          definition,
          stampDigest: before.digest,
          sourceStamp: stampJson(before),
          sourceBytes: before.bytes,
          file: finalName,
          fileBytes: checked.bytes,
          fileSha256: checked.sha256,
          rowCount: checked.rows,
          builtAt: new Date().toISOString(),
          buildMs: Math.round(written.ms),
          detail: null,
        },
        // A copy of the same source another process published first stays (unless rebuilding).
        (current) => !force && current?.state === 'ready' && current.definition === definition && current.stampDigest === before.digest && this.files.intact(current.file, current.fileBytes),
      );
      if (!published) throw new Discarded('another process published a copy of the same source first');
      this.verified.set(name, { file: finalName, definition, relation: checked.relation, bytes: checked.bytes, mtimeNs: checked.mtimeNs, ino: checked.ino });
      this.backoff.delete(name);
      if (previous?.file !== null && previous?.file !== undefined && previous.file !== finalName) this.files.removeLater(previous.file);
      report('done', checked.bytes, { rows: checked.rows });
      await this.repoint(name);
    } catch (error) {
      if (finalName !== undefined) rmSync(this.files.path(finalName), { force: true });
      if (error instanceof Discarded || signal.aborted) {
        const reason = error instanceof Discarded ? error.message : 'stopped';
        if (reason === 'the source changed during the build') this.delayNextBuild(name);
        report('discarded', 0, { reason });
        return;
      }
      this.manifest.refuse(name, 'failed', errorText(error), definition, before);
      report('failed', 0, { reason: errorText(error) });
    } finally {
      this.progress.ended(name);
    }
  }

  /** Points a dataset's view where a fresh decision says (after a build or a verification). */
  private async repoint(name: string): Promise<void> {
    const source = this.catalog.sourceRead(name);
    if (source !== undefined && !this.closed) await this.catalog.pointView(name, this.decide(name, source, false)).catch(() => undefined);
  }

  private delayNextBuild(name: string): void {
    const delay = Math.min(BACKOFF_MS.max, (this.backoff.get(name)?.delay ?? BACKOFF_MS.first / 2) * 2);
    this.backoff.set(name, { until: Date.now() + delay, delay });
  }

  /** Whether the dataset gets a copy now (a Parquet dataset once its view has derived columns). */
  private cacheable(dataset: Dataset): boolean {
    return isCacheable(dataset, this.catalog.sourceRead(fullName(dataset))?.derived.size ?? 0);
  }

  private async targets(names: readonly string[] | undefined, cacheableOnly: boolean): Promise<Dataset[]> {
    const all = (await this.catalog.datasets.list()).filter((d) => !d.system);
    if (names === undefined || names.length === 0) return cacheableOnly ? all.filter((d) => this.cacheable(d)) : all;
    return names.map((raw) => {
      const name = raw.toLowerCase();
      const dataset = all.find((d) => fullName(d) === name);
      if (dataset === undefined) throw new DatasetNotFoundError(name);
      if (cacheableOnly && !this.cacheable(dataset)) throw new InvalidRequestError(`${name} is a Parquet dataset without costly masks: it is read in place, never cached`);
      return dataset;
    });
  }
}

/** CSV and JSON datasets are copied, Parquet ones only to keep derived columns; built-in datasets (the audit trail) never. */
export function isCacheable(dataset: Pick<Dataset, 'format' | 'system'>, derivedColumns = 0): boolean {
  if (dataset.system === true) return false;
  // A Parquet source is as fast to read as a copy, unless costly masks are computed over it on
  // every query: then the copy holds them beside its columns (docs/performance.md).
  return dataset.format === 'csv' || dataset.format === 'json' || (dataset.format === 'parquet' && derivedColumns > 0);
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
