import { mkdirSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { TEMP_PREFIX } from './cache-builder.ts';

/** A replaced or evicted file stays this long: another process may have just checked it. */
const REMOVE_GRACE_MS = 2000;
/** Unnamed files older than this are leftovers: of builds that died with their process, of replaced copies. */
const ORPHAN_AGE_MS = { temporary: 3_600_000, copy: 600_000 } as const;

/** A copy's file as a process checked it: any later change to it is seen before a query reads it. */
export interface FileIdentity {
  readonly file: string;
  readonly bytes: number;
  readonly mtimeNs: string;
  readonly ino: string;
}

/** The files under `<home>/cache/columnar`: paths, identity checks and removal. */
export class CopyFiles {
  /** The real path: DuckDB checks reads against its allowed directories by real path. */
  readonly directory: string;
  private readonly removals = new Map<string, NodeJS.Timeout>();

  constructor(directory: string) {
    mkdirSync(directory, { recursive: true });
    this.directory = realpathSync(directory);
  }

  path(file: string): string {
    return path.join(this.directory, file);
  }

  /** Whether the file is still exactly the one identified (size, modification time, inode). */
  unchanged(identity: FileIdentity): boolean {
    try {
      const stats = statSync(this.path(identity.file), { bigint: true });
      return Number(stats.size) === identity.bytes && stats.mtimeNs.toString() === identity.mtimeNs && stats.ino.toString() === identity.ino;
    } catch {
      return false;
    }
  }

  /** Whether the file exists with the size the manifest records. */
  intact(file: string | null, bytes: number | null): boolean {
    if (file === null) return false;
    try {
      return statSync(this.path(file)).size === bytes;
    } catch {
      return false;
    }
  }

  /** Removes a file the manifest no longer names, after REMOVE_GRACE_MS. */
  removeLater(file: string): void {
    if (this.removals.has(file)) return;
    const timer = setTimeout(() => {
      this.removals.delete(file);
      rmSync(this.path(file), { force: true });
    }, REMOVE_GRACE_MS);
    timer.unref();
    this.removals.set(file, timer);
  }

  /** Removes leftovers: files no manifest row names (`named`), old enough not to be another process's work in progress. */
  sweep(named: ReadonlySet<string>): void {
    const now = Date.now();
    for (const file of readdirSync(this.directory)) {
      if (named.has(file) || this.removals.has(file)) continue;
      try {
        const age = now - statSync(this.path(file)).mtimeMs;
        if (age > (file.startsWith(TEMP_PREFIX) ? ORPHAN_AGE_MS.temporary : ORPHAN_AGE_MS.copy)) rmSync(this.path(file), { force: true });
      } catch {
        // removed meanwhile
      }
    }
  }

  /** At close: pending removals happen now (the process will not be there in two seconds). */
  close(): void {
    for (const [file, timer] of this.removals) {
      clearTimeout(timer);
      rmSync(this.path(file), { force: true });
    }
    this.removals.clear();
  }
}
