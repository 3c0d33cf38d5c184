/**
 * Browser sign-in through an OpenID Connect provider: the authorization code flow for a public
 * client with PKCE (RFC 7636, S256), as OAuth 2.0 for Browser-Based Apps recommends. The UI has
 * no client secret; what proves that the code is ours is the code_verifier, which never leaves
 * this tab except in the POST to the token endpoint. `state` ties the answer to the sign-in this
 * tab started (no forged callbacks), `nonce` ties the ID token to it (no replayed tokens).
 *
 * The round trip's secrets live in sessionStorage (this tab, this origin) from the redirect until
 * the callback, which removes them before doing anything else. The ID token is then kept like any
 * other token (api.ts `session`): never in a URL, never in a cookie. Veil verifies its signature,
 * issuer, audience and expiry; the UI only reads the nonce.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */

/** A provider as /v1/sign-in/options describes it when browser sign-in is configured. */
export interface BrowserSignInProvider {
  readonly name: string;
  readonly issuer: string;
  readonly client_id: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly scope: string;
}

/** The SPA route the provider redirects back to (served index.html like every deep link). */
export const CALLBACK_PATH = '/sign-in/callback';

const PENDING_KEY = 'veil.oidc.pending';
/** A sign-in left unfinished for longer than this is stale: start again rather than trust it. */
const MAX_ROUND_TRIP_MS = 15 * 60 * 1000;

interface PendingSignIn {
  readonly provider: string;
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  readonly startedAt: number;
}

/** A sign-in that did not complete, with a sentence for the person. */
export class SignInError extends Error {}

export function hasBrowserSignIn(provider: { readonly client_id?: string }): provider is BrowserSignInProvider {
  return typeof provider.client_id === 'string';
}

/** Sends this tab to the provider's login page; the provider sends it back to CALLBACK_PATH. */
export async function startSignIn(provider: BrowserSignInProvider, returnTo: string): Promise<void> {
  // Web Crypto exists only in secure contexts: https, or loopback during development.
  if (!window.isSecureContext || crypto.subtle === undefined) {
    throw new SignInError(`Signing in with ${provider.name} needs this page to be served over https.`);
  }
  const codeVerifier = randomText(32);
  const pending: PendingSignIn = {
    provider: provider.name,
    tokenEndpoint: provider.token_endpoint,
    clientId: provider.client_id,
    redirectUri: `${window.location.origin}${CALLBACK_PATH}`,
    state: randomText(32),
    nonce: randomText(32),
    codeVerifier,
    returnTo: safeReturnTo(returnTo),
    startedAt: Date.now(),
  };
  const url = new URL(provider.authorization_endpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: pending.clientId,
    redirect_uri: pending.redirectUri,
    scope: provider.scope,
    code_challenge: await s256(codeVerifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(url.href);
}

/**
 * Completes the round trip from the callback's query string: checks the answer, exchanges the
 * code and checks the ID token's nonce. Returns the ID token and where to go next, or throws a
 * SignInError that says what went wrong. Only the first call for a given callback does the work
 * (React may run an effect twice); later calls share its outcome.
 */
export function completeSignIn(search: string): Promise<{ token: string; returnTo: string }> {
  if (completion?.search !== search) completion = { search, result: exchange(new URLSearchParams(search)) };
  return completion.result;
}

let completion: { search: string; result: Promise<{ token: string; returnTo: string }> } | undefined;

async function exchange(answer: URLSearchParams): Promise<{ token: string; returnTo: string }> {
  // The round trip is over whatever happens next: its secrets go first, so no later failure
  // leaves a verifier behind, and the same code can never be redeemed twice from this tab.
  const pending = takePending();
  const error = answer.get('error');
  if (error !== null) {
    throw new SignInError(providerRefusal(pending?.provider ?? 'The identity provider', error, answer.get('error_description')));
  }
  if (pending === undefined) {
    throw new SignInError('No sign-in was started in this tab, or it was already completed, so this answer from an identity provider was ignored. Please sign in again.');
  }
  if (answer.get('state') !== pending.state) {
    throw new SignInError(
      `The answer from ${pending.provider} does not belong to the sign-in started in this tab (its state does not match), so it was ignored. This can happen when a link from elsewhere tries to sign you in. Please sign in again.`,
    );
  }
  if (Date.now() - pending.startedAt > MAX_ROUND_TRIP_MS) throw new SignInError('The sign-in took too long to complete. Please sign in again.');
  const code = answer.get('code');
  if (code === null || code === '') throw new SignInError(`${pending.provider} sent no authorization code back. Please sign in again.`);
  const idToken = await redeem(pending, code);
  if (claimsOf(idToken)?.['nonce'] !== pending.nonce) {
    throw new SignInError(`The ID token from ${pending.provider} was not issued for this sign-in (its nonce does not match), so it was not used. Please sign in again.`);
  }
  return { token: idToken, returnTo: pending.returnTo };
}

/** The token request: form-encoded, no cookies or other credentials (a public client), no cache. */
async function redeem(pending: PendingSignIn, code: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri,
    client_id: pending.clientId,
    code_verifier: pending.codeVerifier,
  });
  let response: Response;
  try {
    response = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form,
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new SignInError(
      `${pending.provider} could not be reached to complete the sign-in (${new URL(pending.tokenEndpoint).origin}). If this persists, the provider may not allow requests from this Veil site (CORS).`,
    );
  }
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (!response.ok) {
    const reason = typeof body?.['error_description'] === 'string' ? body['error_description'] : typeof body?.['error'] === 'string' ? body['error'] : `HTTP ${response.status}`;
    throw new SignInError(`${pending.provider} refused to complete the sign-in: ${clip(reason)}. Please sign in again.`);
  }
  const idToken = body?.['id_token'];
  if (typeof idToken !== 'string' || idToken === '') {
    throw new SignInError(`${pending.provider} answered without an ID token; its configuration in Veil must ask for the openid scope.`);
  }
  return idToken;
}

function takePending(): PendingSignIn | undefined {
  const text = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as PendingSignIn;
  } catch {
    return undefined;
  }
}

/** The provider's error codes (RFC 6749 4.1.2.1, OpenID Connect Core 3.1.2.6) in words. */
function providerRefusal(provider: string, error: string, description: string | null): string {
  const reasons: Record<string, string> = {
    access_denied: 'the sign-in was declined',
    login_required: 'you need to sign in at the provider first',
    consent_required: 'your consent is needed at the provider',
    interaction_required: 'the provider needs you to do something on its page first',
    invalid_request: 'the provider found the sign-in request malformed',
    unauthorized_client: 'Veil is not allowed to use this sign-in method at the provider',
    invalid_scope: 'the provider does not offer the requested scopes',
    server_error: 'the provider had an internal error',
    temporarily_unavailable: 'the provider is temporarily unavailable',
  };
  const reason = reasons[error] ?? `it answered "${clip(error)}"`;
  return `${provider} did not sign you in: ${reason}${description === null || description === '' ? '' : ` (${clip(description)})`}.`;
}

/** The payload of a compact JWT, unverified: only to compare the nonce (Veil checks the rest). */
function claimsOf(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const value: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Only paths of this app: never another origin (`//evil`), never the callback itself. */
function safeReturnTo(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\') || path.startsWith(CALLBACK_PATH)) return '/search';
  return path === '/' ? '/search' : path;
}

/** `bytes` random bytes from the platform's CSPRNG, base64url-encoded (32 bytes: 43 characters). */
function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** code_challenge = BASE64URL(SHA-256(ASCII(code_verifier))), RFC 7636 4.2. */
async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
