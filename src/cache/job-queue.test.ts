import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobQueue, type JobKind } from './job-queue.ts';

test('one job at a time, one waiting job per dataset, a build request upgrades a waiting verification', async () => {
  const ran: string[] = [];
  let running = 0;
  let most = 0;
  const queue = new JobQueue(async (dataset: string, kind: JobKind, force: boolean) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    ran.push(`${kind}:${dataset}${force ? '!' : ''}`);
    running--;
  });
  const first = queue.add('d.a', 'build');
  const waits = [queue.add('d.b', 'verify'), queue.add('d.b', 'build'), queue.add('d.c', 'verify', true), queue.add('d.a', 'build')];
  assert.ok(queue.has('d.b'));
  await Promise.all([first, ...waits]);
  assert.equal(most, 1);
  assert.deepEqual(ran, ['build:d.a', 'build:d.b', 'verify:d.c!']);
});

test('cancel and close stop the running job and settle every waiter', async () => {
  const aborted: string[] = [];
  const queue = new JobQueue(
    (dataset, _kind, _force, signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted.push(dataset);
          resolve();
        });
      }),
  );
  const a = queue.add('d.a', 'build');
  const b = queue.add('d.b', 'build');
  await new Promise((r) => setImmediate(r));
  assert.equal(queue.runningDataset(), 'd.a');
  queue.cancel('d.a');
  await a;
  await new Promise((r) => setImmediate(r));
  assert.equal(queue.runningDataset(), 'd.b');
  await queue.close();
  await b;
  assert.deepEqual(aborted, ['d.a', 'd.b']);
  await queue.add('d.c', 'build'); // after close: settles at once, runs nothing
  assert.deepEqual(aborted, ['d.a', 'd.b']);
});
