import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { listSourceFiles } from './glob-files.ts';

/** One source file as it was seen: any change to it changes the stamp. */
export interface StampedFile {
  readonly path: string;
  readonly size: number;
  /** Modification and status-change times in nanoseconds, and the inode (an atomic replace changes it). */
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly ino: string;
}

/**
 * What a dataset's source looked like: every file it reads, and for S3 datasets the ETags of the
 * objects the local mirror holds. Two stamps with the same digest describe the same bytes as far as
 * file metadata can tell (see docs/cache.md, "Validation").
 */
export interface SourceStamp {
  readonly files: readonly StampedFile[];
  /** S3 only: object key to ETag, as the mirror last fetched them. */
  readonly etags?: Readonly<Record<string, string>>;
  readonly bytes: number;
  readonly digest: string;
}

/**
 * Stats every file of a read path (a file, a directory glob or a user's glob). Synchronous and
 * cheap (one stat per file), so it runs before every query; throws when the files cannot be read.
 */
export function stampSource(readPath: string, etags?: Readonly<Record<string, string>>): SourceStamp {
  const files: StampedFile[] = listSourceFiles(readPath).map((file) => {
    const stats = statSync(file, { bigint: true });
    return { path: file, size: Number(stats.size), mtimeNs: stats.mtimeNs.toString(), ctimeNs: stats.ctimeNs.toString(), ino: stats.ino.toString() };
  });
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\u0000${f.size}\u0000${f.mtimeNs}\u0000${f.ctimeNs}\u0000${f.ino}\n`);
  if (etags !== undefined) for (const key of Object.keys(etags).sort()) hash.update(`etag\u0000${key}\u0000${etags[key] ?? ''}\n`);
  return {
    files,
    ...(etags === undefined ? {} : { etags }),
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    digest: hash.digest('hex'),
  };
}
