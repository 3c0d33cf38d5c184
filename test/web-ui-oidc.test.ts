import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { openRuntime } from '../src/runtime/index.ts';
import { postgresSchemaOfHomeExists } from './support/stores.ts';
import { testBackend } from './support/stores.ts';
import { startTestOidcServer, type TestOidcServer } from './support/test-oidc-server.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { accessibilityViolations, launchBrowserWithUi, shot } from './support/web-ui-browser.ts';

/**
 * Browser sign-in with OpenID Connect (authorization code + PKCE) in a real Chromium, against a
 * real Veil and a real (test) identity provider with a login page: the whole round trip, what
 * stays behind (nothing but the ID token in sessionStorage), and each way it must refuse.
 */
const CLIENT_ID = 'veil-web';
const PROVIDER = 'Example SSO';
const TOKEN_KEY = 'veil.token';

let idp: TestOidcServer;
let server: TestServer & { internalErrors: unknown[] };
let browser: Browser;

before(async () => {
  browser = await launchBrowserWithUi();
  idp = await startTestOidcServer({
    clientId: CLIENT_ID,
    users: {
      alice: { groups: ['data_science'] },
      // A provider that gets the nonce wrong (a replayed or substituted ID token looks like this).
      replayed: { groups: [], claims: { nonce: 'a-nonce-from-another-sign-in' } },
    },
  });
  server = await startTestServer({
    rows: 500,
    prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), stringify({ oidc_providers: [providerConfig()] })),
  });
  idp.registerRedirectUri(`${server.url}/sign-in/callback`);
});
after(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

function providerConfig(browserSignIn: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: PROVIDER,
    issuer: idp.issuer,
    audience: [CLIENT_ID],
    jwks_url: idp.jwksUri,
    browser_sign_in: { client_id: CLIENT_ID, authorization_endpoint: idp.authorizationEndpoint, token_endpoint: idp.tokenEndpoint, ...browserSignIn },
  };
}

interface Watched {
  readonly page: Page;
  /** Every URL the tab showed, including same-document (history API) changes. */
  readonly urls: string[];
  readonly cspViolations: string[];
}

async function newTab(): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const urls: string[] = [];
  const cspViolations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) urls.push(frame.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) cspViolations.push(message.text());
  });
  return { page, urls, cspViolations };
}

/** From Veil's sign-in page to the provider's login page; returns the authorization request. */
async function toProvider(page: Page): Promise<URLSearchParams> {
  await page.getByRole('button', { name: `Sign in with ${PROVIDER}` }).click();
  await page.waitForURL((url) => url.href.startsWith(idp.authorizationEndpoint));
  return new URL(page.url()).searchParams;
}

async function storage(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => Object.fromEntries(Object.keys(sessionStorage).map((key) => [key, sessionStorage.getItem(key) ?? ''])));
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}


/** A code for `user`, obtained directly from the provider the way a browser would (for attacks and endpoint tests). */
async function codeFor(user: string, verifier: string, extra: Record<string, string> = {}): Promise<{ code: string; state: string }> {
  const form = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: `${server.url}/sign-in/callback`,
    response_type: 'code',
    scope: 'openid profile',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    user,
    decision: 'approve',
    ...extra,
  });
  const response = await fetch(idp.authorizationEndpoint, { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(response.status, 303);
  const location = new URL(response.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, `${server.url}/sign-in/callback`);
  return { code: location.searchParams.get('code') ?? '', state: location.searchParams.get('state') ?? '' };
}

async function redeem(code: string, verifier: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${server.url}/sign-in/callback`, client_id: CLIENT_ID, code_verifier: verifier }),
  });
}

describe('serving browser sign-in', () => {
  test('the options name the provider with its public client settings, and nothing secret', async () => {
    const response = await fetch(`${server.url}/v1/sign-in/options`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.doesNotMatch(text, /secret|private|"d":/i);
    const options = JSON.parse(text) as { identity_providers: Record<string, unknown>[] };
    assert.deepEqual(options.identity_providers, [
      {
        name: PROVIDER,
        issuer: idp.issuer,
        client_id: CLIENT_ID,
        authorization_endpoint: idp.authorizationEndpoint,
        token_endpoint: idp.tokenEndpoint,
        scope: 'openid profile',
      },
    ]);
  });

  test('the callback is a page of the app; the CSP lets the UI connect to the token endpoint’s origin and nowhere else', async () => {
    const page = await fetch(`${server.url}/sign-in/callback?code=abc&state=def`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<div id="root">/);
    const directives = (page.headers.get('content-security-policy') ?? '').split('; ');
    assert.deepEqual(
      directives.filter((d) => d.startsWith('connect-src')),
      [`connect-src 'self' ${idp.issuer}`],
    );
    // Nothing else widened: scripts, forms and frames keep their rules.
    assert.ok(directives.includes("script-src 'self'"));
    assert.ok(directives.includes("form-action 'self'"));
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });
});

describe('signing in through the provider', () => {
  test('alice signs in on the provider’s login page and lands on the deep link she opened; nothing but the token stays', async () => {
    const { page, urls, cspViolations } = await newTab();
    await page.goto(`${server.url}/search?q=trial`);
    const request = await toProvider(page);
    assert.equal(request.get('response_type'), 'code');
    assert.equal(request.get('client_id'), CLIENT_ID);
    assert.equal(request.get('redirect_uri'), `${server.url}/sign-in/callback`);
    assert.equal(request.get('scope'), 'openid profile');
    assert.equal(request.get('code_challenge_method'), 'S256');
    assert.match(request.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    for (const name of ['state', 'nonce']) assert.match(request.get(name) ?? '', /^[A-Za-z0-9_-]{43}$/, `${name}: 32 random bytes`);

    await page.getByLabel('User name').fill('alice');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Signed in as alice').waitFor();
    assert.equal(page.url(), `${server.url}/search?q=trial`, 'back where she started');
    assert.equal(await page.getByRole('searchbox', { name: 'Search datasets' }).inputValue(), 'trial');

    // The exchange: one form-encoded POST from Veil's origin, no cookie, no Authorization header.
    const exchange = idp.tokenRequests.at(-1);
    assert.ok(exchange !== undefined);
    assert.deepEqual(
      { origin: exchange.origin, contentType: exchange.contentType, cookie: exchange.cookie, authorization: exchange.authorization, status: exchange.status },
      { origin: server.url, contentType: 'application/x-www-form-urlencoded', cookie: false, authorization: false, status: 200 },
    );
    assert.equal(createHash('sha256').update(exchange.codeVerifier).digest('base64url'), request.get('code_challenge'), 'the verifier behind the challenge');

    // What stays: the ID token in sessionStorage, nothing of the round trip.
    const kept = await storage(page);
    assert.deepEqual(Object.keys(kept), [TOKEN_KEY]);
    const token = kept[TOKEN_KEY] ?? '';
    const claims = claimsOf(token);
    assert.equal(claims['iss'], idp.issuer);
    assert.equal(claims['aud'], CLIENT_ID);
    assert.equal(claims['nonce'], request.get('nonce'));
    for (const value of Object.values(kept)) {
      assert.ok(!value.includes(exchange.codeVerifier), 'no code verifier in sessionStorage');
      assert.ok(!value.includes(exchange.code), 'no code in sessionStorage');
    }
    // The provider did send the code to the callback, and it left the address bar.
    assert.ok(urls.some((url) => url.startsWith(`${server.url}/sign-in/callback?code=${encodeURIComponent(exchange.code)}`)), 'the callback was visited');
    assert.doesNotMatch(page.url(), /code=|state=/);
    for (const url of urls) assert.ok(!url.includes(token), 'the token never in a URL');
    // Never a cookie (Veil's or the provider's: cookies are shared across ports on 127.0.0.1).
    const cookies = await page.evaluate(() => document.cookie);
    assert.ok(!cookies.includes(token) && !cookies.includes(token.split('.')[1] ?? '-'), 'the token is in no cookie');
    assert.deepEqual((await page.context().cookies()).filter((c) => c.value.includes('eyJ')), []);

    // Veil takes the ID token: /v1/me answers alice, authenticated by the provider.
    const me = (await page.evaluate(async (key) => {
      const response = await fetch('/v1/me', { headers: { Authorization: `Bearer ${sessionStorage.getItem(key) ?? ''}` } });
      return response.json();
    }, TOKEN_KEY)) as { user: string; groups: string[]; authenticated_by: { method: string; via: string } };
    assert.equal(me.user, 'alice');
    assert.ok(me.groups.includes('data_science'));
    assert.deepEqual(me.authenticated_by, { method: 'oidc', via: PROVIDER });

    // Going back: the provider's page, then the page she started on; never the callback with its code.
    await page.goBack();
    assert.ok(page.url().startsWith(idp.authorizationEndpoint), page.url());
    await page.goBack();
    assert.equal(page.url(), `${server.url}/search?q=trial`);
    assert.deepEqual(cspViolations, []);
    await page.context().close();
  });

  test('a callback whose state does not match is refused in words: no exchange, no token, no code left in the address', async () => {
    const { page } = await newTab();
    await page.goto(`${server.url}/search`);
    await toProvider(page);
    // An attacker's valid code (login CSRF), delivered to this tab with the attacker's state.
    const attacker = await codeFor('alice', randomBytes(32).toString('base64url'));
    const exchanges = idp.tokenRequests.length;
    await page.goto(`${server.url}/sign-in/callback?code=${attacker.code}&state=${attacker.state}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /does not belong to the sign-in started in this tab/);
    assert.equal(idp.tokenRequests.length, exchanges, 'the code was not exchanged');
    assert.equal(page.url(), `${server.url}/sign-in/callback`, 'code and state removed from the address bar');
    assert.deepEqual(await storage(page), {}, 'no token, and the round trip is forgotten');
    assert.equal(await page.getByText(/Signed in as/).count(), 0);
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.getByRole('button', { name: `Sign in with ${PROVIDER}` }).waitFor();
    await page.context().close();
  });

  test('a callback in a tab that started no sign-in is refused in words', async () => {
    const { page } = await newTab();
    const { code, state } = await codeFor('alice', randomBytes(32).toString('base64url'));
    await page.goto(`${server.url}/sign-in/callback?code=${code}&state=${state}`);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /No sign-in was started in this tab/);
    assert.deepEqual(await storage(page), {});
    await page.context().close();
  });

  test('an ID token whose nonce is not this sign-in’s is not used', async () => {
    const { page } = await newTab();
    await page.goto(`${server.url}/search`);
    await toProvider(page);
    await page.getByLabel('User name').fill('replayed');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(idp.tokenRequests.at(-1)?.status, 200, 'the provider did answer with a token');
    assert.match(await page.getByRole('alert').innerText(), /was not issued for this sign-in \(its nonce does not match\)/);
    assert.deepEqual(await storage(page), {});
    await page.context().close();
  });

  test('the provider’s refusal is shown in words', async () => {
    const { page } = await newTab();
    await page.goto(`${server.url}/datasets/drug_xyz.trial_july2020`);
    await toProvider(page);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByRole('alert').innerText(), `${PROVIDER} did not sign you in: the sign-in was declined (The user declined to sign in.).`);
    assert.equal(page.url(), `${server.url}/sign-in/callback`);
    assert.deepEqual(await storage(page), {});
    await page.context().close();
  });

  test('the sign-in page with the provider’s button: no serious accessibility violation; screenshot', async () => {
    const { page, cspViolations } = await newTab();
    await page.goto(`${server.url}/`);
    const button = page.getByRole('button', { name: `Sign in with ${PROVIDER}` });
    await button.waitFor();
    // Reachable by keyboard: the first control on the page after the header's link.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), `Sign in with ${PROVIDER}`);
    assert.deepEqual(await accessibilityViolations(page), []);
    assert.deepEqual(cspViolations, []);
    await shot(page, 'sign-in-oidc');
    await page.context().close();
  });
});

describe('the test provider’s token endpoint', () => {
  test('refuses a wrong code_verifier, spends the code, and issues ID tokens Veil accepts for the right one', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const first = await codeFor('alice', verifier);
    const wrong = await redeem(first.code, randomBytes(32).toString('base64url'));
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { error: 'invalid_grant', error_description: 'the code verifier does not match the code challenge' });
    const again = await redeem(first.code, verifier);
    assert.equal(again.status, 400, 'a code is spent by its first redemption');
    assert.match(((await again.json()) as { error_description: string }).error_description, /unknown or was already used/);

    const nonce = randomBytes(16).toString('base64url');
    const second = await codeFor('alice', verifier, { nonce });
    const ok = await redeem(second.code, verifier, { Origin: server.url });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), server.url);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const body = (await ok.json()) as { id_token: string; access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.expires_in > 0 && body.access_token.length > 20);
    assert.deepEqual(
      (({ iss, aud, sub, preferred_username, nonce: n, groups }) => ({ iss, aud, sub, preferred_username, nonce: n, groups }))(claimsOf(body.id_token)),
      { iss: idp.issuer, aud: CLIENT_ID, sub: 'alice', preferred_username: 'alice', nonce, groups: ['data_science'] },
    );
    const me = await fetch(`${server.url}/v1/me`, { headers: { Authorization: `Bearer ${body.id_token}` } });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: string }).user, 'alice');
  });

  test('answers CORS for Veil’s origin only; the preflight too', async () => {
    const preflight = await fetch(idp.tokenEndpoint, { method: 'OPTIONS', headers: { Origin: server.url, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), server.url);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    const foreign = await fetch(idp.tokenEndpoint, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const verifier = randomBytes(32).toString('base64url');
    const { code } = await codeFor('alice', verifier);
    const fromElsewhere = await redeem(code, verifier, { Origin: 'https://evil.example' });
    assert.equal(fromElsewhere.headers.get('access-control-allow-origin'), null);
  });

  test('refuses an authorization request without PKCE S256 or with another redirect URI', async () => {
    const base = {
      client_id: CLIENT_ID,
      redirect_uri: `${server.url}/sign-in/callback`,
      response_type: 'code',
      scope: 'openid',
      code_challenge: createHash('sha256').update('x'.repeat(43)).digest('base64url'),
      code_challenge_method: 'S256',
      state: 's',
    };
    const get = (params: Record<string, string>) => fetch(`${idp.authorizationEndpoint}?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });
    assert.equal((await get(base)).status, 200);
    const plain = await get({ ...base, code_challenge_method: 'plain' });
    assert.equal(plain.status, 303);
    assert.match(plain.headers.get('location') ?? '', /error=invalid_request/);
    const elsewhere = await get({ ...base, redirect_uri: `${server.url}/sign-in/callback/x` });
    assert.equal(elsewhere.status, 400, 'never redirected to an unregistered URI');
    assert.equal(elsewhere.headers.get('location'), null);
  });
});

describe('configuration', () => {
  test('Veil refuses to start with an unusable browser sign-in block, and says why', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{}, { authorization_endpoint: undefined }, /browser_sign_in: "authorization_endpoint" is required/],
      [{}, { authorization_endpoint: 'http://login.example.com/authorize' }, /"authorization_endpoint" must be an https URL \(plain http only on loopback\)/],
      [{}, { token_endpoint: 'ftp://login.example.com/token' }, /"token_endpoint" must be an https URL/],
      [{ audience: 'veil' }, {}, /"audience" must include the client_id "veil-web"/],
    ];
    for (const [provider, signIn, message] of cases) {
      const home = mkdtempSync(path.join(os.tmpdir(), 'veil-oidc-config-'));
      try {
        const entry = { ...providerConfig(signIn), ...provider };
        const block = entry['browser_sign_in'] as Record<string, unknown>;
        for (const key of Object.keys(block)) if (block[key] === undefined) delete block[key];
        writeFileSync(path.join(home, 'config.yaml'), stringify({ oidc_providers: [entry] }));
        await assert.rejects(openRuntime(home), message);
        // Configuration is checked before anything opens: a refusal leaves no database behind.
        assert.equal(existsSync(path.join(home, 'veil.db')), false, 'nothing opened');
        if (testBackend() === 'postgres') assert.equal(await postgresSchemaOfHomeExists(home), false, 'no PostgreSQL schema created');
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
  });
});
