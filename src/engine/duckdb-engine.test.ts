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
