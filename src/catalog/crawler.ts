import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidRequestError, VeilError } from '../errors/index.ts';
import type { CatalogService } from './catalog-service.ts';
import { fullName, NAME_PATTERN, type Dataset, type DatasetFormat } from './dataset-types.ts';
import { DIRECTORY_FILE_PATTERN, readFunctionSql } from './source-relation.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { isS3Location, type S3Mirror } from './s3-storage.ts';

/**
 * Crawling: registers every dataset under a storage prefix, and on later runs reports what
 * changed. A dataset is
 *   - a directory whose files share one format (a table split into parts), or
 *   - a directory of Hive `key=value` directories (a partitioned table), or
 *   - a single data file that sits beside other datasets.
 * Names come from the path below the crawl root. Nothing people wrote is ever changed: existing
 * datasets keep their descriptions, tags and types; a schema that no longer matches the data is
 * reported as drift, not applied.
 */
export interface CrawlReport {
  readonly root: string;
  readonly database: string;
  readonly registered: readonly { dataset: string; location: string; format: DatasetFormat; columns: number }[];
  readonly unchanged: readonly string[];
  readonly changed: readonly { dataset: string; files_added: number; files_changed: number; files_removed: number }[];
  readonly drift: readonly { dataset: string; added_columns: readonly string[]; removed_columns: readonly string[]; changed_types: readonly { column: string; registered: string; found: string }[] }[];
  readonly missing: readonly string[];
  readonly errors: readonly { location: string; error: string }[];
}

interface Candidate {
  readonly location: string;
  readonly format: DatasetFormat;
  readonly name: string;
  readonly files: readonly FileStamp[];
}

export interface FileStamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

const FORMAT_OF: Record<string, DatasetFormat> = { '.csv': 'csv', '.tsv': 'csv', '.parquet': 'parquet', '.json': 'json', '.jsonl': 'json', '.ndjson': 'json' };
const MAX_FILES = 100_000;

/** Where each crawled dataset's files were last seen (size, mtime), to report changes next time. */
/** What each crawled dataset's files looked like at the last crawl (src/store/crawl-state-repository.ts). */
export interface CrawlState {
  get(dataset: string): Promise<readonly FileStamp[] | undefined>;
  set(dataset: string, files: readonly FileStamp[]): Promise<void>;
}

/**
 * How far a crawl has come, for a caller that shows it (an HTTP stream, a progress bar): reported
 * once the candidates are known (done 0, location: the crawl root), then after each candidate.
 */
export interface CrawlProgress {
  readonly done: number;
  readonly total: number;
  readonly location: string;
  readonly phase: 'listed' | 'registered' | 'checked' | 'failed';
}

export type CrawlProgressListener = (progress: CrawlProgress) => void;

/** What a crawl found so far, filled candidate by candidate. */
interface CrawlTally {
  readonly registered: CrawlReport['registered'][number][];
  readonly unchanged: string[];
  readonly changed: CrawlReport['changed'][number][];
  readonly drift: CrawlReport['drift'][number][];
  readonly errors: CrawlReport['errors'][number][];
  readonly seen: Set<string>;
}

export async function crawl(
  catalog: CatalogService,
  engine: DuckDbEngine,
  state: CrawlState,
  storageRoot: string,
  options: {
    prefix: string;
    database: string;
    owner?: string;
    /** How a path below `storageRoot` is registered (S3 crawls register s3:// locations). */
    locationOf?: (relative: string) => string;
    /** Called as the crawl goes; an exception it throws ends the crawl. */
    onProgress?: CrawlProgressListener;
  },
): Promise<CrawlReport> {
  const locationOf = options.locationOf ?? ((relative: string) => relative);
  const onProgress = options.onProgress ?? (() => undefined);
  if (!NAME_PATTERN.test(options.database)) throw new InvalidRequestError(`database names use a-z, 0-9 and _ (got "${options.database}")`);
  if (options.prefix.split(/[\\/]/).includes('..')) throw new InvalidRequestError('the crawl prefix must not contain ".." segments');
  const root = path.resolve(storageRoot, options.prefix);
  const realRoot = realpathSync(storageRoot);
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    throw new InvalidRequestError(`${options.prefix} does not exist under the storage root`);
  }
  if (path.relative(realRoot, real).startsWith('..')) throw new InvalidRequestError(`${options.prefix} is outside the storage root`);

  const candidates = findCandidates(real, real, { count: 0 }).map((c) => ({ ...c, location: locationOf(path.relative(realRoot, path.join(real, c.location)) || '.') }));
  const rootLocation = locationOf(path.relative(realRoot, real) || '.');
  const tally: CrawlTally = { registered: [], unchanged: [], changed: [], drift: [], errors: [], seen: new Set() };
  const existing = new Map((await catalog.datasets.list()).filter((d) => !d.system).map((d) => [normalized(d.location), d]));
  const context = { catalog, engine, state, database: options.database, ...(options.owner === undefined ? {} : { owner: options.owner }) };

  onProgress({ done: 0, total: candidates.length, location: rootLocation, phase: 'listed' });
  for (const [index, candidate] of candidates.entries()) {
    const phase = await crawlCandidate(context, existing.get(normalized(candidate.location)), candidate, tally);
    onProgress({ done: index + 1, total: candidates.length, location: candidate.location, phase });
  }
  // Datasets registered under this prefix whose files are gone: reported, never dropped silently.
  const prefix = normalized(rootLocation);
  const missing = [...existing.values()]
    .filter((d) => d.database === options.database && (prefix === '.' || normalized(d.location) === prefix || normalized(d.location).startsWith(`${prefix}/`)) && !tally.seen.has(fullName(d)))
    .map(fullName);
  const { registered, unchanged, changed, drift, errors } = tally;
  return { root: options.prefix, database: options.database, registered, unchanged, changed, drift, missing, errors };
}

/**
 * One candidate: registered when new, otherwise compared with what was seen last time. A failure
 * is recorded against its location and the crawl goes on with the next one.
 */
async function crawlCandidate(
  context: { catalog: CatalogService; engine: DuckDbEngine; state: CrawlState; database: string; owner?: string },
  current: Dataset | undefined,
  candidate: Candidate,
  tally: CrawlTally,
): Promise<Exclude<CrawlProgress['phase'], 'listed'>> {
  const { catalog, engine, state } = context;
  try {
    if (current === undefined) {
      const name = await uniqueName(catalog, context.database, candidate.name);
      const dataset = await catalog.register({ name: `${context.database}.${name}`, location: candidate.location, format: candidate.format, ...(context.owner === undefined ? {} : { owner: context.owner }) });
      await state.set(fullName(dataset), candidate.files);
      tally.seen.add(fullName(dataset));
      tally.registered.push({ dataset: fullName(dataset), location: candidate.location, format: candidate.format, columns: dataset.columns.length });
      return 'registered';
    }
    const name = fullName(current);
    tally.seen.add(name);
    const difference = fileDifference(await state.get(name), candidate.files);
    await state.set(name, candidate.files);
    const schema = await schemaDrift(catalog, engine, current);
    if (schema !== undefined) tally.drift.push({ dataset: name, ...schema });
    if (difference.files_added + difference.files_changed + difference.files_removed > 0) tally.changed.push({ dataset: name, ...difference });
    else if (schema === undefined) tally.unchanged.push(name);
    return 'checked';
  } catch (error) {
    tally.errors.push({ location: candidate.location, error: error instanceof VeilError ? error.message : String(error) });
    return 'failed';
  }
}

function findCandidates(root: string, dir: string, counter: { count: number }): Candidate[] {
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && !e.name.startsWith('_'));
  const files = entries.filter((e) => e.isFile() && FORMAT_OF[path.extname(e.name).toLowerCase()] !== undefined);
  const dirs = entries.filter((e) => e.isDirectory());
  const relative = path.relative(root, dir);
  const stamp = (file: string): FileStamp => {
    if (++counter.count > MAX_FILES) throw new InvalidRequestError(`more than ${MAX_FILES} files under the crawl root; crawl a narrower prefix`);
    const s = statSync(file);
    return { path: path.relative(root, file), size: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
  };
  // A partitioned table: every sub-directory is key=value.
  if (dirs.length > 0 && files.length === 0 && dirs.every((d) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(d.name))) {
    const all = listFiles(dir).filter((f) => FORMAT_OF[path.extname(f).toLowerCase()] !== undefined);
    const format = singleFormat(all);
    return format === undefined || relative === '' ? [] : [{ location: relative, format, name: datasetNameOf(relative), files: all.map(stamp) }];
  }
  const out: Candidate[] = [];
  const formats = new Set(files.map((f) => FORMAT_OF[path.extname(f.name).toLowerCase()]));
  if (files.length > 0 && dirs.length === 0 && formats.size === 1 && relative !== '') {
    // A directory holding the parts of one table.
    out.push({ location: relative, format: [...formats][0] as DatasetFormat, name: datasetNameOf(relative), files: files.map((f) => stamp(path.join(dir, f.name))) });
  } else {
    for (const file of files) {
      const rel = path.join(relative, file.name);
      out.push({ location: rel, format: FORMAT_OF[path.extname(file.name).toLowerCase()] as DatasetFormat, name: datasetNameOf(rel.replace(/\.[^.]+$/, '')), files: [stamp(path.join(dir, file.name))] });
    }
  }
  for (const sub of dirs) out.push(...findCandidates(root, path.join(dir, sub.name), counter));
  return out;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

function singleFormat(files: readonly string[]): DatasetFormat | undefined {
  const formats = new Set(files.map((f) => FORMAT_OF[path.extname(f).toLowerCase()]));
  return formats.size === 1 ? [...formats][0] : undefined;
}

/** trial-july2020/data → trial_july2020_data; leading digits get a prefix. */
export function datasetNameOf(relativePath: string): string {
  const name = relativePath.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 120) || 'dataset';
  return /^[a-z_]/.test(name) ? name : `d_${name}`;
}

async function uniqueName(catalog: CatalogService, database: string, base: string): Promise<string> {
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}_${i}`;
    if ((await catalog.datasets.find(`${database}.${name}`)) === undefined) return name;
  }
}

function normalized(location: string): string {
  return location.replace(/\\/g, '/').replace(/\/+$/, '').replace(/^\.\//, '') || '.';
}

function fileDifference(before: readonly FileStamp[] | undefined, after: readonly FileStamp[]): { files_added: number; files_changed: number; files_removed: number } {
  if (before === undefined) return { files_added: 0, files_changed: 0, files_removed: 0 };
  const old = new Map(before.map((f) => [f.path, f]));
  let added = 0;
  let changedCount = 0;
  for (const file of after) {
    const previous = old.get(file.path);
    if (previous === undefined) added++;
    else if (previous.size !== file.size || previous.mtimeMs !== file.mtimeMs) changedCount++;
    old.delete(file.path);
  }
  return { files_added: added, files_changed: changedCount, files_removed: old.size };
}

/** The schema the data has now, against the registered one (never applied). */
async function schemaDrift(catalog: CatalogService, engine: DuckDbEngine, dataset: Dataset): Promise<Omit<CrawlReport['drift'][number], 'dataset'> | undefined> {
  const location = catalog.storage.resolve(dataset.location, DIRECTORY_FILE_PATTERN[dataset.format]);
  const found = await engine.describeQuery(`SELECT * FROM ${readFunctionSql(dataset.format, location, dataset.csv, undefined)}`);
  const registered = new Map(dataset.columns.map((c) => [c.name, c.type]));
  const now = new Map(found.map((c) => [c.name, c.type]));
  const added = [...now.keys()].filter((c) => !registered.has(c));
  const removed = [...registered.keys()].filter((c) => !now.has(c));
  // A type the steward overrode (zip as VARCHAR) is not drift when the data still reads that way.
  const changedTypes = [...now.entries()]
    .filter(([c, type]) => registered.has(c) && registered.get(c) !== type && !(registered.get(c) === 'VARCHAR'))
    .map(([column, type]) => ({ column, registered: registered.get(column) as string, found: type }));
  if (added.length + removed.length + changedTypes.length === 0) return undefined;
  return { added_columns: added, removed_columns: removed, changed_types: changedTypes };
}

/**
 * A crawl of a URI: a prefix of the local storage root (optionally file://), or s3://bucket/prefix,
 * which is first mirrored (s3-storage.ts) and registered with s3:// locations.
 */
export async function crawlUri(
  deps: { catalog: CatalogService; engine: DuckDbEngine; state: CrawlState; storageRoot: string },
  uri: string,
  options: { database: string; owner?: string; onProgress?: CrawlProgressListener },
): Promise<CrawlReport> {
  if (!isS3Location(uri)) {
    return crawl(deps.catalog, deps.engine, deps.state, deps.storageRoot, { ...options, prefix: uri.replace(/^file:\/\//i, '') });
  }
  const s3 = (deps.catalog.storage as { s3?: S3Mirror }).s3;
  if (s3 === undefined) throw new InvalidRequestError('S3 is not configured');
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  const bucket = match?.[1] ?? '';
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  await s3.sync(`s3://${bucket}/${prefix === '' ? '' : `${prefix}/`}`);
  const bucketRoot = s3.localPath(`s3://${bucket}/`);
  const report = await crawl(deps.catalog, deps.engine, deps.state, bucketRoot, {
    ...options,
    prefix: prefix === '' ? '.' : prefix,
    locationOf: (relative) => `s3://${bucket}/${relative === '.' ? '' : relative.split(path.sep).join('/')}`,
  });
  return { ...report, root: uri };
}
