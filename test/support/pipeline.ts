import { chunkRowsJson } from '../../src/engine/index.ts';
import { VeilError } from '../../src/errors/index.ts';
import type { Principal } from '../../src/identity/index.ts';
import type { PreparedQuery, QueryService } from '../../src/query/index.ts';

/** What a statement gives through the pipeline every door uses: its rows (as JSON values) or its error. */
export type PipelineOutcome = { readonly rows: unknown[][] } | { readonly error: string; readonly message: string };

/** Streams a prepared statement to the end and collects its rows as JSON values. */
export async function collectRows(queries: QueryService, prepared: PreparedQuery): Promise<unknown[][]> {
  const stream = await queries.open(prepared);
  const rows: unknown[][] = [];
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) rows.push(...chunkRowsJson(chunk));
  } finally {
    stream.close();
  }
  return rows;
}

/** prepare → open → stream, as every door does; Veil errors become outcomes, anything else throws. */
export async function pipelineOutcome(queries: QueryService, principal: Principal, sql: string): Promise<PipelineOutcome> {
  try {
    return { rows: await collectRows(queries, await queries.prepare(principal, sql)) };
  } catch (error) {
    if (error instanceof VeilError) return { error: error.code, message: error.message };
    throw error;
  }
}
