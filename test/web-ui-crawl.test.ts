import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { accessibilityViolations, assertFitsScreen, launchBrowserWithUi, shot, signedIn as signInAs, type WatchedPage } from './support/web-ui-browser.ts';

/**
 * Crawling from the catalog page: an administrator crawls a prefix and watches its progress as
 * the server streams it, then follows the registered datasets; others are not offered the panel.
 */
const FILES = 25;
const PREFIX = 'crawl-ui';

let server: TestServer & { internalErrors: unknown[] };
let browser: Browser;

before(async () => {
  browser = await launchBrowserWithUi();
  server = await startTestServer({ rows: 500 });
  const dir = path.join(server.home, 'storage', PREFIX);
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= FILES; i++) writeFileSync(path.join(dir, `study_${String(i).padStart(2, '0')}.csv`), `id,score\n${i},${i * 1.5}\n`);
  // Stewards may read what lands in the crawled database, so the catalog lists it to erin.
  const granted = await server.post('erin', '/v1/policies', '- name: stewards-read-crawled\n  subjects: { groups: [stewards] }\n  resources: [{ database: crawled }]\n', { 'Content-Type': 'application/yaml' });
  assert.equal(granted.status, 200);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh context signed in through the demo buttons (as test/web-ui.test.ts does). */
function signedIn(user: string, width = 1280, height = 800): Promise<WatchedPage> {
  return signInAs(browser, server.url, user, width, height);
}

/** Every text the crawl's status line takes from now on, in order (read back with `statusTexts`). */
async function recordStatusTexts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { crawlStatusTexts: string[] }).crawlStatusTexts = seen;
    const status = document.querySelector('.crawl-panel [role="status"]');
    if (status === null) throw new Error('no status line in the crawl panel');
    new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
  });
}

async function statusTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { crawlStatusTexts: string[] }).crawlStatusTexts);
}

test('erin crawls a prefix, watches its progress, and opens the datasets it registered', async () => {
  const page = await signedIn('erin');
  await page.getByText('Crawl storage').click();
  await page.getByLabel('Storage prefix', { exact: true }).fill(PREFIX);
  await page.getByLabel('Database', { exact: true }).fill('crawled');
  await recordStatusTexts(page);
  await page.getByRole('button', { name: 'Crawl', exact: true }).click();

  const summary = page.getByRole('region', { name: `Crawl of ${PREFIX}` });
  await summary.waitFor();
  assert.equal(await page.locator('.crawl-panel').getByRole('status').innerText(), `Done: ${FILES} of ${FILES} crawled.`);
  const bar = page.getByRole('progressbar', { name: 'Crawl progress' });
  assert.equal(await bar.getAttribute('value'), String(FILES));
  assert.equal(await bar.getAttribute('max'), String(FILES));

  // The status line followed the stream: the count found first, then candidates in order.
  const texts = (await statusTexts(page)).filter((t) => t !== '');
  assert.ok(texts.includes(`Found ${FILES} datasets to crawl under ${PREFIX}.`), texts.join(' | '));
  const steps = texts.map((t) => new RegExp(`^(\\d+) of ${FILES}: ${PREFIX}/study_\\d\\d\\.csv$`).exec(t)).filter((m) => m !== null);
  assert.ok(steps.length > 0, `progress lines shown while crawling: ${texts.join(' | ')}`);
  const done = steps.map((m) => Number(m[1]));
  assert.deepEqual(done, [...done].sort((a, b) => a - b), 'progress only moves forward');

  const links = summary.getByRole('link');
  assert.equal(await links.count(), FILES);
  const names = await links.allInnerTexts();
  assert.deepEqual([...names].sort(), Array.from({ length: FILES }, (_, i) => `crawled.study_${String(i + 1).padStart(2, '0')}`).sort());
  assert.match(await summary.innerText(), new RegExp(`${FILES} registered, 0 changed, 0 with schema drift, 0 missing, 0 failed`));
  // The catalog below refreshes: the new datasets are listed without reloading the page.
  await page.locator('ul[aria-label="Search results"] a', { hasText: 'crawled.study_07' }).waitFor();

  assert.deepEqual(await accessibilityViolations(page), []);
  await shot(page, 'crawl-erin');
  await page.setViewportSize({ width: 390, height: 844 });
  await assertFitsScreen(page);
  assert.deepEqual(page.cspViolations, []);

  await links.filter({ hasText: 'crawled.study_07' }).click();
  await page.waitForURL(/\/datasets\/crawled\.study_07$/);
  await page.getByRole('heading', { level: 1, name: 'crawled.study_07' }).waitFor();
  await page.context().close();
});

test('a prefix that does not exist is explained in words', async () => {
  const page = await signedIn('erin');
  await page.getByText('Crawl storage').click();
  await page.getByLabel('Storage prefix', { exact: true }).fill('no-such-prefix');
  await page.getByLabel('Database', { exact: true }).fill('nothing');
  await page.getByRole('button', { name: 'Crawl', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.innerText(), 'Veil cannot crawl this: no-such-prefix does not exist under the storage root.');
  assert.equal(await page.getByRole('progressbar', { name: 'Crawl progress' }).count(), 0);
  await page.context().close();
});

test('bob, not an administrator, is not offered a crawl', async () => {
  const page = await signedIn('bob');
  await page.getByRole('searchbox', { name: 'Search datasets' }).waitFor();
  await page.getByRole('list', { name: 'Search results' }).getByRole('link').first().waitFor();
  assert.equal(await page.getByText('Crawl storage').count(), 0);
  assert.equal(await page.getByLabel('Storage prefix', { exact: true }).count(), 0);
  assert.equal(await page.getByText('Columnar cache').count(), 0);
  await page.context().close();
});

test('erin sees each dataset’s columnar copy as the API reports it, and rebuilds one with its progress followed to the end', async () => {
  const page = await signedIn('erin');
  await page.getByText('Columnar cache', { exact: true }).click();
  const table = page.getByRole('table', { name: 'Columnar cache' });
  await table.waitFor();
  const api = (await (await server.get('erin', '/v1/cache')).json()) as { datasets: { dataset: string; state: string }[] };
  for (const d of api.datasets) await table.getByRole('row', { name: new RegExp(`^${d.dataset.replace('.', '\\.')} `) }).waitFor();
  const trial = table.getByRole('row', { name: /^drug_xyz\.trial_july2020 / });
  await page.getByRole('button', { name: 'Rebuild the copy of drug_xyz.trial_july2020' }).click();
  // Polled until the build is over: the row ends fresh, with the copy's size.
  await trial.filter({ hasText: /^drug_xyz\.trial_july2020\s*fresh/ }).waitFor({ timeout: 60_000 });
  assert.match(await trial.innerText(), /\d+(\.\d)? (KB|MB)/);
  assert.deepEqual(await accessibilityViolations(page), []);
  await shot(page, 'cache-erin');
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});
