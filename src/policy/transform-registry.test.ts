import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDbEngine } from '../engine/index.ts';
import { DEFAULT_SETTINGS } from '../home/index.ts';
import { TRANSFORM_STRENGTH, transformDefinition, transformMacros } from './transform-registry.ts';
import { parseTransform, transformOutputType, transformSql } from './transforms.ts';

/**
 * The registry is the one place a transform is defined: these checks make sure an entry is
 * complete (documented, golden-tested) and that what it declares is what DuckDB computes.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const context = { referenceDate: new Date('2026-06-15T00:00:00Z') };
const TYPES = ['VARCHAR', 'BIGINT', 'INTEGER', 'DOUBLE', 'DECIMAL(10,2)', 'DATE', 'TIMESTAMP', 'BOOLEAN'];
let engine: DuckDbEngine;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'veil-registry-'));
  engine = await DuckDbEngine.open({ allowedDirectories: [dir] }, transformMacros(Buffer.alloc(32, 3), DEFAULT_SETTINGS.zip3RestrictedPrefixes));
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The text of a call with every argument given (defaults for optional ones). */
function sample(name: string): string {
  const { args } = transformDefinition(name as never);
  return args.length === 0 ? name : `${name}(${args.map((kind) => (kind === 'integer' ? '2' : "'***'")).join(', ')})`;
}

test('every transform is documented in docs/policies.md and has a golden test', () => {
  const docs = readFileSync(path.join(ROOT, 'docs', 'policies.md'), 'utf8');
  const golden = readFileSync(path.join(ROOT, 'src', 'policy', 'transforms.test.ts'), 'utf8');
  for (const name of TRANSFORM_STRENGTH) {
    assert.match(docs, new RegExp(`^\\| \`${name}[\`(]`, 'm'), `${name} has a row in the transforms table of docs/policies.md`);
    assert.match(golden, new RegExp(`apply\\('${name}[('\\s]`), `${name} has a golden test in transforms.test.ts`);
  }
});

test('for every type, a transform either refuses it or produces exactly the type it declares', async () => {
  for (const name of TRANSFORM_STRENGTH) {
    const spec = parseTransform(sample(name));
    for (const type of TYPES) {
      const sql = transformSql(spec, 'v', type, context);
      if (sql === undefined) continue;
      const rows = await engine.runInternal<unknown[]>(`SELECT typeof(${sql}) FROM (SELECT CAST(NULL AS ${type}) AS v)`);
      assert.equal(rows[0]?.[0], transformOutputType(spec, type), `${spec.text} over ${type}`);
    }
  }
});

test('the strength order is total and parameters order within a transform', () => {
  assert.equal(new Set(TRANSFORM_STRENGTH).size, TRANSFORM_STRENGTH.length);
  assert.deepEqual(TRANSFORM_STRENGTH.slice(0, 2), ['null', 'redact'], 'nulling and redaction reveal least');
  const show = (n: number): number => transformDefinition('mask_show_last').revealing?.([n]) ?? 0;
  assert.ok(show(1) < show(4));
  const bucket = (w: number): number => transformDefinition('age_bucket').revealing?.([w]) ?? 0;
  assert.ok(bucket(20) < bucket(10), 'a wider bucket reveals less');
});
