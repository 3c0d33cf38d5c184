import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryState, ManifestEntry } from './cache-manifest.ts';
import { decideView } from './view-decision.ts';

function entry(state: EntryState, change: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    dataset: 'd.t', state, definition: 'def', stampDigest: 'stamp', sourceStamp: '{}', sourceBytes: 10, file: state === 'ready' ? 'f.parquet' : null,
    fileBytes: state === 'ready' ? 5 : null, fileSha256: null, rowCount: 1, builtAt: null, buildMs: null, lastUsedAt: null, detail: null, buildProgress: null, buildProgressAt: null,
    ...change,
  };
}
const verified = (): string => "read_parquet('f.parquet')";
const unverified = (): undefined => undefined;

test('a copy is read only if it is of this definition and stamp, ready, and verified here', () => {
  assert.deepEqual(decideView(entry('ready'), 'def', 'stamp', verified), { read: 'copy', relation: "read_parquet('f.parquet')" });
  assert.deepEqual(decideView(entry('ready'), 'def', 'stamp', unverified), { read: 'source', work: 'verify' });
  assert.deepEqual(decideView(entry('ready'), 'def', 'other stamp', verified), { read: 'source', work: 'build' });
  assert.deepEqual(decideView(entry('ready'), 'other definition', 'stamp', verified), { read: 'source', work: 'build' });
  assert.deepEqual(decideView(undefined, 'def', 'stamp', verified), { read: 'source', work: 'build' });
});

test('missing copies are built, refusals stand until the source changes, a drop stands until a rebuild', () => {
  for (const state of ['absent', 'evicted', 'corrupt'] as const) assert.deepEqual(decideView(entry(state), 'def', 'stamp', verified), { read: 'source', work: 'build' }, state);
  for (const state of ['over_budget', 'failed', 'unsupported'] as const) {
    assert.deepEqual(decideView(entry(state), 'def', 'stamp', verified), { read: 'source', work: 'none' }, state);
    assert.deepEqual(decideView(entry(state), 'def', 'new stamp', verified), { read: 'source', work: 'build' }, state);
  }
  assert.deepEqual(decideView(entry('dropped'), 'def', 'stamp', verified), { read: 'source', work: 'none' });
  assert.deepEqual(decideView(entry('dropped'), 'def', 'new stamp', verified), { read: 'source', work: 'none' });
});
