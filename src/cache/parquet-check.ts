import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { sqlIdentifier, sqlString, type DuckDbEngine, type ResultColumn } from '../engine/index.ts';

/**
 * Column types whose Parquet form is not exact: DuckDB writes HUGEINT and UHUGEINT as DOUBLE, and
 * BIGNUM (VARINT) as text. A dataset with one of them anywhere (nested too) is never cached.
 */
const INEXACT_TYPES = /\b(U?HUGEINT|INT128|UINT128|BIGNUM|VARINT)\b/i;

export function inexactColumn(columns: readonly ResultColumn[]): ResultColumn | undefined {
  return columns.find((c) => INEXACT_TYPES.test(c.type));
}

/**
 * The relation a dataset's view reads from its copy: the Parquet file with every column of the
 * source's type. Types DuckDB writes in another exact form (ENUM as VARCHAR, TIMESTAMP_S as
 * TIMESTAMP, fixed-size arrays as lists) are cast back, so that the view has exactly the source
 * view's column names and types.
 */
export function cachedRelationSql(file: string, source: readonly ResultColumn[], stored: readonly ResultColumn[]): string {
  const read = `read_parquet(${sqlString(file)})`;
  const same = source.length === stored.length && source.every((c, i) => c.name === stored[i]?.name && c.type === stored[i]?.type);
  if (same) return read;
  const list = source.map((c, i) => (c.type === stored[i]?.type ? sqlIdentifier(c.name) : `CAST(${sqlIdentifier(c.name)} AS ${c.type}) AS ${sqlIdentifier(c.name)}`));
  return `(SELECT ${list.join(', ')} FROM ${read})`;
}

export interface VerifiedFile {
  /** The relation to read the copy with (cachedRelationSql). */
  readonly relation: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  /** Stat of the file when it was checked: any later change to it is seen before a query reads it. */
  readonly mtimeNs: string;
  readonly ino: string;
}

/**
 * Checks that a Parquet file is a whole, readable copy with the source's columns before any view
 * reads it: its size and footer (row count, file size as the footer records it), a count through
 * the reader, the column names and types through the relation the view will use, and its sha256
 * against the manifest's when one is known (a copy changed in place, even at the same size).
 * Throws with the reason otherwise.
 */
export async function verifyParquet(
  engine: DuckDbEngine,
  file: string,
  source: readonly ResultColumn[],
  expected: { readonly rows?: number; readonly bytes?: number; readonly sha256?: string },
): Promise<VerifiedFile> {
  const before = statSync(file, { bigint: true });
  const bytes = Number(before.size);
  if (expected.bytes !== undefined && bytes !== expected.bytes) throw new Error(`file has ${bytes} bytes, the manifest says ${expected.bytes}`);
  let footer: [string | number, string | number] | undefined;
  try {
    [footer] = await engine.runInternal<[string | number, string | number]>(`SELECT num_rows, file_size_bytes FROM parquet_file_metadata(${sqlString(file)})`);
  } catch (error) {
    throw new Error(`the Parquet footer cannot be read: ${firstLine(error)}`);
  }
  if (footer === undefined) throw new Error('the Parquet footer cannot be read');
  const rows = Number(footer[0]);
  if (Number(footer[1]) !== bytes) throw new Error(`the footer describes a file of ${footer[1]} bytes, the file has ${bytes}`);
  if (expected.rows !== undefined && rows !== expected.rows) throw new Error(`the footer counts ${rows} rows, the manifest ${expected.rows}`);
  const sha256 = await fileSha256(file);
  if (expected.sha256 !== undefined && sha256 !== expected.sha256) throw new Error('the file content differs from the manifest (sha256)');
  const stored = await engine.describeQuery(`SELECT * FROM read_parquet(${sqlString(file)})`);
  const relation = cachedRelationSql(file, source, stored);
  const columns = await engine.describeQuery(`SELECT * FROM ${relation}`);
  const mismatch = source.findIndex((c, i) => c.name !== columns[i]?.name || c.type !== columns[i]?.type);
  if (mismatch !== -1 || columns.length !== source.length) throw new Error(`the copy's columns differ from the source's (${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  const [counted] = await engine.runInternal<[string | number]>(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);
  if (Number(counted?.[0]) !== rows) throw new Error(`the reader counts ${String(counted?.[0])} rows, the footer ${rows}`);
  const after = statSync(file, { bigint: true });
  if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ino !== before.ino) throw new Error('the file changed while it was checked');
  return { relation, rows, bytes, sha256, mtimeNs: after.mtimeNs.toString(), ino: after.ino.toString() };
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
