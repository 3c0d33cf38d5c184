import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidDatasetError } from '../errors/index.ts';

/**
 * Where dataset files live. DuckDB reads local paths; an object store (S3) implements the same
 * interface by mirroring objects into a local cache directory (s3-storage.ts).
 */
export interface StorageBackend {
  /** Directories DuckDB must be allowed to read. */
  readonly roots: readonly string[];
  /** Turns a registered location into the path or glob DuckDB reads, checking it stays inside a root. */
  resolve(location: string, filePattern: string): ResolvedLocation;
  /** Brings a location's local copy up to date before it is read (remote stores only). */
  prepare?(location: string): Promise<void>;
}

export interface ResolvedLocation {
  /** Path or glob for DuckDB's read_* functions. */
  readonly readPath: string;
  /** Names of Hive partition keys (key=value directories) under a directory location. */
  readonly partitionKeys: readonly string[];
}

const GLOB_CHARS = /[*?[\]{}]/;

export class LocalFileStorage implements StorageBackend {
  readonly roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.roots = roots.map((root) => path.resolve(root));
  }

  resolve(location: string, filePattern: string): ResolvedLocation {
    if (location.includes('\u0000')) throw new InvalidDatasetError('location contains a NUL character');
    // ".." could climb out of the root inside the glob part, which realpath cannot check.
    if (location.split(/[\\/]/).includes('..')) throw new InvalidDatasetError('location must not contain ".." segments');
    const root = this.roots[0];
    if (root === undefined) throw new InvalidDatasetError('no storage root is configured');
    const absolute = path.isAbsolute(location) ? path.normalize(location) : path.resolve(root, location);
    const globStart = absolute.search(GLOB_CHARS);
    const fixedPart = globStart === -1 ? absolute : path.dirname(absolute.slice(0, globStart + 1));
    // Decided on the path as written, before looking at the disk: a path outside the roots gets the
    // same answer whether it exists or not, so registering datasets cannot map the server's files.
    if (!this.roots.some((r) => isInside(r, fixedPart) || isInside(realpathOrSelf(r), fixedPart))) {
      throw new InvalidDatasetError(`location ${location} is outside the storage roots`);
    }
    if (!existsSync(fixedPart)) throw new InvalidDatasetError(`location ${location} does not exist`);
    // realpath defeats symlinks and ".." that would leave the storage root
    const real = realpathSync(fixedPart);
    if (!this.roots.some((r) => isInside(realpathSync(r), real))) {
      throw new InvalidDatasetError(`location ${location} is outside the storage roots`);
    }
    if (globStart !== -1) {
      return { readPath: real + absolute.slice(fixedPart.length), partitionKeys: [] };
    }
    if (statSync(real).isDirectory()) {
      const partitionKeys = findPartitionKeys(real);
      return { readPath: path.join(real, '**', filePattern), partitionKeys };
    }
    return { readPath: real, partitionKeys: [] };
  }
}

function realpathOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Follows the first key=value directory at each level: partition keys are the same along every path. */
export function findPartitionKeys(directory: string): string[] {
  const keys: string[] = [];
  let current = directory;
  for (let depth = 0; depth < 16; depth++) {
    const entry = readdirSync(current, { withFileTypes: true }).find((e) => e.isDirectory() && /^[^=]+=/.test(e.name));
    if (!entry) break;
    keys.push(entry.name.slice(0, entry.name.indexOf('=')));
    current = path.join(current, entry.name);
  }
  return keys;
}
