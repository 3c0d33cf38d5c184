import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePolicy } from '../src/policy/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * docs/security.md invariant 5: row filters apply before any user expression can observe a row. A user
 * expression that fails on some value (a cast) must not fail because of a row the user cannot see:
 * otherwise "error or no error" becomes an oracle about hidden rows. Checked with a row filter
 * simple enough to be pushed into the scan and with one that is not.
 */
let s: TestServer;

before(async () => {
  s = await startTestServer({ rows: 3000 });
  await s.runtime.users.put({ name: 'zoe', groups: ['zoe_group'], attributes: { regions: ['US', 'FR'] } });
  await s.runtime.policies.apply([
    validatePolicy({
      name: 'zoe-regions',
      subjects: { groups: ['zoe_group'] },
      resources: [{ dataset: 'drug_xyz.trial_july2020' }],
      row_filter: "list_contains(user_attribute_values('regions'), country) AND length(site_id) > 0 AND dose_mg >= 0",
    }),
  ]);
});
after(async () => {
  await s.close();
});

const PROBES = [
  // fails (site ids are S001…) only on DE rows, which neither user may see
  "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE CAST(CASE WHEN country = 'DE' THEN site_id ELSE '1' END AS INTEGER) = 1",
  "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE CAST(CASE WHEN country = 'DE' AND dose_mg > 100 THEN site_id ELSE '1' END AS INTEGER) = 1",
  "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE country = 'DE' AND CAST(site_id AS INTEGER) = 1",
  "SELECT max(CAST(CASE WHEN country = 'DE' THEN site_id ELSE '1' END AS INTEGER)) FROM drug_xyz.trial_july2020",
];

for (const user of ['alice', 'zoe']) {
  for (const sql of PROBES) {
    test(`${user}: an expression that would fail only on hidden rows does not fail: ${sql}`, async () => {
      const { status, body } = await s.query(user, sql);
      assert.equal(status, 200, JSON.stringify(body.error));
    });
  }
}
