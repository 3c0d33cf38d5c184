import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestIdentityProvider, type TestAlgorithm } from './test-identity-provider.ts';

/** A user the provider knows: the claims its ID tokens carry for them. */
export interface TestOidcUser {
  readonly groups?: readonly string[];
  /** More claims for the ID token (region, email, …). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** What the token endpoint saw of a request: for tests that the browser sent no credentials. */
export interface TokenRequestRecord {
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
  readonly cookie: boolean;
  readonly authorization: boolean;
  /** The code and verifier presented: so a test can look for them where they must not stay. */
  readonly code: string;
  readonly codeVerifier: string;
  readonly status: number;
}

export interface TestOidcServer {
  /** The issuer, which is also the base URL: http://127.0.0.1:<port>. */
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly clientId: string;
  /** Signs the ID tokens (issuer: this server, audience: the client_id); its JWKS is served at /jwks. */
  readonly provider: TestIdentityProvider;
  readonly tokenRequests: readonly TokenRequestRecord[];
  /**
   * Registers the client's redirect URI, matched exactly; its origin becomes the only origin the
   * token endpoint answers with CORS headers. Known once Veil listens, hence not an option.
   */
  registerRedirectUri(redirectUri: string): void;
  close(): Promise<void>;
}

interface Client {
  readonly redirectUri: string;
  readonly origin: string;
}

interface IssuedCode {
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly user: string;
  readonly expiresAt: number;
}

const CODE_LIFETIME_MS = 60_000;
const TOKEN_LIFETIME_SECONDS = 600;

/**
 * A small but real OpenID Connect provider on 127.0.0.1 for the tests: a login page (user name,
 * Approve or Deny), the authorization code flow for public clients with PKCE S256 only, single-use
 * codes valid 60 s, ID tokens signed by a TestIdentityProvider, discovery and JWKS. It is the
 * test's external party, strict where a real provider is strict (exact redirect URI, verifier
 * checked against the challenge), so Veil's UI is tested against the rules, not a stub.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.6
 */
export async function startTestOidcServer(options: {
  /** The one public client (no secret) this provider serves. */
  readonly clientId: string;
  readonly users: Readonly<Record<string, TestOidcUser>>;
  readonly algorithms?: readonly TestAlgorithm[];
}): Promise<TestOidcServer> {
  let client: Client | undefined;
  const codes = new Map<string, IssuedCode>();
  const tokenRequests: TokenRequestRecord[] = [];
  let provider: TestIdentityProvider | undefined;
  let issuer = '';

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`test OIDC server error: ${(error as Error).message}`);
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', issuer);
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        return json(res, 200, discovery(issuer, provider!));
      case 'GET /jwks':
        return json(res, 200, provider!.jwks());
      case 'GET /authorize':
        return authorizePage(res, url.searchParams);
      case 'POST /authorize':
        return approve(res, new URLSearchParams(await body(req)));
      case 'OPTIONS /token':
        return preflight(req, res);
      case 'POST /token':
        return token(req, res);
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('not found');
    }
  };

  /** Checks an authorization request: the client's problems are shown here, never redirected. */
  const checkRequest = (params: URLSearchParams): { client: Client; error?: { code: string; description: string } } | { page: string } => {
    const clientId = params.get('client_id') ?? '';
    if (client === undefined || clientId !== options.clientId) return { page: `Unknown client ${clientId}.` };
    // RFC 6749 4.1.2.1: with a wrong redirect URI, the provider must not redirect at all.
    if (params.get('redirect_uri') !== client.redirectUri) return { page: 'The redirect URI is not the one registered for this client.' };
    if (params.get('response_type') !== 'code') return { client, error: { code: 'unsupported_response_type', description: 'only the authorization code flow is offered' } };
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(params.get('code_challenge') ?? '')) {
      return { client, error: { code: 'invalid_request', description: 'PKCE with S256 is required' } };
    }
    if (!(params.get('scope') ?? '').split(' ').includes('openid')) return { client, error: { code: 'invalid_scope', description: 'the openid scope is required' } };
    return { client };
  };

  const authorizePage = (res: ServerResponse, params: URLSearchParams): void => {
    const checked = checkRequest(params);
    if ('page' in checked) return html(res, 400, `<h1>Sign-in request refused</h1><p>${escapeHtml(checked.page)}</p>`);
    if (checked.error !== undefined) return redirectWithError(res, checked.client, params, checked.error);
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'code_challenge', 'code_challenge_method', 'state', 'nonce']
      .filter((name) => params.has(name))
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? '')}">`)
      .join('');
    html(
      res,
      200,
      `<h1>Test identity provider</h1>
<form method="post" action="/authorize">${hidden}
<label for="user">User name</label> <input id="user" name="user" autocomplete="username" required>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>`,
    );
  };

  const approve = (res: ServerResponse, params: URLSearchParams): void => {
    const checked = checkRequest(params);
    if ('page' in checked) return html(res, 400, `<h1>Sign-in request refused</h1><p>${escapeHtml(checked.page)}</p>`);
    if (checked.error !== undefined) return redirectWithError(res, checked.client, params, checked.error);
    if (params.get('decision') !== 'approve') return redirectWithError(res, checked.client, params, { code: 'access_denied', description: 'The user declined to sign in.' });
    const user = params.get('user') ?? '';
    if (!Object.hasOwn(options.users, user)) return redirectWithError(res, checked.client, params, { code: 'access_denied', description: `No account named ${user}.` });
    const code = randomBytes(32).toString('base64url');
    codes.set(code, {
      redirectUri: checked.client.redirectUri,
      codeChallenge: params.get('code_challenge')!,
      nonce: params.get('nonce') ?? undefined,
      user,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
    });
    const target = new URL(checked.client.redirectUri);
    target.searchParams.set('code', code);
    if (params.has('state')) target.searchParams.set('state', params.get('state')!);
    // A session cookie like real providers set: HttpOnly, so only a credentialed request could carry it.
    res.writeHead(303, { Location: target.href, 'Set-Cookie': `idp_session=${randomBytes(16).toString('hex')}; Path=/; HttpOnly; SameSite=Lax`, 'Cache-Control': 'no-store' });
    res.end();
  };

  const redirectWithError = (res: ServerResponse, to: Client, params: URLSearchParams, error: { code: string; description: string }): void => {
    const target = new URL(to.redirectUri);
    target.searchParams.set('error', error.code);
    target.searchParams.set('error_description', error.description);
    if (params.has('state')) target.searchParams.set('state', params.get('state')!);
    res.writeHead(303, { Location: target.href, 'Cache-Control': 'no-store' });
    res.end();
  };

  /** CORS for registered clients' origins only (a browser reads the answer only with these). */
  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && origin === client?.origin;
    return allowed ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : { Vary: 'Origin' };
  };

  const preflight = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(204, { ...cors(req), 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type, Accept', 'Access-Control-Max-Age': '600' });
    res.end();
  };

  const token = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const params = new URLSearchParams(await body(req));
    const answer = (status: number, value: unknown): void => {
      tokenRequests.push({
        origin: req.headers.origin,
        contentType: req.headers['content-type'],
        cookie: req.headers.cookie !== undefined,
        authorization: req.headers.authorization !== undefined,
        code: params.get('code') ?? '',
        codeVerifier: params.get('code_verifier') ?? '',
        status,
      });
      // RFC 6749 5.1: token responses are never cached.
      json(res, status, value, { ...cors(req), 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    };
    const refuse = (error: string, description: string): void => answer(400, { error, error_description: description });
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return refuse('invalid_request', 'the body must be form-encoded');
    if (params.get('grant_type') !== 'authorization_code') return refuse('unsupported_grant_type', 'only authorization_code is supported');
    const code = params.get('code') ?? '';
    const issued = codes.get(code);
    // Single use: a code is spent by its first redemption, successful or not.
    codes.delete(code);
    if (issued === undefined) return refuse('invalid_grant', 'the code is unknown or was already used');
    if (Date.now() > issued.expiresAt) return refuse('invalid_grant', 'the code has expired');
    if (params.get('client_id') !== options.clientId) return refuse('invalid_grant', 'the code was issued to another client');
    if (params.get('redirect_uri') !== issued.redirectUri) return refuse('invalid_grant', 'the redirect URI differs from the authorization request');
    const verifier = params.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse('invalid_grant', 'the code verifier is missing or malformed');
    if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== issued.codeChallenge) return refuse('invalid_grant', 'the code verifier does not match the code challenge');
    const user = options.users[issued.user]!;
    // iss: this server; aud: the client_id (OpenID Connect Core 2), as the provider's defaults.
    const idToken = provider!.token({
      sub: issued.user,
      preferred_username: issued.user,
      groups: [...(user.groups ?? [])],
      ...(issued.nonce === undefined ? {} : { nonce: issued.nonce }),
      azp: options.clientId,
      exp: Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS,
      ...user.claims,
    });
    answer(200, { id_token: idToken, access_token: randomBytes(32).toString('base64url'), token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = new TestIdentityProvider(issuer, options.clientId, options.algorithms ?? ['ES256']);

  return {
    issuer,
    authorizationEndpoint: `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    clientId: options.clientId,
    provider,
    tokenRequests,
    registerRedirectUri: (redirectUri) => {
      client = { redirectUri, origin: new URL(redirectUri).origin };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function discovery(issuer: string, provider: TestIdentityProvider): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(provider.jwks().keys.map((k) => k['alg']))],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['openid', 'profile'],
    claims_supported: ['sub', 'preferred_username', 'groups', 'nonce'],
  };
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function html(res: ServerResponse, status: number, content: string): void {
  const text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head><body><main>${content}</main></body></html>`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
