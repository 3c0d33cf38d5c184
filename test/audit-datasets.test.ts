import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validatePolicy } from '../src/policy/index.ts';
import { openRuntime } from '../src/runtime/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** The audit trail as governed datasets: visibility, masking like any other column, daily view. */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 300 });
  await s.rows('alice', 'SELECT count(*) FROM drug_xyz.trial_july2020');
  await s.rows('alice', "SELECT count(*) FROM drug_xyz.adverse_events WHERE severity = 'severe'");
  await s.rows('bob', 'SELECT arm, count(*) FROM drug_xyz.trial_july2020 GROUP BY arm');
  await s.query('dave', 'SELECT * FROM drug_xyz.trial_july2020');
});
after(async () => {
  await s.close();
});

test('audit_daily: each user sees their own day, compliance sees everyone', async () => {
  const own = await s.rows('alice', 'SELECT DISTINCT "user" FROM veil_system.audit_daily');
  assert.deepEqual(own, [['alice']]);
  const all = await s.rows('carol', `SELECT "user", dataset, decision, sum(requests)::BIGINT FROM veil_system.audit_daily
                                     WHERE "user" IN ('alice', 'bob', 'dave') AND coalesce(dataset, '') NOT LIKE 'veil_system.%' GROUP BY ALL ORDER BY ALL`);
  assert.deepEqual(all, [
    ['alice', 'drug_xyz.adverse_events', 'allowed', 1],
    ['alice', 'drug_xyz.trial_july2020', 'allowed', 1],
    ['bob', 'drug_xyz.trial_july2020', 'allowed', 1],
    ['dave', null, 'denied', 1],
  ]);
  const rows = await s.rows('carol', "SELECT rows_returned FROM veil_system.audit_daily WHERE \"user\" = 'bob' AND dataset = 'drug_xyz.trial_july2020'");
  assert.deepEqual(rows, [[2]], 'two arms');
});

test('the statement column can be masked for a group, like any other tagged column', async () => {
  const before = await s.rows('carol', "SELECT statement FROM veil_system.audit_log WHERE \"user\" = 'alice' AND statement LIKE '%severe%'");
  assert.equal(before.length, 1);
  await s.runtime.policies.apply([
    validatePolicy({
      name: 'compliance-no-statements',
      effect: 'restrict',
      subjects: { groups: ['compliance'] },
      resources: [{ dataset: 'veil_system.audit_log' }],
      masks: [{ tags: ['audit.statement'], transform: 'redact' }],
    }),
  ]);
  try {
    const masked = await s.rows('carol', "SELECT statement, \"user\" FROM veil_system.audit_log WHERE \"user\" = 'alice' AND datasets = ['drug_xyz.adverse_events']");
    assert.ok(masked.length >= 1);
    for (const [statement] of masked) assert.doesNotMatch(String(statement), /severe/);
    // Filtering on the masked column sees only masked values: no oracle on the hidden text.
    assert.deepEqual(await s.rows('carol', "SELECT count(*) FROM veil_system.audit_log WHERE statement LIKE '%severe%'"), [[0]]);
    // Users reading their own records are not affected by a policy for compliance.
    const own = await s.rows('alice', "SELECT statement FROM veil_system.audit_log WHERE statement LIKE '%severe%' AND statement NOT LIKE '%audit_log%'");
    assert.equal(own.length, 1);
  } finally {
    await s.runtime.policies.delete('compliance-no-statements');
  }
});

test('homes with the first built-in audit policies are upgraded, changed ones are left alone', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'veil-builtin-'));
  try {
    let runtime = await openRuntime(home);
    // Simulate a home from before audit_daily: version-one policies, one of them edited by an admin.
    await runtime.policies.apply([
      validatePolicy({ name: 'veil-audit-own-records', description: 'Every user may read the audit records of their own requests.', subjects: { everyone: true, except: { groups: ['compliance'] } }, resources: [{ dataset: 'veil_system.audit_log' }], row_filter: '"user" = current_user_name()' }),
      validatePolicy({ name: 'veil-audit-compliance', subjects: { groups: ['compliance', 'auditors'] }, resources: [{ dataset: 'veil_system.audit_log' }] }),
    ]);
    await runtime.store.control.run(`UPDATE meta SET value = '1' WHERE key = 'builtin_policies'`);
    await runtime.close();
    runtime = await openRuntime(home);
    try {
      const byName = new Map((await runtime.policies.list()).map((p) => [p.name, p]));
      const resources = (name: string) => JSON.stringify(byName.get(name)?.resources);
      assert.match(resources('veil-audit-own-records'), /audit_daily/, 'unchanged version-one policy upgraded');
      assert.doesNotMatch(resources('veil-audit-compliance'), /audit_daily/, 'an edited built-in is left as the admin wrote it');
      assert.deepEqual(byName.get('veil-audit-compliance')?.subjects.groups, ['compliance', 'auditors']);
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
