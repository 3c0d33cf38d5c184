import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { accessibilityViolations, assertFitsScreen, launchBrowserWithUi, rawTrialValues, shot, signedIn, type WatchedPage } from './support/web-ui-browser.ts';

/**
 * Every page for every demo user: what each page shows is what the API gives that user and
 * nothing more (no raw pii value where the API masks or hides it, no dataset the API does not
 * list), with no serious accessibility violation and no CSP violation, and a screenshot of each
 * (test-results/web-ui/page-<page>-<user>.png). Then every page on a 390-pixel screen.
 */
const TRIAL = 'drug_xyz.trial_july2020';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
type User = (typeof USERS)[number];

let server: TestServer & { internalErrors: unknown[] };
let browser: Browser;
let rawSsns: string[];
let rawEmails: string[];

before(async () => {
  browser = await launchBrowserWithUi();
  server = await startTestServer({ rows: 1000 });
  ({ ssns: rawSsns, emails: rawEmails } = rawTrialValues(server.home));
  // Some history for the audit and insights pages.
  for (const user of USERS) await server.query(user, `SELECT count(*) FROM ${TRIAL}`);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

interface Facts {
  readonly datasets: readonly string[];
  /** The trial as the API describes it to the user, or null when it answers 404. */
  readonly trial: { columns: { name: string; access: string; transform: string | null }[]; access: string } | null;
  readonly admin: boolean;
}

async function factsOf(user: User): Promise<Facts> {
  const list = (await (await server.get(user, '/v1/datasets')).json()) as { datasets: { name: string }[] };
  const trial = await server.get(user, `/v1/datasets/${TRIAL}`);
  const me = (await (await server.get(user, '/v1/me')).json()) as { admin: boolean };
  return {
    datasets: list.datasets.map((d) => d.name),
    trial: trial.status === 200 ? ((await trial.json()) as NonNullable<Facts['trial']>) : null,
    admin: me.admin,
  };
}

/** No raw ssn or e-mail in the page unless the API gives this user that column in the clear. */
function assertNoPiiBeyondApi(text: string, facts: Facts, where: string): void {
  const clear = (column: string): boolean => facts.trial?.columns.some((c) => c.name === column && c.access === 'clear') === true;
  if (!clear('ssn')) for (const ssn of rawSsns) assert.ok(!text.includes(ssn), `raw ssn ${ssn} on ${where}`);
  if (!clear('email')) for (const email of rawEmails) assert.ok(!text.includes(email), `raw e-mail ${email} on ${where}`);
}

/** Each page: how to open it, what it must show for this user, and when it is ready. */
const PAGES: { name: string; path: string; check(page: WatchedPage, user: User, facts: Facts): Promise<void> }[] = [
  {
    name: 'search',
    path: '/search',
    async check(page, user, facts) {
      const results = page.locator('ul[aria-label="Search results"]');
      await results.waitFor({ state: 'attached' });
      if (facts.datasets.length === 0) await page.getByText('No datasets match, among those you may see.').waitFor();
      await page.waitForFunction((n) => document.querySelectorAll('ul[aria-label="Search results"] > li').length === n, facts.datasets.length);
      const listed = await results.innerText();
      for (const name of facts.datasets) assert.ok(listed.includes(name), `${name} listed for ${user}`);
      if (!facts.datasets.some((d) => d.startsWith('drug_xyz.'))) assert.ok(!(await page.locator('main').innerText()).includes('drug_xyz'), `no drug_xyz for ${user}`);
    },
  },
  {
    name: 'dataset',
    path: `/datasets/${TRIAL}`,
    async check(page, user, facts) {
      if (facts.trial === null) {
        await page.getByRole('alert').waitFor();
        assert.match(await page.getByRole('alert').innerText(), /does not exist, or you have no access to it/);
        return;
      }
      const columns = page.getByRole('region', { name: `Columns of ${TRIAL}` });
      await columns.waitFor();
      for (const c of facts.trial.columns) {
        const row = await columns.getByRole('row', { name: new RegExp(`^${c.name} `) }).innerText();
        assert.ok(row.includes(c.access === 'masked' ? `masked (${c.transform ?? ''})` : c.access), `${c.name} is ${c.access} for ${user}: ${row}`);
      }
      if (facts.trial.access === 'read') {
        const preview = page.getByRole('table', { name: `Preview of ${TRIAL}` });
        await preview.waitFor();
        const header = (await preview.locator('thead').innerText()).split(/\s+/).filter((h) => h !== '');
        assert.deepEqual(header, facts.trial.columns.filter((c) => c.access !== 'hidden').map((c) => c.name), `${user}'s preview columns`);
      } else {
        assert.equal(await page.getByRole('table', { name: `Preview of ${TRIAL}` }).count(), 0, `no preview rows for ${user}`);
      }
    },
  },
  {
    name: 'workspace',
    path: '/workspace',
    async check(page) {
      await page.getByRole('textbox', { name: 'SQL' }).waitFor();
      await page.getByRole('button', { name: 'Run' }).waitFor();
    },
  },
  {
    name: 'audit',
    path: '/audit',
    async check(page, user) {
      const table = page.getByRole('table', { name: 'Audit records' });
      await table.locator('tbody tr').first().waitFor();
      const users = new Set((await table.locator('tbody tr td:nth-child(2)').allInnerTexts()).map((u) => u.trim()));
      if (user === 'carol') assert.ok(users.size > 1, 'compliance reads everyone’s records');
      else assert.deepEqual([...users], [user], `${user} reads only their own records`);
    },
  },
  {
    name: 'insights',
    path: '/insights',
    async check(page, user, facts) {
      if (user === 'carol' || facts.admin) {
        await page.getByRole('img', { name: /^Requests per day by dataset/ }).waitFor();
      } else {
        await page.getByRole('alert').waitFor();
        assert.match(await page.getByRole('alert').innerText(), /for the compliance group and administrators/);
      }
    },
  },
  {
    name: 'policies',
    path: '/policies',
    async check(page, user, facts) {
      if (facts.admin) {
        await page.getByRole('table', { name: 'Policies' }).waitFor();
      } else {
        await page.getByText('Policies are managed by administrators').waitFor();
        assert.equal(await page.getByRole('table', { name: 'Policies' }).count(), 0, `no policies for ${user}`);
      }
      assert.equal(await page.getByRole('link', { name: 'Policies' }).count(), facts.admin ? 1 : 0);
    },
  },
];

describe('every page, every demo user', () => {
  for (const user of USERS) {
    test(`${user}: each page shows what the API gives ${user}, accessibly`, async () => {
      const facts = await factsOf(user);
      const page = await signedIn(browser, server.url, user);
      try {
        for (const p of PAGES) {
          await page.goto(`${server.url}${p.path}`);
          await p.check(page, user, facts);
          assertNoPiiBeyondApi(await page.locator('main').innerText(), facts, `${p.name} (${user})`);
          assert.deepEqual(await accessibilityViolations(page), [], `${p.name} (${user})`);
          assert.deepEqual(page.cspViolations, [], `${p.name} (${user})`);
          await shot(page, `page-${p.name}-${user}`);
        }
      } finally {
        await page.context().close();
      }
    });
  }

  test('every page fits a 390-pixel screen', async () => {
    const facts = await factsOf('erin');
    const page = await signedIn(browser, server.url, 'erin', 390, 844);
    try {
      for (const p of PAGES) {
        await page.goto(`${server.url}${p.path}`);
        await p.check(page, 'erin', facts);
        await assertFitsScreen(page);
        await shot(page, `page-${p.name}-erin-390`);
      }
    } finally {
      await page.context().close();
    }
  });
});

test('no request ended in an internal error', () => {
  assert.deepEqual(server.internalErrors, []);
});
