import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDbEngine } from './duckdb-engine.ts';
import { classifyEngineError } from './engine-error-classifier.ts';

/** Defence in depth: even SQL that slipped past the checker meets a locked-down engine. */
let dir: string;
let engine: DuckDbEngine;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'veil-engine-'));
  writeFileSync(path.join(dir, 'ok.csv'), 'a\n1\n');
  engine = await DuckDbEngine.open({ allowedDirectories: [dir] });
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function fails(sql: string): Promise<string> {
  try {
    const stream = await engine.execute(sql, { timeoutMs: 5000 });
    while ((await stream.nextChunk()) !== null) { /* drain */ }
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`expected failure: ${sql}`);
}

test('files inside the storage roots are readable, others are not', async () => {
  const stream = await engine.execute(`SELECT * FROM read_csv('${dir}/ok.csv')`, { timeoutMs: 5000 });
  assert.equal((await stream.nextChunk())?.rowCount, 1);
  stream.close();
  await fails(`SELECT * FROM read_text('/etc/passwd')`);
  await fails(`SELECT * FROM read_csv('${dir}/../../etc/passwd')`);
  await fails(`SELECT * FROM read_csv('${dir}x/ok.csv')`);
});

test('configuration is locked and extensions cannot be installed', async () => {
  await fails('SET enable_external_access = true');
  await fails("SET allowed_directories = ['/']");
  await fails('INSTALL httpfs');
  await fails('SET lock_configuration = false');
});

test('exactly one statement per execution', async () => {
  const message = await fails('SELECT 1; SELECT 2');
  assert.match(message, /exactly one statement/);
});

test('the statement timeout interrupts a long query', async () => {
  const started = Date.now();
  try {
    const stream = await engine.execute('SELECT count(*) FROM range(100000000000) a', { timeoutMs: 300 });
    while ((await stream.nextChunk()) !== null) { /* drain */ }
    assert.fail('expected a timeout');
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'QUERY_TIMEOUT');
  }
  assert.ok(Date.now() - started < 20_000);
});

test('data-dependent error text is withheld; structural errors keep their first line', () => {
  const conversion = classifyEngineError(new Error("Conversion Error: Could not convert string '123-45-6789' to INT32\n\nLINE 1: ..."));
  assert.doesNotMatch(conversion.publicMessage, /123-45-6789/);
  const binder = classifyEngineError(new Error('Binder Error: Referenced column "ssn" not found in FROM clause!\nCandidate bindings: "a"\n\nLINE 1: SELECT veil_internal.secret'));
  assert.equal(binder.missingColumn, 'ssn');
  assert.doesNotMatch(binder.publicMessage, /LINE|veil_internal/);
  const qualify = classifyEngineError(new Error("Binder Error: Referenced column email not found in FROM clause and can't find in alias map."));
  assert.equal(qualify.missingColumn, 'email');
  const keyword = classifyEngineError(new Error('Binder Error: Column ""name"" in EXCLUDE list not found in FROM clause'));
  assert.equal(keyword.missingColumn, 'name');
});

async function readAll(sql: string, timeoutMs = 10_000): Promise<unknown[][]> {
  const stream = await engine.execute(sql, { timeoutMs });
  const rows: unknown[][] = [];
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) rows.push(...chunk.getRows());
  } finally {
    stream.close();
  }
  return rows;
}

test('streamed queries run with the large streaming buffer, and the locked configuration still holds on them', async () => {
  assert.deepEqual(await readAll("SELECT current_setting('streaming_buffer_size')"), [['122.0 MiB']]);
  await fails("SET streaming_buffer_size = '1GB'");
  assert.deepEqual(await readAll("SELECT current_setting('TimeZone'), current_setting('enable_external_access')"), [['Etc/UTC', false]]);
});

test('a lent connection comes back clean: after half-read, failed and timed-out queries the next ones are right', async () => {
  // More rounds than the pool has connections, so every pooled connection is reused several times.
  for (let round = 0; round < 12; round++) {
    const halfRead = await engine.execute('SELECT range AS n FROM range(1000000)', { timeoutMs: 10_000 });
    assert.equal((await halfRead.nextChunk())?.rowCount, 2048);
    halfRead.close();
    await fails('SELECT CAST(n AS INTEGER) FROM (VALUES (1), (99999999999)) t(n)');
    if (round % 4 === 0) {
      const timedOut = await engine.execute('SELECT count(*) FROM range(100000000000) a', { timeoutMs: 100 }).catch((error: unknown) => {
        assert.equal((error as { code?: string }).code, 'QUERY_TIMEOUT');
        return undefined;
      });
      if (timedOut !== undefined) {
        await assert.rejects(async () => {
          while ((await timedOut.nextChunk()) !== null) { /* drain */ }
        }, { code: 'QUERY_TIMEOUT' });
      }
    }
    const n = round + 100_000;
    assert.deepEqual(await readAll(`SELECT sum(range)::BIGINT FROM range(${n})`), [[BigInt((n * (n - 1)) / 2)]]);
  }
});

test('more concurrent streams than pooled connections all complete with their own rows', async () => {
  const streams = await Promise.all(Array.from({ length: 12 }, (_, i) => engine.execute(`SELECT ${i} AS q, range AS n FROM range(50000)`, { timeoutMs: 20_000 })));
  const counts = await Promise.all(
    streams.map(async (stream, i) => {
      let rows = 0;
      try {
        for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) {
          assert.ok(chunk.getRows().every((row) => row[0] === i));
          rows += chunk.rowCount;
        }
      } finally {
        stream.close();
      }
      return rows;
    }),
  );
  assert.deepEqual(counts, Array.from({ length: 12 }, () => 50000));
});

test('reused connections keep nothing of earlier queries: the memory of materialized CTEs does not add up', async () => {
  const columnData = async (): Promise<number> => {
    const rows = await engine.runInternal<[string, string]>("SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE tag = 'COLUMN_DATA'");
    return Number(rows[0]?.[1] ?? 0);
  };
  // Each query materializes about 9 MB; 30 of them on 8 pooled connections kept about 260 MB when
  // prepared plans lived until garbage collection.
  for (let i = 0; i < 30; i++) {
    assert.deepEqual(await readAll("WITH t AS MATERIALIZED (SELECT range AS n, repeat('x', 50) AS s FROM range(1000000)) SELECT count(*) FROM t"), [[1_000_000n]]);
  }
  assert.ok((await columnData()) < 20_000_000, `COLUMN_DATA is ${await columnData()} bytes after 30 materialized CTEs`);
});
