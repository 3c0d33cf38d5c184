import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { InvalidDatasetError, InvalidRequestError, StorageError } from '../errors/index.ts';
import { findPartitionKeys, type ResolvedLocation, type StorageBackend } from './storage.ts';

/**
 * Datasets on S3 and S3-compatible stores. DuckDB cannot read S3 here (httpfs cannot be
 * installed), so objects are mirrored into a local cache through the AWS SDK, and DuckDB reads the
 * cache. Before every registration and every query the mirror is brought up to date by listing the
 * objects and comparing ETags: changed objects are downloaded again, removed ones deleted, so a
 * query never sees stale data after an object changes.
 */
export interface S3Settings {
  readonly endpoint?: string;
  readonly region?: string;
  readonly force_path_style?: boolean;
  readonly access_key_id?: string;
  readonly secret_access_key?: string;
}

const S3_KEYS = new Set(['endpoint', 'region', 'force_path_style', 'access_key_id', 'secret_access_key']);

export function parseS3Settings(value: unknown, source: string): S3Settings {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidRequestError(`${source}: s3 must be a mapping`);
  for (const key of Object.keys(value)) if (!S3_KEYS.has(key)) throw new InvalidRequestError(`${source}: unknown s3 setting "${key}"`);
  const s = value as Record<string, unknown>;
  for (const key of ['endpoint', 'region', 'access_key_id', 'secret_access_key']) {
    if (s[key] !== undefined && typeof s[key] !== 'string') throw new InvalidRequestError(`${source}: s3.${key} must be a string`);
  }
  if (s['force_path_style'] !== undefined && typeof s['force_path_style'] !== 'boolean') throw new InvalidRequestError(`${source}: s3.force_path_style must be true or false`);
  if ((s['access_key_id'] === undefined) !== (s['secret_access_key'] === undefined)) throw new InvalidRequestError(`${source}: give both s3.access_key_id and s3.secret_access_key, or neither (standard credential chain)`);
  return s;
}

export function isS3Location(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

function parseS3(location: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(location);
  if (match === null) throw new InvalidDatasetError(`${location} is not an s3://bucket/key location`);
  const key = match[2] ?? '';
  if (key.split('/').some((part) => part === '..' || part === '.')) throw new InvalidDatasetError('S3 keys must not contain "." or ".." segments');
  return { bucket: match[1] as string, key };
}

export interface SyncResult {
  readonly downloaded: number;
  readonly removed: number;
  readonly unchanged: number;
}

export class S3Mirror {
  /** Created on first use: deployments without S3 never load a client. */
  private clientInstance: S3Client | undefined;
  private readonly config: S3ClientConfig;
  /** One sync per location at a time; concurrent queries share it. */
  private readonly inflight = new Map<string, Promise<SyncResult>>();

  constructor(
    private readonly cacheRoot: string,
    settings: S3Settings,
  ) {
    const config: S3ClientConfig = {
      region: settings.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.force_path_style === undefined ? {} : { forcePathStyle: settings.force_path_style }),
      ...(settings.access_key_id === undefined || settings.secret_access_key === undefined
        ? {}
        : { credentials: { accessKeyId: settings.access_key_id, secretAccessKey: settings.secret_access_key } }),
    };
    this.config = config;
  }

  private get client(): S3Client {
    this.clientInstance ??= new S3Client(this.config);
    return this.clientInstance;
  }

  /** Where the objects of a location live in the cache (a file, or a directory for a prefix). */
  localPath(location: string): string {
    const { bucket, key } = parseS3(location);
    return path.join(this.cacheRoot, bucket, ...key.split('/').filter((p) => p !== ''));
  }

  sync(location: string): Promise<SyncResult> {
    const running = this.inflight.get(location);
    if (running !== undefined) return running;
    const work = this.syncNow(location).finally(() => this.inflight.delete(location));
    this.inflight.set(location, work);
    return work;
  }

  close(): void {
    this.clientInstance?.destroy();
  }

  /** Object key to ETag of what the mirror holds for a location, as last synced (the columnar cache's stamp). */
  knownEtags(location: string): Record<string, string> {
    const manifestFile = path.join(this.cacheRoot, '.manifests', `${createHash('sha256').update(location).digest('hex')}.json`);
    try {
      return JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  private async syncNow(location: string): Promise<SyncResult> {
    const { bucket, key } = parseS3(location);
    const objects = await this.list(bucket, key);
    // A key that names one object is a file; otherwise the key is a prefix (a directory).
    const single = objects.find((o) => o.key === key);
    const wanted = single !== undefined ? [single] : objects.filter((o) => o.key.startsWith(key === '' || key.endsWith('/') ? key : `${key}/`));
    if (wanted.length === 0) throw new InvalidDatasetError(`no objects at ${location}`);
    const manifestFile = path.join(this.cacheRoot, '.manifests', `${createHash('sha256').update(location).digest('hex')}.json`);
    const manifest = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>) : {};
    let downloaded = 0;
    let unchanged = 0;
    const next: Record<string, string> = {};
    for (const object of wanted) {
      if (object.key.split('/').some((part) => part === '..' || part === '.')) continue; // never written outside the cache
      const target = path.join(this.cacheRoot, bucket, ...object.key.split('/').filter((p) => p !== ''));
      if (manifest[object.key] === object.etag && existsSync(target) && statSync(target).size === object.size) {
        unchanged++;
      } else {
        await this.download(bucket, object.key, target);
        downloaded++;
      }
      next[object.key] = object.etag;
    }
    let removed = 0;
    for (const oldKey of Object.keys(manifest)) {
      if (next[oldKey] === undefined) {
        rmSync(path.join(this.cacheRoot, bucket, ...oldKey.split('/').filter((p) => p !== '')), { force: true });
        removed++;
      }
    }
    mkdirSync(path.dirname(manifestFile), { recursive: true });
    writeFileSync(manifestFile, JSON.stringify(next));
    return { downloaded, removed, unchanged };
  }

  private async list(bucket: string, prefix: string): Promise<{ key: string; etag: string; size: number }[]> {
    const out: { key: string; etag: string; size: number }[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) }));
        for (const o of page.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) out.push({ key: o.Key, etag: o.ETag ?? '', size: o.Size ?? 0 });
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw new StorageError(`cannot list s3://${bucket}/${prefix}: ${(error as Error).name}: ${(error as Error).message}`);
    }
    return out;
  }

  private async download(bucket: string, key: string, target: string): Promise<void> {
    mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.veil-download`;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await response.Body?.transformToByteArray();
      writeFileSync(temporary, bytes ?? new Uint8Array());
      renameSync(temporary, target); // readers see the old file or the new one, never half of it
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new StorageError(`cannot read s3://${bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}

/** Local locations to the file storage; s3:// locations to the S3 mirror's cache. */
export class RoutedStorage implements StorageBackend {
  constructor(
    private readonly local: StorageBackend,
    readonly s3: S3Mirror,
  ) {}

  get roots(): readonly string[] {
    return this.local.roots;
  }

  resolve(location: string, filePattern: string): ResolvedLocation {
    if (!isS3Location(location)) return this.local.resolve(location, filePattern);
    const local = this.s3.localPath(location);
    if (!existsSync(local)) throw new InvalidDatasetError(`${location} has not been fetched yet`);
    if (statSync(local).isDirectory()) return { readPath: path.join(local, '**', filePattern), partitionKeys: findPartitionKeys(local) };
    return { readPath: local, partitionKeys: [] };
  }

  async prepare(location: string): Promise<void> {
    if (isS3Location(location)) await this.s3.sync(location);
  }
}
