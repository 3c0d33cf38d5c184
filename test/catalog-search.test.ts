import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Catalog search finds what the caller may read, and reveals nothing else. */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 200 });
});
after(async () => {
  await s.close();
});

async function search(user: string, query: string): Promise<{ status: number; results: { name: string; score: number; matched: string[] }[] }> {
  const response = await s.get(user, `/v1/search?${query}`);
  const body = (await response.json()) as { results?: { name: string; score: number; matched: string[] }[] };
  return { status: response.status, results: body.results ?? [] };
}

test('finds datasets by name, column, tag and description, name matches first', async () => {
  const byName = await search('alice', 'q=adverse');
  // The dataset named so comes first; the trial follows through its adverse_event column.
  assert.deepEqual(byName.results.map((r) => r.name), ['drug_xyz.adverse_events', 'drug_xyz.trial_july2020']);
  assert.ok(byName.results[0]!.matched.includes('name'));
  assert.deepEqual(byName.results[1]!.matched, ['column:adverse_event']);
  const byColumn = await search('alice', 'q=email');
  assert.ok(byColumn.results.some((r) => r.name === 'drug_xyz.trial_july2020' && r.matched.includes('column:email')));
  const byTag = await search('alice', 'q=phi.dob');
  assert.ok(byTag.results.some((r) => r.matched.includes('tag:phi.dob')));
  const both = await search('erin', 'q=participant_id');
  assert.deepEqual(both.results.map((r) => r.name).sort(), ['drug_xyz.adverse_events', 'drug_xyz.trial_july2020']);
  const ranked = await search('erin', 'q=trial');
  assert.equal(ranked.results[0]?.name, 'drug_xyz.trial_july2020');
  const allTerms = await search('erin', 'q=severity+ssn');
  assert.deepEqual(allTerms.results, [], 'every term must match in one dataset');
});

test('filters by database and tag; system datasets only on request', async () => {
  assert.deepEqual((await search('erin', 'q=user&database=other')).results, []);
  const tagged = await search('erin', 'q=participant_id&tag=pii.ssn');
  assert.deepEqual(tagged.results.map((r) => r.name), ['drug_xyz.trial_july2020']);
  assert.deepEqual((await search('carol', 'q=audit')).results, []);
  const system = await search('carol', 'q=audit&include_system=true');
  assert.ok(system.results.some((r) => r.name === 'veil_system.audit_log'));
});

test('nothing about invisible datasets or hidden columns leaks', async () => {
  // dave reads nothing; carol may only describe drug_xyz (not read it).
  for (const user of ['dave', 'carol']) {
    for (const q of ['trial', 'ssn', 'participant_id', 'drug_xyz']) assert.deepEqual((await search(user, `q=${q}`)).results, [], `${user}: ${q}`);
  }
  // bob reads the trial with every pii column hidden: their names, descriptions and tags do not match.
  for (const q of ['ssn', 'full_name', 'pii.email']) {
    const found = await search('bob', `q=${q}`);
    assert.ok(!found.results.some((r) => r.matched.some((m) => m.includes('ssn') || m.includes('full_name') || m.includes('pii.email'))), `bob: ${q} -> ${JSON.stringify(found.results)}`);
  }
  assert.ok((await search('bob', 'q=outcome_score')).results.some((r) => r.name === 'drug_xyz.trial_july2020'));
});

test('bad requests: no terms, bad limit; searches are audited', async () => {
  assert.equal((await search('alice', 'q=')).status, 400);
  assert.equal((await search('alice', 'q=trial&limit=0')).status, 400);
  const audited = await s.rows('alice', "SELECT statement FROM veil_system.audit_log WHERE statement_type = 'search'");
  assert.ok(audited.some(([statement]) => statement === 'search adverse'));
});

test('popularity counts distinct readers and only from five on: one colleague\'s reads move no ranking', async () => {
  const read = (user: string, dataset: string) => ({
    event_time: new Date().toISOString(), request_id: `pop-${user}-${Math.random()}`, user, groups: [], client_application: null, client_address: null,
    door: 'http' as const, statement: `SELECT * FROM ${dataset}`, statement_type: 'query', datasets: [dataset], columns: [], policies: [],
    decision: 'allowed' as const, rows_returned: 1, bytes_returned: 1, duration_ms: 1, error_code: null,
  });
  const before = await s.runtime.audit.datasetPopularity(30);
  await s.runtime.audit.recordMany(Array.from({ length: 5 }, () => read('bob', 'drug_xyz.adverse_events')));
  assert.equal((await s.runtime.audit.datasetPopularity(30)).get('drug_xyz.adverse_events'), before.get('drug_xyz.adverse_events'));
  await s.runtime.audit.recordMany(['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => read(u, 'drug_xyz.adverse_events')));
  assert.ok(((await s.runtime.audit.datasetPopularity(30)).get('drug_xyz.adverse_events') ?? 0) >= 5);
});
