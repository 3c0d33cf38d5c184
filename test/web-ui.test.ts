import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Browser, Page } from 'playwright-core';
import { BROKEN_POLICY_FILE } from './support/policy-samples.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { accessibilityViolations, assertFitsScreen, launchBrowserWithUi, rawTrialValues, SHOTS, shot, signedIn as signInAs, type WatchedPage } from './support/web-ui-browser.ts';

/**
 * The web UI in a real Chromium (Debian's, driven by playwright-core) against a real Veil: every
 * page shows what the API lets the viewer see and nothing else, under a strict CSP, reachable by
 * keyboard, with no serious accessibility violation (axe-core). Screenshots go to test-results/.
 */
const TRIAL = 'drug_xyz.trial_july2020';

let server: TestServer & { internalErrors: unknown[] };
let browser: Browser;
let rawSsns: string[];
let rawEmails: string[];

before(async () => {
  browser = await launchBrowserWithUi();
  server = await startTestServer({ rows: 2000 });
  ({ ssns: rawSsns, emails: rawEmails } = rawTrialValues(server.home, 200));
});
after(async () => {
  await browser?.close();
  await server?.close();
});

function signedIn(user: string, width = 1280, height = 800): Promise<WatchedPage> {
  return signInAs(browser, server.url, user, width, height);
}




describe('serving', () => {
  test('pages under a strict Content-Security-Policy; hashed assets cached for good, pages never', async () => {
    const page = await fetch(`${server.url}/datasets/${TRIAL}`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp.replace("style-src-attr 'unsafe-inline'", ''), /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset !== undefined);
    const js = await fetch(`${server.url}${asset}`);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    // A path that climbs out of the build is a page of the app (index.html) or a 404, never the file.
    const climbed = await fetch(`${server.url}/assets/../../package.json`);
    assert.doesNotMatch(await climbed.text(), /"dependencies"/);
    assert.doesNotMatch(await (await fetch(`${server.url}/assets/%2e%2e/%2e%2e/package.json`)).text(), /"dependencies"/);
    assert.equal((await fetch(`${server.url}/assets/no-such-file.js`)).status, 404);
    // The API is untouched by the UI's routes.
    const api = await fetch(`${server.url}/v1/nope`);
    assert.equal(api.status, 404);
    assert.match(await api.text(), /"code":"NOT_FOUND"/);
  });
});

describe('what each demo user sees', () => {
  test('alice: finds the trial, sees masked identifiers and only masked values in the preview', async () => {
    const page = await signedIn('alice');
    await page.getByRole('searchbox', { name: 'Search datasets' }).fill('trial');
    await page.waitForURL(/\/search\?q=trial/);
    await page.getByRole('link', { name: TRIAL }).waitFor();
    await shot(page, 'search-alice');
    await page.getByRole('link', { name: TRIAL }).click();
    await page.getByRole('table', { name: `Preview of ${TRIAL}` }).waitFor();
    const ssnRow = page.getByRole('row', { name: /^ssn / });
    assert.match(await ssnRow.innerText(), /masked/);
    const text = await page.locator('main').innerText();
    assert.match(text, /XXX-XX-\d{4}/);
    for (const ssn of rawSsns) assert.ok(!text.includes(ssn), `raw ssn ${ssn} shown to alice`);
    for (const email of rawEmails) assert.ok(!text.includes(email), `raw email ${email} shown to alice`);
    assert.deepEqual((page).cspViolations, []);
    assert.deepEqual(await accessibilityViolations(page), []);
    await shot(page, 'dataset-alice');
    await page.context().close();
  });

  test('bob: pii columns listed as hidden, none in the preview, no pii value anywhere', async () => {
    const page = await signedIn('bob');
    await page.goto(`${server.url}/datasets/${TRIAL}`);
    await page.getByRole('table', { name: `Preview of ${TRIAL}` }).waitFor();
    for (const column of ['ssn', 'email', 'full_name']) assert.match(await page.getByRole('row', { name: new RegExp(`^${column} `) }).innerText(), /hidden/);
    const header = await page.getByRole('table', { name: `Preview of ${TRIAL}` }).locator('thead').innerText();
    for (const column of ['ssn', 'email', 'full_name', 'participant_id']) assert.ok(!header.split(/\s+/).includes(column), `${column} in bob's preview`);
    const text = await page.locator('main').innerText();
    for (const ssn of rawSsns) assert.ok(!text.includes(ssn));
    for (const email of rawEmails) assert.ok(!text.includes(email));
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByRole('searchbox', { name: 'Search datasets' }).fill('ssn');
    await page.waitForTimeout(600);
    const results = await page.getByRole('list', { name: 'Search results' }).innerText();
    const api = await server.get('bob', '/v1/search?q=ssn');
    const names = ((await api.json()) as { results: { name: string }[] }).results.map((r) => r.name);
    for (const name of names) assert.ok(results.includes(name), `${name} from the API is listed`);
    assert.deepEqual(await accessibilityViolations(page), []);
    await shot(page, 'search-bob');
    await page.context().close();
  });

  test('dave: no drug_xyz anywhere; a deep link says it does not exist or is not his to see', async () => {
    const page = await signedIn('dave');
    await page.getByRole('searchbox', { name: 'Search datasets' }).waitFor();
    await page.waitForTimeout(500);
    assert.ok(!(await page.locator('main').innerText()).includes('drug_xyz'));
    await page.goto(`${server.url}/datasets/${TRIAL}`);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /does not exist, or you have no access to it/);
    assert.ok(!(await page.locator('main').innerText()).includes('Owner'));
    await shot(page, 'dataset-dave');
    await page.context().close();
  });

  test('carol: the description, not the rows', async () => {
    const page = await signedIn('carol');
    await page.goto(`${server.url}/datasets/${TRIAL}`);
    await page.getByText(`You may read the description of ${TRIAL}, not its rows.`).waitFor();
    assert.equal(await page.getByRole('table', { name: `Preview of ${TRIAL}` }).count(), 0);
    await page.context().close();
  });

  test('erin on a 390-pixel screen: everything, and nothing wider than the screen', async () => {
    const page = await signedIn('erin', 390, 844);
    await page.goto(`${server.url}/datasets/${TRIAL}`);
    await page.getByRole('table', { name: `Preview of ${TRIAL}` }).waitFor();
    const text = await page.locator('main').innerText();
    assert.ok(rawSsns.some((ssn) => text.includes(ssn)), 'erin sees raw values');
    await assertFitsScreen(page);
    await shot(page, 'dataset-erin-narrow');
    await page.context().close();
  });
});

describe('workspace', () => {
  test('bob: completion offers his datasets and visible columns only; Run gives the API’s rows; Explain says why', async () => {
    const page = await signedIn('bob');
    await page.getByRole('link', { name: 'Workspace' }).click();
    const editor = page.getByRole('textbox', { name: 'SQL' });
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT arm, count(*) AS n FROM drug_xyz.trial_july2020 GROUP BY arm ORDER BY arm');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('table', { name: 'Query results' }).waitFor();
    const shown = await page.getByRole('table', { name: 'Query results' }).locator('tbody tr').allInnerTexts();
    const expected = await server.rows('bob', 'SELECT arm, count(*) AS n FROM drug_xyz.trial_july2020 GROUP BY arm ORDER BY arm');
    assert.deepEqual(shown.map((r) => r.split('\t').map((v) => v.trim())), expected.map((r) => r.map(String)));
    // Completion: columns of the dataset as bob may see them; his hidden ones are not offered.
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT drug_xyz.trial_july2020.');
    await page.locator('.cm-tooltip-autocomplete').waitFor();
    const offered = await page.locator('.cm-tooltip-autocomplete li').allInnerTexts();
    assert.ok(offered.some((o) => o.includes('arm')), `arm offered: ${offered.join(', ')}`);
    for (const hidden of ['ssn', 'email', 'full_name']) assert.ok(!offered.some((o) => o.trim() === hidden), `${hidden} offered to bob`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT ssn FROM drug_xyz.trial_july2020');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /not allowed/);
    await page.keyboard.press('Control+A');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT * FROM drug_xyz.trial_july2020');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('heading', { name: 'What you get, and why' }).waitFor();
    assert.match(await page.locator('.explain').innerText(), /ssn: hidden/);
    // Downloads: the whole result as Parquet and as CSV, exactly bob's rows.
    const sql = 'SELECT * FROM drug_xyz.trial_july2020';
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(sql);
    const bobRows = await server.rows('bob', sql);
    for (const format of ['Parquet', 'CSV'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${format}` }).click()]);
      assert.equal(download.suggestedFilename(), `veil-result.${format.toLowerCase()}`);
      const file = path.join(SHOTS, `download-bob.${format.toLowerCase()}`);
      await download.saveAs(file);
      const reader = format === 'Parquet' ? `read_parquet('${file}')` : `read_csv('${file}', all_varchar = true)`;
      // Read back by a DuckDB of the test's own (Veil's engine has no access to the file system).
      const duckdb = await (await DuckDBInstance.create(':memory:')).connect();
      const rows = (await duckdb.runAndReadAll(`SELECT count(*) FROM ${reader}`)).getRows();
      assert.equal(Number(rows[0]?.[0]), bobRows.length, `${format}: every row`);
      const names = (await duckdb.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${reader})`)).getRows().map((c) => String(c[0]));
      duckdb.closeSync();
      for (const hidden of ['ssn', 'email', 'full_name', 'participant_id']) assert.ok(!names.includes(hidden), `${hidden} in bob's ${format}`);
      if (format === 'CSV') {
        const text = readFileSync(file, 'utf8');
        for (const ssn of rawSsns) assert.ok(!text.includes(ssn));
      }
    }
    // Before axe runs: its contrast checks set style attributes of their own.
    assert.deepEqual((page).cspViolations, []);
    assert.deepEqual(await accessibilityViolations(page), []);
    await shot(page, 'workspace-bob');
    await page.context().close();
  });
});

describe('stewardship', () => {
  test('erin documents and certifies a dataset and accepts a classification proposal; bob has no such panel', async () => {
    // A dataset with an untagged e-mail column, so that the classifier has something to propose.
    const lines = ['contact_id,contact_email,city', ...Array.from({ length: 60 }, (_, i) => `C${i},person${i}@example.org,Town ${i % 7}`)];
    writeFileSync(path.join(server.home, 'storage', 'contacts.csv'), `${lines.join('\n')}\n`);
    const registered = await fetch(`${server.url}/v1/datasets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token('erin')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'drug_xyz.contacts', location: 'contacts.csv', description: 'Contacts', owner: 'erin' }),
    });
    assert.equal(registered.status, 201, await registered.text());
    const page = await signedIn('erin');
    await page.goto(`${server.url}/datasets/drug_xyz.contacts`);
    await page.getByRole('heading', { name: 'Stewardship' }).waitFor();
    await page.getByLabel('Description (Markdown)').fill('Contacts of the *trial sites*.');
    await page.getByLabel('Certification', { exact: true }).selectOption('validated');
    await page.getByRole('button', { name: 'Save documentation' }).click();
    await page.locator('.description em', { hasText: 'trial sites' }).waitFor();
    await page.locator('.meta .badge', { hasText: 'validated' }).waitFor();
    const described = (await (await server.get('erin', '/v1/datasets/drug_xyz.contacts')).json()) as { description: string; certification: { status: string } | null; columns: { name: string; tags: string[] }[] };
    assert.equal(described.description, 'Contacts of the *trial sites*.');
    assert.equal(described.certification?.status, 'validated');
    const accept = page.getByRole('button', { name: 'Accept pii.email for contact_email' });
    await accept.waitFor();
    await accept.click();
    await page.getByRole('row', { name: /^contact_email / }).filter({ hasText: 'pii.email' }).waitFor();
    const after = (await (await server.get('erin', '/v1/datasets/drug_xyz.contacts')).json()) as { columns: { name: string; tags: string[] }[] };
    assert.ok(after.columns.find((c) => c.name === 'contact_email')?.tags.includes('pii.email'));
    await shot(page, 'dataset-erin-steward');
    await page.context().close();
    const bob = await signedIn('bob');
    await bob.goto(`${server.url}/datasets/${TRIAL}`);
    await bob.getByRole('table', { name: `Preview of ${TRIAL}` }).waitFor();
    assert.equal(await bob.getByRole('heading', { name: 'Stewardship' }).count(), 0);
    await bob.context().close();
  });
});

describe('audit log', () => {
  test('carol reads everyone’s records and filters them; alice only her own; statements are text', async () => {
    // alice leaves a record whose statement carries markup.
    await server.query('alice', "SELECT '<img src=x onerror=window.__veilXss=3>' AS probe");
    const carol = await signedIn('carol');
    await carol.getByRole('link', { name: 'Audit' }).click();
    await carol.getByRole('table', { name: 'Audit records' }).waitFor();
    const users = new Set((await carol.getByRole('table', { name: 'Audit records' }).locator('tbody tr td:nth-child(2)').allInnerTexts()).map((u) => u.trim()));
    assert.ok(users.has('alice') && users.size > 1, `carol sees several users: ${[...users].join(', ')}`);
    await carol.getByLabel('user', { exact: true }).fill('alice');
    await carol.getByRole('button', { name: 'Filter' }).click();
    await carol.waitForURL(/\/audit\?user=alice/);
    // The new selection replaces the old one once it has arrived.
    await carol.waitForFunction(() => {
      const cells = [...document.querySelectorAll('table[aria-label="Audit records"] tbody tr td:nth-child(2)')].map((c) => c.textContent?.trim());
      return cells.length > 0 && cells.every((c) => c === 'alice');
    });
    assert.ok((await carol.locator('main').innerText()).includes('<img src=x onerror=window.__veilXss=3>'), 'the statement is shown as text');
    assert.equal(await carol.evaluate(() => (window as unknown as { __veilXss?: number }).__veilXss), undefined);
    await carol.getByRole('table', { name: 'Audit records' }).locator('tbody tr button').first().click();
    await carol.getByRole('heading', { name: /^Record / }).waitFor();
    assert.match(await carol.locator('.record').innerText(), /request_id/);
    // The chain's verification status, as the server checks it.
    await carol.getByRole('button', { name: 'Verify the audit chain' }).click();
    const verified = carol.getByRole('status').filter({ hasText: /^Intact: / });
    await verified.waitFor();
    const expected = (await (await server.get('carol', '/v1/audit/verify')).json()) as { ok: boolean };
    assert.equal(expected.ok, true);
    assert.match(await verified.innerText(), /Intact: [\d,]+ records in [\d,]+ chained events/);
    assert.deepEqual((carol).cspViolations, []);
    assert.deepEqual(await accessibilityViolations(carol), []);
    await shot(carol, 'audit-carol');
    await carol.context().close();
    const alice = await signedIn('alice');
    await alice.goto(`${server.url}/audit`);
    await alice.getByRole('table', { name: 'Audit records' }).locator('tbody tr').first().waitFor();
    const own = new Set((await alice.getByRole('table', { name: 'Audit records' }).locator('tbody tr td:nth-child(2)').allInnerTexts()).map((u) => u.trim()));
    assert.deepEqual([...own], ['alice']);
    assert.equal(await alice.getByRole('button', { name: 'Verify the audit chain' }).count(), 0);
    await alice.context().close();
  });
});

describe('insights', () => {
  test('carol sees the charts and tables of /v1/audit/insights; alice is told they are not hers', async () => {
    const carol = await signedIn('carol');
    await carol.goto(`${server.url}/insights?days=7`);
    await carol.getByRole('img', { name: /^Requests per day by user/ }).waitFor();
    const api = (await (await server.get('carol', '/v1/audit/insights?days=7')).json()) as {
      top_datasets: { dataset: string }[];
      accesses_over_time: { by: string; dataset: string | null; user: string | null; door: string | null; requests: number }[];
    };
    // Each chart says in its label what the API counted: per dataset, per user, per tool (door).
    const total = (by: string, key: (r: (typeof api.accesses_over_time)[number]) => string | null, name: string): number =>
      api.accesses_over_time.filter((r) => r.by === by && key(r) === name).reduce((n, r) => n + r.requests, 0);
    const byDataset = await carol.getByRole('img', { name: /^Requests per day by dataset/ }).getAttribute('aria-label');
    assert.ok(byDataset?.includes(`${TRIAL} ${total('dataset', (r) => r.dataset, TRIAL)}`), `${byDataset}`);
    const byUser = await carol.getByRole('img', { name: /^Requests per day by user/ }).getAttribute('aria-label');
    assert.ok(byUser?.includes(`alice ${total('user', (r) => r.user, 'alice')}`), `${byUser}`);
    const byTool = await carol.getByRole('img', { name: /^Requests per day by tool/ }).getAttribute('aria-label');
    assert.match(byTool ?? '', /http/);
    const top = await carol.locator('table', { has: carol.locator('caption', { hasText: 'Top datasets' }) }).innerText();
    for (const row of api.top_datasets) assert.ok(top.includes(row.dataset), `${row.dataset} in the top datasets`);
    assert.deepEqual((carol).cspViolations, []);
    assert.deepEqual(await accessibilityViolations(carol), []);
    await shot(carol, 'insights-carol');
    await carol.context().close();
    const alice = await signedIn('alice');
    await alice.goto(`${server.url}/insights`);
    await alice.getByRole('alert').waitFor();
    assert.match(await alice.getByRole('alert').innerText(), /for the compliance group and administrators/);
    await alice.context().close();
  });
});

describe('hostile content is text', () => {
  test('descriptions, column descriptions, tags and values with markup are shown, never run', async () => {
    const admin = (method: string, route: string, body: unknown) =>
      fetch(`${server.url}${route}`, { method, headers: { Authorization: `Bearer ${server.token('erin')}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const payload = '<img src=x onerror="window.__veilXss=1"><script>window.__veilXss=2</script>';
    const response = await admin('PATCH', `/v1/datasets/${TRIAL}`, { description: `Trial **bold** ${payload}`, column_descriptions: { arm: payload } });
    assert.equal(response.status, 200, await response.text());
    const page = await signedIn('erin');
    await page.goto(`${server.url}/datasets/${TRIAL}`);
    await page.getByRole('row', { name: /^arm / }).waitFor();
    await page.getByRole('table', { name: `Preview of ${TRIAL}` }).waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { __veilXss?: number }).__veilXss), undefined);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.locator('main strong', { hasText: 'bold' }).count(), 1, 'Markdown is rendered');
    assert.match(await page.getByRole('row', { name: /^arm / }).innerText(), /<img src=x onerror=/);
    await page.context().close();
  });
});

describe('keyboard', () => {
  test('sign-in and search are reachable with the keyboard alone', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in as alice' }).waitFor();
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent === 'Sign in as alice');
    }
    assert.ok(reached, 'Tab reaches "Sign in as alice"');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as alice').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Search datasets');
    await page.keyboard.type('adverse');
    await page.getByRole('link', { name: 'drug_xyz.adverse_events' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign in as alice' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the token is gone');
    await context.close();
  });
});

describe('policies', () => {
  const DAVE_READS_EVENTS = `policies:
  - name: dave-adverse-events
    description: Dave reviews adverse events, without reporters' emails.
    subjects: { users: [dave] }
    resources: [{ dataset: drug_xyz.adverse_events }]
    hide: { tags: [pii] }
`;

  async function replaceEditorText(page: Page, name: string, text: string): Promise<void> {
    const editor = page.getByRole('textbox', { name });
    await editor.click();
    await page.keyboard.press('Control+A');
    // insertText, not type: typed newlines would be auto-indented by the editor.
    await page.keyboard.insertText(text);
  }

  test('erin filters the list, sees a problem on its line, previews what changes for whom, applies, and finds it in the history', async () => {
    const page = await signedIn('erin');
    try {
      await page.getByRole('link', { name: 'Policies' }).click();
      await page.waitForURL(/\/policies$/);
      const list = page.getByRole('table', { name: 'Policies' });
      await list.waitFor();
      const all = await list.locator('tbody tr').count();
      const api = (await (await server.get('erin', '/v1/policies')).json()) as { policies: { name: string }[] };
      assert.equal(all, api.policies.length);
      await page.getByRole('searchbox', { name: 'Filter policies' }).fill('research');
      assert.deepEqual((await list.locator('tbody tr td:first-child strong').allInnerTexts()).sort(), ['research-read']);
      await page.getByRole('button', { name: 'Edit research-read' }).click();
      assert.match(await page.getByRole('textbox', { name: 'Policy YAML' }).innerText(), /name: research-read/);

      await replaceEditorText(page, 'Policy YAML', BROKEN_POLICY_FILE);
      await page.getByRole('button', { name: 'Check changes' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /Line 5 \(policy broken-mask\):.*no_such_transform/);
      // Shown inline too: the editor underlines the line.
      await page.locator('.cm-lintRange-error').first().waitFor();
      assert.ok(await page.getByRole('button', { name: 'Apply' }).isDisabled());

      await replaceEditorText(page, 'Policy YAML', DAVE_READS_EVENTS);
      await page.getByRole('button', { name: 'Check changes' }).click();
      const impact = page.getByRole('table', { name: 'Access that would change' });
      await impact.waitFor();
      const rows = (await impact.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').map((v) => v.trim()));
      const expected = (await (await server.post('erin', '/v1/policies/preview', DAVE_READS_EVENTS, { 'Content-Type': 'application/yaml' })).json()) as { impact: { user: string; dataset: string; summary: string }[] };
      assert.deepEqual(rows.map((r) => r.slice(0, 3)), expected.impact.map((i) => [i.user, i.dataset, i.summary]));
      assert.deepEqual(rows.map((r) => r.slice(0, 3)), [['dave', 'drug_xyz.adverse_events', 'gains read access']]);
      // Nothing applied yet: dave still cannot see the dataset.
      assert.equal((await server.query('dave', 'SELECT count(*) FROM drug_xyz.adverse_events')).status, 404);
      assert.deepEqual(await accessibilityViolations(page), []);
      await shot(page, 'policies-erin');

      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByRole('status').filter({ hasText: 'Applied' }).waitFor();
      assert.equal((await server.query('dave', 'SELECT count(*) FROM drug_xyz.adverse_events')).status, 200);
      const latest = page.getByRole('list', { name: 'Policy changes' }).locator('li').first();
      await latest.filter({ hasText: 'dave-adverse-events' }).waitFor();
      assert.match(await latest.innerText(), /erin created dave-adverse-events/);
      await latest.locator('summary').click();
      const diff = await page.getByLabel('Difference of dave-adverse-events').innerText();
      assert.match(diff, /^\+name: dave-adverse-events$/m);
      assert.match(diff, /^\+description: Dave reviews adverse events/m);
      assert.deepEqual((page).cspViolations, []);
      await shot(page, 'policies-history-erin');
    } finally {
      await fetch(`${server.url}/v1/policies/dave-adverse-events`, { method: 'DELETE', headers: { Authorization: `Bearer ${server.token('erin')}` } });
      await page.context().close();
    }
  });

  test('view as: alice and bob side by side, each exactly as /v1/explain answers them; bob\'s rows carry no pii', async () => {
    const page = await signedIn('erin');
    await page.goto(`${server.url}/policies`);
    await page.getByRole('combobox', { name: 'Dataset' }).selectOption(TRIAL);
    await page.getByRole('combobox', { name: 'First user' }).selectOption('alice');
    await page.getByRole('combobox', { name: 'Second user' }).selectOption('bob');
    await page.getByRole('button', { name: 'Compare' }).click();
    for (const user of ['alice', 'bob']) {
      const table = page.getByRole('table', { name: `Columns as ${user}` });
      await table.waitFor();
      const shown = (await table.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').map((v) => v.trim()));
      const explain = (await (await server.post(user, '/v1/explain', { sql: `SELECT * FROM ${TRIAL}` })).json()) as {
        datasets: { columns: { name: string; access: string; transform: string | null; policies: string[] }[]; row_filters: { predicate: string }[] }[];
      };
      const columns = explain.datasets[0]!.columns;
      assert.deepEqual(shown, columns.map((c) => [c.name, `${c.access}${c.transform === null ? '' : ` (${c.transform})`}`, c.policies.join(', ')]));
      const region = page.getByRole('region', { name: `${TRIAL} as ${user}` });
      for (const f of explain.datasets[0]!.row_filters) assert.ok((await region.innerText()).includes(f.predicate));
    }
    const bobPreview = page.getByRole('table', { name: 'Preview as bob' });
    await bobPreview.waitFor();
    const header = (await bobPreview.locator('thead').innerText()).split(/\s+/);
    for (const column of ['ssn', 'email', 'full_name', 'participant_id']) assert.ok(!header.includes(column), `${column} in bob's preview`);
    const bobText = await page.getByRole('region', { name: `${TRIAL} as bob` }).innerText();
    for (const ssn of rawSsns) assert.ok(!bobText.includes(ssn));
    for (const email of rawEmails) assert.ok(!bobText.includes(email));
    const aliceText = await page.getByRole('region', { name: `${TRIAL} as alice` }).innerText();
    for (const ssn of rawSsns) assert.ok(!aliceText.includes(ssn), `raw ssn in alice's view`);
    assert.deepEqual(await accessibilityViolations(page), []);
    await shot(page, 'view-as-erin');
    await page.setViewportSize({ width: 390, height: 800 });
    await assertFitsScreen(page);
    await shot(page, 'policies-erin-390');
    await page.context().close();
  });

  test('alice is not an administrator: no Policies link, and the page says who manages policies', async () => {
    const page = await signedIn('alice');
    assert.equal(await page.getByRole('link', { name: 'Policies' }).count(), 0);
    await page.goto(`${server.url}/policies`);
    await page.getByText('Policies are managed by administrators').waitFor();
    assert.equal(await page.getByRole('table', { name: 'Policies' }).count(), 0);
    assert.deepEqual(await accessibilityViolations(page), []);
    await shot(page, 'policies-alice');
    await page.context().close();
  });
});

test('no request ended in an internal error', () => {
  assert.deepEqual(server.internalErrors, []);
});
