import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';
import type { CrawlReport } from '../src/catalog/index.ts';

/**
 * A long crawl shows its progress: with Accept: application/x-ndjson, POST /v1/catalog/crawl
 * streams one progress line per candidate and ends with the same report a plain crawl answers.
 */
const FILES = 25;
const NDJSON = { Accept: 'application/x-ndjson' };

interface ProgressLine {
  progress?: { done: number; total: number; location: string; phase: string };
  report?: CrawlReport;
  error?: { code: string; message: string };
}

let s: TestServer & { internalErrors: unknown[] };
before(async () => {
  s = await startTestServer({ demo: false });
  await s.runtime.users.put({ name: 'erin', groups: ['stewards'], attributes: {} });
  await s.runtime.users.put({ name: 'alice', groups: ['data_science'], attributes: {} });
  // Two identical trees: one crawled streaming, the other plainly, to compare their reports.
  for (const tree of ['batch', 'batch-copy']) writeStudies(tree, FILES);
  writeStudies('failing', 5);
});
after(async () => {
  await s.close();
});

/** `count` small CSV files directly under storage/<tree>/, each its own dataset. */
function writeStudies(tree: string, count: number): void {
  const dir = path.join(s.home, 'storage', tree);
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) writeFileSync(path.join(dir, `study_${String(i).padStart(2, '0')}.csv`), `id,score\n${i},${i * 1.5}\n`);
}

function parseLines(body: string): ProgressLine[] {
  assert.ok(body.endsWith('\n'), 'every line, the last included, ends with a newline');
  return body
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as ProgressLine);
}

interface AuditRecord {
  decision: string;
  error_code: string | null;
  bytes_returned: number | null;
  statement_type: string;
}

/**
 * The request's audit record. A streamed answer is recorded once its last line has left (the record
 * holds the bytes sent), so the client may finish reading first: waits for it, bounded.
 */
async function auditRecord(requestId: string): Promise<AuditRecord | undefined> {
  for (let i = 0; i < 200; i++) {
    const record = await s.runtime.store.audit.get<AuditRecord>('SELECT decision, error_code, bytes_returned, statement_type FROM audit_log WHERE request_id = ?', [requestId]);
    if (record !== undefined) return record;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

test('a streamed crawl reports each candidate once, in order, then the report a plain crawl gives', async () => {
  const response = await s.post('erin', '/v1/catalog/crawl', { prefix: 'batch', database: 'batch' }, NDJSON);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
  const body = await response.text();
  const lines = parseLines(body);

  const progress = lines.slice(0, -1).map((line) => line.progress);
  assert.ok(progress.every((p) => p !== undefined), 'every line but the last is progress');
  assert.deepEqual(progress[0], { done: 0, total: FILES, location: 'batch', phase: 'listed' });
  assert.equal(progress.length, FILES + 1);
  progress.forEach((p, i) => {
    assert.equal(p?.done, i, 'done grows by one per line');
    assert.equal(p?.total, FILES);
  });
  const locations = progress.slice(1).map((p) => p?.location);
  const expected = Array.from({ length: FILES }, (_, i) => `batch/study_${String(i + 1).padStart(2, '0')}.csv`);
  assert.deepEqual([...locations].sort(), expected, 'every candidate appears exactly once');
  assert.ok(progress.slice(1).every((p) => p?.phase === 'registered'));

  const streamed = lines.at(-1)?.report;
  assert.ok(streamed !== undefined, `the last line is the report: ${JSON.stringify(lines.at(-1))}`);
  assert.equal(streamed.registered.length, FILES);

  const plain = await s.post('erin', '/v1/catalog/crawl', { prefix: 'batch-copy', database: 'batch_copy' });
  assert.equal(plain.status, 200);
  assert.match(plain.headers.get('content-type') ?? '', /^application\/json/, 'without the Accept header the answer is JSON as before');
  const copy = JSON.stringify(await plain.json())
    .replaceAll('batch_copy', 'batch')
    .replaceAll('batch-copy', 'batch');
  assert.deepEqual(streamed, JSON.parse(copy));

  const record = await auditRecord(response.headers.get('x-request-id') ?? '');
  assert.deepEqual(record, { decision: 'allowed', error_code: null, bytes_returned: Buffer.byteLength(body), statement_type: 'admin' });
});

test('refusals and bad prefixes answer with their status and a JSON error, not a stream', async () => {
  const cases = [
    { user: 'alice', body: { prefix: 'batch', database: 'refused' }, status: 403, code: 'ACCESS_DENIED' },
    { user: 'erin', body: { prefix: 'batch/../..', database: 'climbed' }, status: 400, code: 'INVALID_REQUEST' },
    { user: 'erin', body: { prefix: 'nowhere', database: 'nowhere' }, status: 400, code: 'INVALID_REQUEST' },
  ];
  for (const c of cases) {
    const response = await s.post(c.user, '/v1/catalog/crawl', c.body, NDJSON);
    assert.equal(response.status, c.status, JSON.stringify(c.body));
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const answer = (await response.json()) as { error?: { code: string } };
    assert.equal(answer.error?.code, c.code);
  }
  assert.equal((await s.runtime.catalog.datasets.list()).filter((d) => ['refused', 'climbed', 'nowhere'].includes(d.database)).length, 0);
});

test('a crawl that fails after streaming began ends with an error line, is audited as an error, and leaks nothing', async () => {
  // An unexpected failure inside the crawl: a registration that fails with a value which cannot
  // even be turned into text, so the crawler's per-candidate error handling throws too.
  const catalog = s.runtime.catalog as { register: typeof s.runtime.catalog.register };
  const original = catalog.register;
  let calls = 0;
  catalog.register = async (input) => {
    if (++calls === 3) throw { toString: () => { throw new Error('secret internal detail'); } };
    return original.call(s.runtime.catalog, input);
  };
  const errorsBefore = s.internalErrors.length;
  let body: string;
  let requestId: string;
  try {
    const response = await s.post('erin', '/v1/catalog/crawl', { prefix: 'failing', database: 'failing' }, NDJSON);
    assert.equal(response.status, 200);
    requestId = response.headers.get('x-request-id') ?? '';
    body = await response.text();
  } finally {
    catalog.register = original;
  }
  const lines = parseLines(body);
  assert.deepEqual(lines.map((l) => l.progress?.done), [0, 1, 2, undefined], 'progress up to the failure, then the error');
  assert.deepEqual(lines.at(-1), { error: { code: 'INTERNAL', message: `internal error (request ${requestId})` } });
  assert.doesNotMatch(body, /secret internal detail|at .*\.ts/);
  const record = await auditRecord(requestId);
  assert.equal(record?.decision, 'error');
  assert.equal(record?.error_code, 'INTERNAL');
  // Logged once the audit record is written, which may be after the client read the last line.
  for (let i = 0; i < 200 && s.internalErrors.length === errorsBefore; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(s.internalErrors.length, errorsBefore + 1, 'the internal error is logged with its request id');
});
