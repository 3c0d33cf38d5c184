import { readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * The files DuckDB's read_* functions read for a path or glob, as a sorted list of absolute paths,
 * found synchronously (it runs before every query: see source-stamp.ts).
 *
 * Errs on the side of more files, never fewer: a file listed here that DuckDB would skip only
 * makes a change to it invalidate the cache, while a file DuckDB reads and this missed could let
 * a change go unseen. So hidden files match `*`, and a segment with characters DuckDB's glob may
 * treat literally (`{`, `}`) matches any name. `**` matches any number of directories, zero
 * included, as in DuckDB. @see https://duckdb.org/docs/stable/data/multiple_files/overview#glob-syntax
 */
export function listSourceFiles(readPath: string): string[] {
  const globStart = readPath.search(GLOB_CHARS);
  if (globStart === -1) {
    const stats = statSync(readPath);
    return stats.isFile() ? [readPath] : [];
  }
  const base = readPath.slice(0, readPath.lastIndexOf(path.sep, globStart) + 1) || path.sep;
  const segments = readPath.slice(base.length).split(path.sep).filter((s) => s !== '');
  const found = new Set<string>();
  walk(base, segments, found, 0);
  return [...found].sort();
}

/** Directory depth below a glob's fixed part beyond which nothing is followed (symlink loops). */
const MAX_DEPTH = 64;

function walk(directory: string, segments: readonly string[], found: Set<string>, depth: number): void {
  const [segment, ...rest] = segments;
  if (segment === undefined || depth > MAX_DEPTH) return;
  if (segment === '**') {
    walk(directory, rest, found, depth); // zero directories
    for (const entry of entries(directory)) {
      if (entry.stats?.isDirectory() === true) walk(entry.path, segments, found, depth + 1);
    }
    return;
  }
  const matcher = segmentMatcher(segment);
  for (const entry of entries(directory)) {
    if (!matcher.test(entry.name) || entry.stats === undefined) continue;
    if (rest.length === 0) {
      if (entry.stats.isFile()) found.add(entry.path);
    } else if (entry.stats.isDirectory()) {
      walk(entry.path, rest, found, depth + 1);
    }
  }
}

function entries(directory: string): { name: string; path: string; stats: Stats | undefined }[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  return names.map((name) => {
    const full = path.join(directory, name);
    let stats: Stats | undefined;
    try {
      stats = statSync(full); // follows symlinks, as DuckDB does
    } catch {
      stats = undefined; // vanished meanwhile, or a dangling link
    }
    return { name, path: full, stats };
  });
}

/** A regular expression for one path segment of a glob. */
export function segmentMatcher(segment: string): RegExp {
  if (/[{}]/.test(segment)) return /^.*$/s;
  let pattern = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === '*') pattern += '.*';
    else if (char === '?') pattern += '.';
    else if (char === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) return /^.*$/s; // unbalanced: match broadly
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      pattern += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else pattern += char.replace(/[.+^$()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(`^${pattern}$`, 's');
  } catch {
    return /^.*$/s;
  }
}
