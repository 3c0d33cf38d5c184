import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** A page that records the Content-Security-Policy violations the browser reports. */
export type WatchedPage = Page & { cspViolations: string[] };

/**
 * What every web UI test needs: the built UI, Debian's Chromium driven by playwright-core,
 * axe-core's verdict, the narrow-screen check, and screenshots under test-results/web-ui/.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SHOTS = path.join(ROOT, 'test-results', 'web-ui');
const CHROMIUM = process.env['VEIL_CHROMIUM'] ?? '/usr/bin/chromium';

/** Builds the UI when its sources changed, then starts the browser. */
export async function launchBrowserWithUi(): Promise<Browser> {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ui.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `the UI builds: ${build.stderr}`);
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** axe-core's serious and critical violations (run through the DevTools protocol, which CSP does not govern). */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.count})`);
}

/** Nothing but scrollable areas is wider than the viewport (a narrow phone screen). */
export async function assertFitsScreen(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => {
    // Every element, those inside open shadow roots (the code editors) included. No named inner
    // functions: the test runner's transform would wrap them in a helper the page does not have.
    const elements: Element[] = [];
    for (const roots: ParentNode[] = [document.body]; roots.length > 0; ) {
      for (const e of (roots.pop() as ParentNode).querySelectorAll('*')) {
        elements.push(e);
        if (e.shadowRoot !== null) roots.push(e.shadowRoot);
      }
    }
    const wide = elements.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && e.parentElement?.closest('.scroll, pre, .cm-scroller') == null);
    return { by: document.documentElement.scrollWidth - window.innerWidth, culprits: wide.slice(0, 5).map((e) => `${e.tagName}.${e.className}`) };
  });
  assert.ok(overflow.by <= 1, `the page is ${overflow.by}px wider than the screen: ${overflow.culprits.join(', ')}`);
}

/** A new browser context signed in through the demo's user picker (`Sign in as <user>`). */
export async function signedIn(browser: Browser, baseUrl: string, user: string, width = 1280, height = 800): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = (await context.newPage()) as WatchedPage;
  page.cspViolations = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) page.cspViolations.push(message.text());
  });
  await page.goto(`${baseUrl}/`);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  await page.getByText(`Signed in as ${user}`).waitFor();
  return page;
}

/** Raw ssn and e-mail values of the demo trial's first `rows` participants, as written to storage. */
export function rawTrialValues(home: string, rows = Number.POSITIVE_INFINITY): { ssns: string[]; emails: string[] } {
  const lines = readFileSync(path.join(home, 'storage', 'clinical-trials', 'drug-xyz', 'trial-july2020', 'data.csv'), 'utf8').trim().split('\n').slice(1, rows + 1);
  return { ssns: lines.map((line) => line.split(',')[3] ?? ''), emails: lines.map((line) => line.split(',')[2] ?? '') };
}
