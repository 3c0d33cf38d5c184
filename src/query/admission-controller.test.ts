import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientDisconnectedError, QueryTimeoutError, TooManyRequestsError } from '../errors/index.ts';
import { AdmissionController, type AdmissionTicket } from './admission-controller.ts';

const settings = { maxConcurrentQueries: 3, maxConcurrentQueriesPerUser: 2, maxQueuedQueriesPerUser: 2, maxQueuedQueries: 10 };
const far = (): number => Date.now() + 60_000;

function tracked(controller: AdmissionController, user: string, order: string[], options: { deadline?: number; signal?: AbortSignal } = {}) {
  const promise = controller.acquire({ user, deadline: options.deadline ?? far(), timeoutMs: 60_000, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  return promise.then((ticket) => {
    order.push(user);
    return ticket;
  });
}

test('a user runs at most their share; the next queries wait, then are refused with a time to retry', async () => {
  const c = new AdmissionController(settings);
  const order: string[] = [];
  const running = await Promise.all([tracked(c, 'bob', order), tracked(c, 'bob', order)]);
  const waiting = [tracked(c, 'bob', order), tracked(c, 'bob', order)];
  await assert.rejects(c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000 }), (error: unknown) => {
    assert.ok(error instanceof TooManyRequestsError);
    assert.ok(error.retryAfterSeconds >= 1 && error.retryAfterSeconds <= 60);
    return true;
  });
  assert.deepEqual(c.status(), { running: 2, queued: 2, users: { bob: { running: 2, queued: 2 } } });
  running[0].release();
  running[1].release();
  const next = await Promise.all(waiting);
  assert.equal(c.status().running, 2);
  for (const t of next) t.release();
  assert.deepEqual(c.status(), { running: 0, queued: 0, users: {} });
});

test('while one user saturates their share, another user starts at once, and freed slots go to whoever runs the fewest', async () => {
  const c = new AdmissionController(settings);
  const order: string[] = [];
  const bob = await Promise.all([tracked(c, 'bob', order), tracked(c, 'bob', order)]);
  const bobWaits = tracked(c, 'bob', order);
  // alice is not behind bob's queue: a slot of the engine is free and her share is empty.
  const alice = await tracked(c, 'alice', order);
  assert.deepEqual(order, ['bob', 'bob', 'alice']);
  // The engine is full (3). carol queues after bob; when bob frees a slot, carol (running 0) goes first.
  const carolWaits = tracked(c, 'carol', order);
  bob[0].release();
  const carol = await carolWaits;
  assert.deepEqual(order, ['bob', 'bob', 'alice', 'carol']);
  carol.release();
  (await bobWaits).release();
  assert.deepEqual(order, ['bob', 'bob', 'alice', 'carol', 'bob']);
  bob[1].release();
  alice.release();
  assert.equal(c.status().running, 0);
});

test('time in the queue counts against the statement timeout', async () => {
  const c = new AdmissionController(settings);
  const held: AdmissionTicket[] = [await c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000 }), await c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000 })];
  await assert.rejects(c.acquire({ user: 'bob', deadline: Date.now() + 30, timeoutMs: 30 }), (error: unknown) => error instanceof QueryTimeoutError && /waited/.test(error.message));
  assert.equal(c.status().queued, 0, 'the timed-out query left the queue');
  for (const t of held) t.release();
});

test('a client that goes away leaves the queue at once', async () => {
  const c = new AdmissionController(settings);
  const held = [await c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000 }), await c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000 })];
  const abort = new AbortController();
  const waiting = c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000, signal: abort.signal });
  assert.equal(c.status().queued, 1);
  abort.abort();
  await assert.rejects(waiting, ClientDisconnectedError);
  assert.equal(c.status().queued, 0);
  await assert.rejects(c.acquire({ user: 'bob', deadline: far(), timeoutMs: 60_000, signal: AbortSignal.abort() }), ClientDisconnectedError);
  for (const t of held) t.release();
});

test('the server-wide queue is bounded whatever the number of users; releasing twice frees one slot', async () => {
  const c = new AdmissionController({ maxConcurrentQueries: 1, maxConcurrentQueriesPerUser: 1, maxQueuedQueriesPerUser: 5, maxQueuedQueries: 2 });
  const first = await c.acquire({ user: 'u0', deadline: far(), timeoutMs: 60_000 });
  const queued = [c.acquire({ user: 'u1', deadline: far(), timeoutMs: 60_000 }), c.acquire({ user: 'u2', deadline: far(), timeoutMs: 60_000 })];
  await assert.rejects(c.acquire({ user: 'u3', deadline: far(), timeoutMs: 60_000 }), TooManyRequestsError);
  first.release();
  first.release();
  const second = await queued[0]!;
  assert.equal(c.status().running, 1);
  second.release();
  (await queued[1]!).release();
});

test('settings must be whole numbers', () => {
  assert.throws(() => new AdmissionController({ ...settings, maxConcurrentQueries: 0 }), RangeError);
  assert.throws(() => new AdmissionController({ ...settings, maxQueuedQueriesPerUser: 1.5 }), RangeError);
});
