import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listSourceFiles, segmentMatcher } from './glob-files.ts';

function tree(files: readonly string[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'veil-glob-'));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), 'x');
  }
  return root;
}

test('a plain path is itself, a directory glob finds files at every depth (** matches zero directories)', () => {
  const root = tree(['a.csv', 'b.csv.gz', 'notes.txt', 'year=2020/c.csv', 'year=2020/month=1/d.csv', '.hidden.csv']);
  try {
    assert.deepEqual(listSourceFiles(path.join(root, 'a.csv')), [path.join(root, 'a.csv')]);
    const rel = (files: string[]): string[] => files.map((f) => path.relative(root, f));
    assert.deepEqual(rel(listSourceFiles(path.join(root, '**', '*.csv*'))), ['.hidden.csv', 'a.csv', 'b.csv.gz', 'year=2020/c.csv', 'year=2020/month=1/d.csv']);
    assert.deepEqual(rel(listSourceFiles(path.join(root, '*.csv'))), ['.hidden.csv', 'a.csv']);
    assert.deepEqual(rel(listSourceFiles(path.join(root, 'year=*', '*.csv'))), ['year=2020/c.csv']);
    assert.deepEqual(rel(listSourceFiles(path.join(root, '[ab].csv*'))), ['a.csv', 'b.csv.gz']);
    assert.deepEqual(rel(listSourceFiles(path.join(root, 'nothing', '*.csv'))), []);
    assert.throws(() => listSourceFiles(path.join(root, 'missing.csv')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('segments translate glob syntax, and anything doubtful matches more rather than less', () => {
  assert.ok(segmentMatcher('*.csv').test('data.csv'));
  assert.ok(!segmentMatcher('*.csv').test('data.csv.gz'));
  assert.ok(segmentMatcher('part-?.json').test('part-1.json'));
  assert.ok(segmentMatcher('[!x]*.csv').test('a.csv'));
  assert.ok(!segmentMatcher('[!x]*.csv').test('x.csv'));
  assert.ok(segmentMatcher('a.(b)+c').test('a.(b)+c'));
  assert.ok(segmentMatcher('{a,b}.csv').test('anything'));
  assert.ok(segmentMatcher('[unbalanced').test('anything'));
});
