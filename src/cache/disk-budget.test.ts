import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { freeBytes, planEviction } from './disk-budget.ts';

test('the least recently used copies go first, never-used ones before all, until the new one fits', () => {
  const existing = [
    { dataset: 'a.recent', bytes: 40, lastUsedAt: '2026-01-03T00:00:00.000Z' },
    { dataset: 'a.old', bytes: 40, lastUsedAt: '2026-01-01T00:00:00.000Z' },
    { dataset: 'a.never', bytes: 10, lastUsedAt: null },
    { dataset: 'a.middle', bytes: 40, lastUsedAt: '2026-01-02T00:00:00.000Z' },
  ];
  assert.deepEqual(planEviction(existing, 10, 200), { evict: [], tooLarge: false });
  assert.deepEqual(planEviction(existing, 30, 120), { evict: ['a.never', 'a.old'], tooLarge: false });
  assert.deepEqual(planEviction(existing, 100, 120), { evict: ['a.never', 'a.old', 'a.middle', 'a.recent'], tooLarge: false });
  assert.deepEqual(planEviction(existing, 121, 120), { evict: [], tooLarge: true });
  assert.deepEqual(planEviction([], 0, 0), { evict: [], tooLarge: false });
});

test('free space of a real file system is a positive number', () => {
  assert.ok(freeBytes(os.tmpdir()) > 0);
});
