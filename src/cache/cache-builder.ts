import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DuckDbEngine } from '../engine/index.ts';

/** How long one build may run before the engine stops it (a shutdown stops it earlier). */
const BUILD_TIMEOUT_MS = 24 * 3_600_000;
const PROGRESS_INTERVAL_MS = 250;
/**
 * DuckDB reads a Parquet file in parallel by row group. Its default (122,880 rows) would leave a
 * 100,000-row dataset one group, read and masked by one thread where the CSV reader used them all
 * (alice's CSV export of it took 1.1x the source's time instead of 0.7x); groups of 16,384 rows
 * (eight vectors) keep every thread busy from small datasets on, for about 6% more bytes.
 */
const ROW_GROUP_ROWS = 16_384;

/** Names of files being written: never read, removed by the sweep when a build died with its process. */
export const TEMP_PREFIX = '.building-';

export interface WrittenCopy {
  readonly file: string;
  readonly rows: number;
  readonly ms: number;
}

/**
 * Writes a dataset's source, exactly as its view reads it (`SELECT * FROM <read call>`, the same
 * column types), into a Parquet file of a unique temporary name, with DuckDB's own writer. Reports
 * the bytes written as they grow. The caller checks the file and renames it into place; on any
 * failure nothing is left behind.
 */
export async function writeParquetCopy(
  engine: DuckDbEngine,
  input: { readonly dataset: string; readonly sourceSql: string; readonly directory: string; readonly signal: AbortSignal; readonly onBytes: (bytes: number) => void },
): Promise<WrittenCopy> {
  const file = path.join(input.directory, `${TEMP_PREFIX}${input.dataset}-${process.pid}-${randomBytes(6).toString('hex')}.parquet`);
  const started = performance.now();
  const timer = setInterval(() => {
    try {
      input.onBytes(statSync(file).size);
    } catch {
      // not created yet
    }
  }, PROGRESS_INTERVAL_MS);
  timer.unref();
  try {
    const rows = await engine.copyTo(`SELECT * FROM ${input.sourceSql}`, file, `FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}`, { timeoutMs: BUILD_TIMEOUT_MS, signal: input.signal });
    return { file, rows, ms: performance.now() - started };
  } catch (error) {
    rmSync(file, { force: true });
    throw error;
  } finally {
    clearInterval(timer);
  }
}
