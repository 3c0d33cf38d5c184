import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** With openlineage_file set, data accesses are also OpenLineage run events (START, COMPLETE/FAIL). */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 200, prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'openlineage_file: lineage/events.jsonl\n') });
});
after(async () => {
  await s.close();
});

interface RunEvent {
  eventType: string;
  eventTime: string;
  run: { runId: string; facets: Record<string, { rows_returned?: number; error_code?: string }> };
  job: { namespace: string; name: string; facets: { sql: { query: string } } };
  inputs: { namespace: string; name: string }[];
  producer: string;
  schemaURL: string;
}

function events(): RunEvent[] {
  return readFileSync(path.join(s.home, 'lineage', 'events.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as RunEvent);
}

/**
 * A run's events once it has ended: the outcome is recorded when the response has ended, so it may
 * follow the response's last byte by a round trip to the audit store (bounded wait).
 */
async function endedRun(runId: string | null): Promise<RunEvent[]> {
  for (let attempt = 0; ; attempt++) {
    const run = events().filter((e) => e.run.runId === runId);
    if (run.some((e) => e.eventType !== 'START') || attempt >= 100) return run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a query is a run of a job whose inputs are the datasets it read', async () => {
  const sql = 'SELECT t.arm, count(*) FROM drug_xyz.trial_july2020 t JOIN drug_xyz.adverse_events a USING (participant_id) GROUP BY t.arm';
  const response = await s.post('erin', '/v1/query', { sql });
  assert.equal(response.status, 200);
  const requestId = response.headers.get('x-request-id');
  const rows = ((await response.json()) as { rows: unknown[] }).rows.length;
  const run = await endedRun(requestId);
  assert.deepEqual(run.map((e) => e.eventType), ['START', 'COMPLETE']);
  const [start, complete] = run as [RunEvent, RunEvent];
  assert.deepEqual(start.inputs.map((i) => i.name).sort(), ['drug_xyz.adverse_events', 'drug_xyz.trial_july2020']);
  assert.equal(start.job.facets.sql.query, sql);
  assert.equal(start.job.name, complete.job.name);
  assert.match(start.schemaURL, /OpenLineage\.json/);
  assert.equal(complete.run.facets['veil_outcome']?.rows_returned, rows);
  // The same text again is the same job, another run.
  const again = await s.post('erin', '/v1/query', { sql });
  await again.arrayBuffer();
  const second = events().find((e) => e.run.runId === again.headers.get('x-request-id'));
  assert.equal(second?.job.name, start.job.name);
});

test('a query that fails while running ends with FAIL; requests that read nothing emit nothing', async () => {
  const failing = await s.post('erin', '/v1/query', { sql: 'SELECT CAST(full_name AS INTEGER) FROM drug_xyz.trial_july2020' }, { Accept: 'text/csv' });
  assert.equal(failing.status, 400);
  const run = await endedRun(failing.headers.get('x-request-id'));
  assert.deepEqual(run.map((e) => e.eventType), ['START', 'FAIL']);
  assert.equal(run[1]?.run.facets['veil_outcome']?.error_code, 'QUERY_FAILED');
  const before = events().length;
  await s.query('dave', 'SELECT * FROM drug_xyz.trial_july2020');
  await (await s.get('alice', '/v1/datasets')).arrayBuffer();
  assert.equal(events().length, before);
});
