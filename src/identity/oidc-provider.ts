import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidRequestError, InvalidTokenError } from '../errors/index.ts';
import { mergeKeys, parseJwks, UnknownSigningKeyError, verifySignature, type VerificationKey } from './jwks.ts';
import { checkAudience, checkTimes, type DecodedJwt } from './jwt.ts';
import { LOCAL_ISSUER } from './local-token-issuer.ts';
import { ATTRIBUTE_NAME_PATTERN, GROUP_NAME_PATTERN, USER_NAME_PATTERN } from './user-types.ts';

/**
 * An external OpenID Connect identity provider Veil trusts (a notebook platform, Okta, Keycloak,
 * Entra ID). Configured in the home's config.yaml under `oidc_providers`; see docs/identity.md.
 */
export interface OidcProviderConfig {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** JWKS file (re-read when it changes, so keys rotate without a restart). */
  readonly jwksFile?: string;
  /** JWKS inline in the configuration. */
  readonly jwks?: unknown;
  /** Optional JWKS URL, fetched in the background; verification never waits for the network. */
  readonly jwksUrl?: string;
  readonly jwksRefreshSeconds: number;
  /** Claims tried in order for the user name. */
  readonly userClaims: readonly string[];
  /** Claim (dotted path for nested claims) holding the user's groups. */
  readonly groupsClaim: string;
  /** Veil attribute name → claim (dotted path). */
  readonly attributeClaims: Readonly<Record<string, string>>;
  /** When true, only users stored in Veil may sign in through this provider. */
  readonly requireKnownUser: boolean;
  /**
   * Whether the token's groups may make its holder a Veil administrator (membership in
   * admin_groups). Off by default: a directory group that happens to be called "admins" should
   * not grant control over policies; administrators are then set in Veil's own user records.
   */
  readonly adminGroupsFromToken: boolean;
  readonly clockSkewSeconds: number;
  /** Sign-in from the web UI through this provider (authorization code with PKCE), when configured. */
  readonly browserSignIn?: BrowserSignInConfig;
}

/**
 * How the web UI signs people in through the provider: the authorization code flow for a public
 * client with PKCE (RFC 7636, S256), run entirely in the browser. Nothing here is secret: a
 * public client has no client secret, and these values are served to anyone who opens the
 * sign-in page. The redirect URI is always `<Veil's origin>/sign-in/callback`.
 */
export interface BrowserSignInConfig {
  readonly clientId: string;
  readonly authorizationEndpoint: string;
  /** The browser POSTs the code here; its origin is added to the UI's CSP connect-src. */
  readonly tokenEndpoint: string;
  /** Space-separated scopes; always contains `openid` (no ID token otherwise). */
  readonly scope: string;
}

/** What a verified token says about its holder, before it is merged with the stored user. */
export interface ClaimedIdentity {
  readonly user: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

const CONFIG_KEYS = new Set([
  'name', 'issuer', 'audience', 'jwks_file', 'jwks', 'jwks_url', 'jwks_refresh_seconds', 'user_claim', 'groups_claim', 'attribute_claims', 'require_known_user', 'admin_groups_from_token', 'clock_skew_seconds', 'browser_sign_in',
]);
const BROWSER_SIGN_IN_KEYS = new Set(['client_id', 'authorization_endpoint', 'token_endpoint', 'scope']);
const DEFAULT_SCOPE = 'openid profile';
/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces. */
const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;
/** RFC 6749 A.1: client_id = *VSCHAR (printable ASCII). */
const CLIENT_ID_PATTERN = /^[\x20-\x7E]+$/;
const MAX_CLOCK_SKEW_SECONDS = 300;
const FILE_CHECK_INTERVAL_MS = 2000;
const MIN_REFETCH_INTERVAL_MS = 30_000;
const FETCH_TIMEOUT_MS = 10_000;

/** Validates the `oidc_providers` setting. Relative JWKS files are resolved against the home. */
export function parseOidcProviders(raw: unknown, homeRoot: string, source: string): OidcProviderConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new InvalidRequestError(`${source}: oidc_providers must be a list`);
  const configs = raw.map((entry, index) => parseProvider(entry, homeRoot, `${source}: oidc_providers[${index}]`));
  const issuers = new Set<string>();
  const names = new Set<string>();
  for (const config of configs) {
    if (issuers.has(config.issuer)) throw new InvalidRequestError(`${source}: two OIDC providers have the issuer ${config.issuer}`);
    if (names.has(config.name)) throw new InvalidRequestError(`${source}: two OIDC providers are named ${config.name}`);
    issuers.add(config.issuer);
    names.add(config.name);
  }
  return configs;
}

function parseProvider(entry: unknown, homeRoot: string, where: string): OidcProviderConfig {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InvalidRequestError(`${where} must be a mapping`);
  const value = entry as Record<string, unknown>;
  for (const key of Object.keys(value)) if (!CONFIG_KEYS.has(key)) throw new InvalidRequestError(`${where}: unknown key "${key}"`);
  const text = (key: string, required: boolean): string | undefined => {
    const v = value[key];
    if (v === undefined || v === null) {
      if (required) throw new InvalidRequestError(`${where}: "${key}" is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidRequestError(`${where}: "${key}" must be a non-empty string`);
    return v;
  };
  const integer = (key: string, fallback: number, max: number): number => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new InvalidRequestError(`${where}: "${key}" must be a whole number from 0 to ${max}`);
    return v;
  };
  const issuer = text('issuer', true)!;
  if (issuer === LOCAL_ISSUER) throw new InvalidRequestError(`${where}: the issuer ${LOCAL_ISSUER} is reserved for Veil's own tokens`);
  const audience = value['audience'];
  const audiences = typeof audience === 'string' ? [audience] : Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a !== '') ? (audience as string[]) : undefined;
  if (audiences === undefined) throw new InvalidRequestError(`${where}: "audience" is required (a string or a list): tokens minted for other services must not work here`);
  const jwksFile = text('jwks_file', false);
  const jwksUrl = text('jwks_url', false);
  if (jwksUrl !== undefined && !secureKeyUrl(jwksUrl)) {
    throw new InvalidRequestError(`${where}: jwks_url must be an https URL (plain http only on loopback): keys fetched in clear could be replaced on the way`);
  }
  if (jwksFile === undefined && value['jwks'] === undefined && jwksUrl === undefined) throw new InvalidRequestError(`${where}: give the provider's keys as jwks_file, jwks (inline) or jwks_url`);
  if (value['jwks'] !== undefined) parseJwks(value['jwks'], `${where}.jwks`);
  const userClaim = value['user_claim'];
  const userClaims = userClaim === undefined ? ['preferred_username', 'sub'] : typeof userClaim === 'string' ? [userClaim] : Array.isArray(userClaim) && userClaim.length > 0 && userClaim.every((c) => typeof c === 'string') ? (userClaim) : undefined;
  if (userClaims === undefined) throw new InvalidRequestError(`${where}: "user_claim" must be a claim name or a list of claim names`);
  const attributeClaims = value['attribute_claims'] ?? {};
  if (typeof attributeClaims !== 'object' || attributeClaims === null || Array.isArray(attributeClaims)) throw new InvalidRequestError(`${where}: "attribute_claims" must map attribute names to claims`);
  for (const [attribute, claim] of Object.entries(attributeClaims)) {
    if (!ATTRIBUTE_NAME_PATTERN.test(attribute)) throw new InvalidRequestError(`${where}: attribute name "${attribute}" must match ${ATTRIBUTE_NAME_PATTERN}`);
    if (typeof claim !== 'string' || claim === '') throw new InvalidRequestError(`${where}: attribute ${attribute} must name a claim`);
  }
  const flag = (key: string): boolean => {
    const v = value[key] ?? false;
    if (typeof v !== 'boolean') throw new InvalidRequestError(`${where}: "${key}" must be true or false`);
    return v;
  };
  const browserSignIn = value['browser_sign_in'] === undefined || value['browser_sign_in'] === null ? undefined : parseBrowserSignIn(value['browser_sign_in'], audiences, `${where}.browser_sign_in`);
  return {
    name: text('name', false) ?? issuer,
    issuer,
    audiences,
    ...(jwksFile === undefined ? {} : { jwksFile: path.resolve(homeRoot, jwksFile) }),
    ...(value['jwks'] === undefined ? {} : { jwks: value['jwks'] }),
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    jwksRefreshSeconds: integer('jwks_refresh_seconds', 3600, 7 * 24 * 3600) || 3600,
    userClaims,
    groupsClaim: text('groups_claim', false) ?? 'groups',
    attributeClaims: attributeClaims as Record<string, string>,
    requireKnownUser: flag('require_known_user'),
    adminGroupsFromToken: flag('admin_groups_from_token'),
    clockSkewSeconds: integer('clock_skew_seconds', 60, MAX_CLOCK_SKEW_SECONDS),
    ...(browserSignIn === undefined ? {} : { browserSignIn }),
  };
}

function parseBrowserSignIn(raw: unknown, audiences: readonly string[], where: string): BrowserSignInConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidRequestError(`${where} must be a mapping (client_id, authorization_endpoint, token_endpoint, scope)`);
  const value = raw as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (key === 'client_secret') throw new InvalidRequestError(`${where}: "client_secret" is not accepted: the web UI is a public client (PKCE), and anything configured here is served to every browser`);
    if (!BROWSER_SIGN_IN_KEYS.has(key)) throw new InvalidRequestError(`${where}: unknown key "${key}"`);
  }
  const text = (key: string): string => {
    const v = value[key];
    if (v === undefined || v === null) throw new InvalidRequestError(`${where}: "${key}" is required`);
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidRequestError(`${where}: "${key}" must be a non-empty string`);
    return v;
  };
  const clientId = text('client_id');
  if (!CLIENT_ID_PATTERN.test(clientId)) throw new InvalidRequestError(`${where}: "client_id" must be printable ASCII`);
  // The ID token the browser brings back is minted for the client: its aud is the client_id.
  if (!audiences.includes(clientId)) {
    throw new InvalidRequestError(`${where}: the provider's "audience" must include the client_id "${clientId}": the ID tokens of browser sign-in are issued to that client, and Veil refuses tokens for other audiences`);
  }
  const scope = value['scope'] === undefined ? DEFAULT_SCOPE : text('scope');
  if (!SCOPE_PATTERN.test(scope)) throw new InvalidRequestError(`${where}: "scope" must be scope names separated by single spaces`);
  if (!scope.split(' ').includes('openid')) throw new InvalidRequestError(`${where}: "scope" must include openid: without it the provider returns no ID token`);
  return {
    clientId,
    authorizationEndpoint: endpointUrl(text('authorization_endpoint'), 'authorization_endpoint', where),
    tokenEndpoint: endpointUrl(text('token_endpoint'), 'token_endpoint', where),
    scope,
  };
}

/**
 * An endpoint the browser is sent to (authorization) or posts the code to (token). Over plain
 * http the code, and the token that comes back, could be read on the way, so https is required
 * except on loopback (a provider on the same machine). The host must be a plain name or address:
 * the token endpoint's origin goes into the Content-Security-Policy header, where a `;` would
 * start a directive of its own.
 */
function endpointUrl(text: string, key: string, where: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidRequestError(`${where}: "${key}" must be an absolute https URL, not ${JSON.stringify(text)}`);
  }
  if (!secureKeyUrl(text)) throw new InvalidRequestError(`${where}: "${key}" must be an https URL (plain http only on loopback): sign-in codes and tokens sent in clear could be read on the way`);
  if (url.username !== '' || url.password !== '') throw new InvalidRequestError(`${where}: "${key}" must not carry a user name or password`);
  if (url.hash !== '') throw new InvalidRequestError(`${where}: "${key}" must not have a #fragment (RFC 6749 3.1)`);
  if (!/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)) throw new InvalidRequestError(`${where}: "${key}" has a host name Veil cannot put in its Content-Security-Policy: ${url.hostname}`);
  return url.href;
}

/**
 * Verifies tokens of one provider and maps their claims. Keys come from three places, merged:
 * inline, a file (checked for changes every few seconds) and a URL (fetched in the background
 * and again, at most every 30 s, when a token names a key nobody has seen: a key rotation).
 */
export class OidcProvider {
  private fileKeys: VerificationKey[] = [];
  private fileStamp = '';
  private fileCheckedAt = 0;
  private urlKeys: VerificationKey[] = [];
  private lastFetchAt = 0;
  private fetching: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inlineKeys: readonly VerificationKey[];

  constructor(
    readonly config: OidcProviderConfig,
    private readonly log: (message: string) => void = (message) => console.error(`[veil] ${message}`),
  ) {
    this.inlineKeys = config.jwks === undefined ? [] : parseJwks(config.jwks, `OIDC provider ${config.name}: jwks`);
    if (config.jwksFile !== undefined) this.reloadFile(true);
  }

  /** Starts background JWKS refreshes (when a URL is configured); resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.config.jwksUrl === undefined) return;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.jwksRefreshSeconds * 1000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Verifies signature, issuer, audience and times; returns the verified claims. */
  verify(token: DecodedJwt, nowMs = Date.now()): Readonly<Record<string, unknown>> {
    const { claims } = token;
    if (claims['iss'] !== this.config.issuer) throw new InvalidTokenError('wrong issuer');
    try {
      verifySignature(token, this.keys(nowMs));
    } catch (error) {
      // A kid nobody knows may be a rotation the URL already publishes: look again, politely.
      if (error instanceof UnknownSigningKeyError && this.config.jwksUrl !== undefined && nowMs - this.lastFetchAt > MIN_REFETCH_INTERVAL_MS) {
        void this.refresh();
      }
      throw error;
    }
    checkAudience(claims, this.config.audiences);
    checkTimes(claims, { nowMs, clockSkewSeconds: this.config.clockSkewSeconds });
    return claims;
  }

  /** The user name, groups and attributes the verified claims give, validated like stored users. */
  identityOf(claims: Readonly<Record<string, unknown>>): ClaimedIdentity {
    let user: string | undefined;
    for (const claim of this.config.userClaims) {
      const value = claimAt(claims, claim);
      if (typeof value === 'string' && value !== '') {
        user = value;
        break;
      }
    }
    if (user === undefined) throw new InvalidTokenError(`the token has no user name (claims tried: ${this.config.userClaims.join(', ')})`);
    if (!USER_NAME_PATTERN.test(user)) throw new InvalidTokenError('the user name in the token is not a valid Veil user name');
    const groups = stringValues(claimAt(claims, this.config.groupsClaim), 'groups');
    for (const group of groups) if (!GROUP_NAME_PATTERN.test(group)) throw new InvalidTokenError('the token carries a group name Veil cannot represent');
    const attributes: Record<string, readonly string[]> = {};
    for (const [attribute, claim] of Object.entries(this.config.attributeClaims)) {
      const values = stringValues(claimAt(claims, claim), attribute);
      if (values.length > 0) attributes[attribute] = values;
    }
    return { user, groups: [...new Set(groups)].sort(), attributes };
  }

  private keys(nowMs: number): readonly VerificationKey[] {
    if (this.config.jwksFile !== undefined && nowMs - this.fileCheckedAt >= FILE_CHECK_INTERVAL_MS) {
      this.fileCheckedAt = nowMs;
      this.reloadFile(false);
    }
    return mergeKeys(this.inlineKeys, this.fileKeys, this.urlKeys);
  }

  /** At startup a broken file is an error; later, the last good keys stay while it is fixed. */
  private reloadFile(strict: boolean): void {
    const file = this.config.jwksFile as string;
    try {
      const stat = statSync(file);
      const stamp = `${stat.mtimeMs}:${stat.size}`;
      if (stamp === this.fileStamp) return;
      this.fileKeys = parseJwks(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
      this.fileStamp = stamp;
    } catch (error) {
      const message = `OIDC provider ${this.config.name}: cannot load ${file}: ${(error as Error).message}`;
      if (strict) throw new InvalidRequestError(message);
      this.log(message);
    }
  }

  private refresh(): Promise<void> {
    this.fetching ??= this.fetchKeys().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchKeys(): Promise<void> {
    this.lastFetchAt = Date.now();
    const url = this.config.jwksUrl as string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.urlKeys = parseJwks(await response.json(), url, (message) => this.log(`OIDC provider ${this.config.name}: ${message}`));
    } catch (error) {
      // Keep the keys we had: an IdP outage must not lock everyone out at once.
      this.log(`OIDC provider ${this.config.name}: JWKS refresh from ${url} failed: ${(error as Error).message}`);
    }
  }
}

function secureKeyUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** A claim by name, or by dotted path into nested objects (Keycloak's realm_access.roles). */
function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function stringValues(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  const scalar = (v: unknown): string => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new InvalidTokenError(`the token's ${what} claim is not a value or a list of values`);
  };
  return Array.isArray(value) ? value.map(scalar) : [scalar(value)];
}
