import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROKEN_POLICY_FILE } from './support/policy-samples.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * Policy governance over HTTP, as the web UI's Policies page uses it: inline validation with
 * positions, the preview of what a change does for whom (computed by the server, nothing applied),
 * the history of changes with who and what, and "view as" matching /v1/explain.
 */
let s: TestServer;

before(async () => {
  s = await startTestServer({ rows: 400 });
});
after(async () => {
  await s.close();
});

interface Preview {
  valid: boolean;
  problems: { message: string; line: number; column: number; policy?: string }[];
  policies: { created: string[]; updated: string[]; unchanged: string[]; deleted: string[] };
  impact: { user: string; dataset: string; summary: string; columns: { column: string; before: string; after: string }[]; rowFilters: { before: string[]; after: string[] } | null }[];
  considered: { users: number; datasets: number };
}

async function preview(user: string, yaml: string, prune = false): Promise<{ status: number; body: Preview & { error?: { code: string } } }> {
  const response = await s.post(user, `/v1/policies/preview${prune ? '?prune=true' : ''}`, yaml, { 'Content-Type': 'application/yaml' });
  return { status: response.status, body: (await response.json()) as Preview & { error?: { code: string } } };
}

function bearer(user: string): Record<string, string> {
  return { Authorization: `Bearer ${s.token(user)}` };
}

async function policyCount(): Promise<number> {
  const response = await s.get('erin', '/v1/policies');
  return ((await response.json()) as { policies: unknown[] }).policies.length;
}

const STRICTER_RESEARCH = `policies:
  - name: research-read
    description: Researchers see every participant, never identifiers; outcomes hidden too.
    effect: grant
    subjects: { groups: [research] }
    resources: [{ database: drug_xyz }]
    hide: { tags: [pii], columns: [outcome_score] }
    masks:
      - { tags: [phi.dob], transform: year }
      - { tags: [phi.zip], transform: zip3 }
`;

test('only administrators preview changes, and a refusal says nothing about the body', async () => {
  const refused = await preview('alice', 'not: [valid');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error?.code, 'ACCESS_DENIED');
});

test('problems come back with their line and the policy they are in; nothing is applied', async () => {
  const count = await policyCount();
  const { status, body } = await preview('erin', BROKEN_POLICY_FILE);
  assert.equal(status, 200);
  assert.equal(body.valid, false);
  assert.equal(body.problems.length, 1, JSON.stringify(body.problems));
  const problem = body.problems[0]!;
  assert.equal(problem.line, 5); // the line where the broken policy starts
  assert.equal(problem.policy, 'broken-mask');
  assert.match(problem.message, /no_such_transform/);
  assert.deepEqual(body.impact, []);
  const syntax = await preview('erin', 'policies:\n  - name: x\n    subjects: [unclosed\n');
  assert.equal(syntax.body.valid, false);
  assert.match(syntax.body.problems[0]!.message, /^YAML error/);
  assert.ok(syntax.body.problems[0]!.line >= 3, JSON.stringify(syntax.body.problems));
  assert.equal(await policyCount(), count);
});

test('the preview names the users, datasets and columns whose access would change, and only those', async () => {
  const { body } = await preview('erin', STRICTER_RESEARCH);
  assert.equal(body.valid, true, JSON.stringify(body.problems));
  assert.deepEqual(body.policies.updated, ['research-read']);
  assert.ok(body.considered.users >= 5);
  const affected = [...new Set(body.impact.map((i) => i.user))];
  assert.deepEqual(affected, ['bob'], JSON.stringify(body.impact));
  const trial = body.impact.find((i) => i.dataset === 'drug_xyz.trial_july2020');
  assert.ok(trial !== undefined);
  assert.deepEqual(trial.columns, [{ column: 'outcome_score', before: 'masked: null when consent_research = false', after: 'hidden' }]);
  assert.equal(trial.summary, 'access changes');
  // A new row filter for alice's group shows as a row filter change of hers alone.
  const filter = await preview('erin', `- name: only-site-1\n  effect: restrict\n  subjects: { groups: [data_science] }\n  resources: [{ dataset: drug_xyz.trial_july2020 }]\n  row_filter: site_id = 'S01'\n`);
  assert.deepEqual(
    filter.body.impact.map((i) => [i.user, i.dataset, i.rowFilters]),
    [['alice', 'drug_xyz.trial_july2020', { before: ["country = user_attribute('region')"], after: ["country = user_attribute('region')", "site_id = 'S01'"] }]],
  );
  // Pruning to one policy takes everything else away: dave has nothing to lose, erin loses a lot.
  const pruned = await preview('erin', STRICTER_RESEARCH, true);
  assert.ok(pruned.body.policies.deleted.includes('stewards-full-access'));
  assert.ok(pruned.body.impact.some((i) => i.user === 'erin' && i.summary === 'loses all access'));
  assert.ok(!pruned.body.impact.some((i) => i.user === 'dave' && i.dataset.startsWith('drug_xyz')));
});

test('applying records who changed what; the history holds both definitions', async () => {
  const applied = await s.post('erin', '/v1/policies', STRICTER_RESEARCH, { 'Content-Type': 'application/yaml' });
  assert.equal(applied.status, 200, await applied.clone().text());
  const response = await s.get('erin', '/v1/policies/history?policy=research-read&limit=5');
  assert.equal(response.status, 200);
  const { changes } = (await response.json()) as { changes: { change: string; changed_by: string; before: { hide?: unknown } | null; after: { hide?: unknown } | null; changed_at: string }[] };
  const latest = changes[0]!;
  assert.equal(latest.change, 'updated');
  assert.equal(latest.changed_by, 'erin');
  assert.deepEqual(latest.before?.hide, { tags: ['pii'] });
  assert.deepEqual(latest.after?.hide, { tags: ['pii'], columns: ['outcome_score'] });
  assert.ok(!Number.isNaN(Date.parse(latest.changed_at)));
  // The demo's own creation is in the history too, and deletion is recorded with the old definition.
  assert.equal(changes.at(-1)?.change, 'created');
  await s.post('erin', '/v1/policies', '- name: short-lived\n  subjects: { users: [dave] }\n  resources: [{ dataset: drug_xyz.adverse_events }]\n', { 'Content-Type': 'application/yaml' });
  const deleted = await fetch(`${s.url}/v1/policies/short-lived`, { method: 'DELETE', headers: bearer('erin') });
  assert.equal(deleted.status, 200);
  const gone = (await (await s.get('erin', '/v1/policies/history?policy=short-lived')).json()) as { changes: { change: string; before: unknown; after: unknown }[] };
  assert.deepEqual(gone.changes.map((c) => c.change), ['deleted', 'created']);
  assert.equal(gone.changes[0]?.after, null);
  assert.notEqual(gone.changes[0]?.before, null);
  assert.equal((await s.get('bob', '/v1/policies/history')).status, 403);
});

test('view as: the explanation is exactly /v1/explain for that user; rows only when they reveal nothing new to the viewer', async () => {
  const ds = 'drug_xyz.trial_july2020';
  for (const user of ['alice', 'bob']) {
    const response = await s.get('erin', `/v1/datasets/${ds}/view-as?user=${user}`);
    assert.equal(response.status, 200);
    const view = (await response.json()) as { readable: boolean; explanation: unknown; preview: { columns: string[]; rows: unknown[][] } | null };
    const explain = await s.post(user, '/v1/explain', { sql: `SELECT * FROM ${ds}` });
    const expected = ((await explain.json()) as { datasets: unknown[] }).datasets[0];
    assert.deepEqual(view.explanation, expected);
    // erin reads everything clear: she may see the rows exactly as the user gets them.
    const own = (await (await s.post(user, '/v1/query', { sql: `SELECT * FROM ${ds} LIMIT 20` })).json()) as { columns: { name: string }[]; rows: unknown[][] };
    assert.deepEqual(view.preview?.columns, own.columns.map((c) => c.name));
    assert.deepEqual(view.preview?.rows, own.rows);
  }
  const dave = (await (await s.get('erin', `/v1/datasets/${ds}/view-as?user=dave`)).json()) as { visible: boolean; preview: unknown; denial: string };
  assert.equal(dave.visible, false);
  assert.equal(dave.preview, null);
  // Only administrators, and an unknown user is a 404 like any missing thing.
  assert.equal((await s.get('alice', `/v1/datasets/${ds}/view-as?user=bob`)).status, 403);
  assert.equal((await s.get('erin', `/v1/datasets/${ds}/view-as?user=nobody`)).status, 404);
});

test('view as: an administrator under masks of their own sees the explanation but not rows that would reveal more', async () => {
  // Make alice an administrator for this test: her own reads stay masked and region-filtered.
  const config = (await (await s.get('erin', '/v1/users')).json()) as { users: { name: string; groups: string[]; attributes: Record<string, unknown> }[] };
  const alice = config.users.find((u) => u.name === 'alice')!;
  await fetch(`${s.url}/v1/users/alice`, { method: 'PUT', headers: { ...bearer('erin'), 'Content-Type': 'application/json' }, body: JSON.stringify({ groups: [...alice.groups, 'admins'], attributes: alice.attributes }) });
  try {
    const response = await s.get('alice', '/v1/datasets/drug_xyz.trial_july2020/view-as?user=erin');
    assert.equal(response.status, 200, await response.clone().text());
    const view = (await response.json()) as { explanation: { columns: { access: string }[] } | null; preview: unknown; preview_withheld: string | null };
    assert.equal(view.preview, null);
    assert.match(view.preview_withheld ?? '', /could reveal values you \(alice\) may not read/);
    assert.ok(view.explanation?.columns.every((c) => c.access === 'clear'));
  } finally {
    await fetch(`${s.url}/v1/users/alice`, { method: 'PUT', headers: { ...bearer('erin'), 'Content-Type': 'application/json' }, body: JSON.stringify({ groups: alice.groups, attributes: alice.attributes }) });
  }
});
