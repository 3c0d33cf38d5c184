import path from 'node:path';
import type { AuditCompletion } from '../audit/index.ts';
import type { ErrorCode } from '../errors/index.ts';
import { principalOf, type Authentication, type ScramVerifier } from '../identity/index.ts';
import { AccessDeniedError, InvalidTokenError } from '../errors/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import { AdminOperations } from './admin-operations.ts';
import { Authorization } from './authorization.ts';
import { CacheOperations } from './cache-operations.ts';
import { CatalogOperations } from './catalog-operations.ts';
import { DataOperations } from './data-operations.ts';
import { GovernanceOperations } from './governance-operations.ts';
import { TrinoOperations } from './trino-operations.ts';
import { decisionFor, errorCodeOf, RequestScope, type DoorContext } from './request-scope.ts';

/** What doors may know of the deployment's settings: limits and addresses, nothing secret. */
export interface DoorSettings {
  readonly maxResultRows: number;
  readonly maxResultBytes: number;
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly maxConnectionsPerClient: number;
  readonly statementTimeoutMs: number;
  readonly publicUrl: string;
  readonly spoolDirectory: string;
  readonly homeDirectory: string;
  readonly pg: {
    readonly port: number;
    readonly host: string;
    /** Absolute paths, or empty when TLS is not configured. */
    readonly tlsCert: string;
    readonly tlsKey: string;
    readonly allowPlaintext: boolean;
    /** auto: password (token) over TLS or loopback, SCRAM elsewhere; scram-sha-256: SCRAM always. */
    readonly auth: 'auto' | 'scram-sha-256';
    readonly maxConnections: number;
    readonly idleTimeoutMs: number;
  };
  /** Trino's OPA listener: port 0 is off; TLS files are absolute paths, or empty. */
  readonly trino: { readonly port: number; readonly host: string; readonly tlsCert: string; readonly tlsKey: string; readonly tlsClientCa: string };
}

/**
 * The one door-neutral gateway: every door (HTTP, PostgreSQL wire, CLI, web UI) authenticates,
 * opens a request scope, calls operations and finishes the scope here. The gateway owns the audit
 * bracket, error-to-decision mapping and administrative authorization, so no door can skip or
 * redo them; doors translate their protocol and never see the control store or the engine.
 */
export class VeilGateway {
  readonly data: DataOperations;
  readonly catalog: CatalogOperations;
  readonly admin: AdminOperations;
  readonly governance: GovernanceOperations;
  readonly cache: CacheOperations;
  readonly trino: TrinoOperations;
  readonly authorization: Authorization;
  readonly settings: DoorSettings;

  constructor(private readonly runtime: VeilRuntime) {
    this.authorization = new Authorization(runtime.settings.adminGroups);
    this.data = new DataOperations(runtime);
    this.catalog = new CatalogOperations(runtime, this.authorization);
    this.admin = new AdminOperations(runtime, this.authorization);
    this.governance = new GovernanceOperations(runtime, this.authorization, this.data);
    this.cache = new CacheOperations(runtime, this.authorization);
    const s = runtime.settings;
    const homePath = (file: string): string => (file === '' ? '' : path.resolve(runtime.home.root, file));
    this.trino = new TrinoOperations(runtime, { catalog: s.trinoCatalog.toLowerCase(), trustGroups: s.trinoTrustGroups });
    this.settings = {
      maxResultRows: s.maxResultRows,
      maxResultBytes: s.maxResultBytes,
      requestTimeoutMs: s.requestTimeoutMs,
      requestHeadersTimeoutMs: s.requestHeadersTimeoutMs,
      maxConnectionsPerClient: s.maxConnectionsPerClient,
      statementTimeoutMs: s.statementTimeoutMs,
      publicUrl: s.publicUrl,
      spoolDirectory: runtime.home.spoolDirectory,
      homeDirectory: runtime.home.root,
      pg: {
        port: s.pgPort,
        host: s.pgHost,
        tlsCert: homePath(s.pgTlsCert),
        tlsKey: homePath(s.pgTlsKey),
        allowPlaintext: s.pgAllowPlaintext,
        auth: s.pgAuth === 'scram-sha-256' ? 'scram-sha-256' : 'auto',
        maxConnections: s.pgMaxConnections,
        idleTimeoutMs: s.pgIdleTimeoutMs,
      },
      trino: {
        port: s.trinoPort,
        host: s.trinoHost,
        tlsCert: homePath(s.trinoTlsCert),
        tlsKey: homePath(s.trinoTlsKey),
        tlsClientCa: homePath(s.trinoTlsClientCa),
      },
    };
  }

  /** A new request through a door; nobody is authenticated yet. */
  open(context: DoorContext): RequestScope {
    return new RequestScope(context);
  }

  /** Checks a raw credential (token, API token, OIDC JWT) and makes its holder the scope's principal. */
  async authenticate(scope: RequestScope, credential: string | undefined): Promise<Authentication> {
    const authentication = await this.runtime.authenticator.authenticateCredential((credential ?? '').trim());
    this.adopt(scope, authentication);
    return authentication;
  }

  /** Same, from an HTTP Authorization header ("Bearer <token>"). */
  async authenticateHeader(scope: RequestScope, header: string | undefined): Promise<Authentication> {
    const authentication = await this.runtime.authenticator.authenticateRequest(header);
    this.adopt(scope, authentication);
    return authentication;
  }

  /** Checks a credential without a request (a connection's startup): who it makes its holder. */
  verifyCredential(credential: string): Promise<Authentication> {
    return this.runtime.authenticator.authenticateCredential(credential.trim());
  }

  /** SCRAM-SHA-256 verifiers of a user's API tokens, for a door that checks proofs and never sees secrets. */
  scramVerifiers(user: string): Promise<ScramVerifier[]> {
    return this.runtime.apiTokens.scramVerifiers(user);
  }

  /** The holder of an API token whose SCRAM proof a door verified: that token's stored user. */
  async acceptScramProof(user: string, tokenId: string): Promise<Authentication> {
    const stored = await this.runtime.users.find(user);
    // A token of a user removed since is no longer valid, as for a presented secret.
    if (stored === undefined) throw new InvalidTokenError('unknown user');
    // Checked again on every statement of a session: revoked or expired tokens stop at once.
    if (!(await this.runtime.apiTokens.scramVerifiers(user)).some((v) => v.tokenId === tokenId)) throw new InvalidTokenError('API token revoked or expired');
    await this.runtime.apiTokens.markUsed(tokenId);
    return { principal: principalOf(stored), method: 'api_token', via: tokenId };
  }

  /** The principal of a stored user, for the local operator acting as them (`veil query --user`). */
  async actAs(scope: RequestScope, user: string): Promise<void> {
    this.adopt(scope, { principal: principalOf(await this.runtime.users.get(user)), method: 'local', via: 'operator' });
  }

  /** A request by the local operator of the home (the CLI): administration without an admin group. */
  operator(context: DoorContext, user: string): RequestScope {
    const scope = new RequestScope(context);
    scope.operator = true;
    scope.principal = { user, groups: [], attributes: {} };
    return scope;
  }

  adopt(scope: RequestScope, authentication: Authentication): void {
    scope.principal = authentication.principal;
    scope.authentication = { method: authentication.method, via: authentication.via };
  }

  /**
   * Ends a request: exactly one audit record, completed with the decision its outcome maps to.
   * Returns the error's stable code for the door to translate (undefined on success).
   */
  async finish(scope: RequestScope, error?: unknown): Promise<ErrorCode | undefined> {
    const code = error === undefined ? undefined : errorCodeOf(error);
    if (scope.finished) return code;
    scope.finished = true;
    const completion: AuditCompletion = {
      decision: code === undefined ? 'allowed' : decisionFor(code),
      rows_returned: scope.rows ?? null,
      bytes_returned: scope.bytes ?? null,
      duration_ms: Math.round((performance.now() - scope.startedClock) * 1000) / 1000,
      error_code: code ?? null,
    };
    if (scope.auditSeq !== undefined) await this.runtime.audit.finish(scope.auditSeq, completion);
    else await this.runtime.audit.record({ ...scope.auditStart(), ...completion });
    return code;
  }

  /** Runs one operation in a scope and finishes it: the bracket for doors that answer in one piece. */
  async run<T>(scope: RequestScope, operation: (scope: RequestScope) => Promise<T> | T): Promise<T> {
    try {
      const result = await operation(scope);
      await this.finish(scope);
      return result;
    } catch (error) {
      await this.finish(scope, error);
      throw error;
    }
  }

  /** Users one may sign in as without credentials: only while serving the demo (`veil serve --demo`). */
  private demoUsers: readonly string[] = [];

  /** Turns on demo sign-in for these stored users (the demo's own; never in a real deployment). */
  enableDemoSignIn(users: readonly string[]): void {
    this.demoUsers = [...users];
  }

  /**
   * How a client may sign in here: public facts a sign-in screen shows (no secrets). Providers
   * with browser sign-in add what the web UI needs to run the authorization code flow with PKCE
   * as a public client: there is no client secret, so none can leak here.
   */
  signInOptions(): {
    demo_users: readonly string[];
    identity_providers: readonly {
      name: string;
      issuer: string;
      client_id?: string;
      authorization_endpoint?: string;
      token_endpoint?: string;
      scope?: string;
    }[];
  } {
    return {
      demo_users: this.demoUsers,
      identity_providers: this.runtime.identityProviders.map(({ config: { name, issuer, browserSignIn: b } }) => ({
        name,
        issuer,
        ...(b === undefined ? {} : { client_id: b.clientId, authorization_endpoint: b.authorizationEndpoint, token_endpoint: b.tokenEndpoint, scope: b.scope }),
      })),
    };
  }

  /**
   * A short-lived Veil token for a demo user, for the demo's sign-in picker. Refused unless the
   * demo is being served and the user is one of its users; recorded like any sign-in.
   */
  async demoSignIn(scope: RequestScope, user: string): Promise<{ token: string; user: string; expires_in: number }> {
    scope.describe('auth', `demo sign-in as ${user}`);
    if (!this.demoUsers.includes(user)) throw new AccessDeniedError('demo sign-in is available only for the demo users while the demo is served');
    this.adopt(scope, { principal: principalOf(await this.runtime.users.get(user)), method: 'local', via: 'demo' });
    const ttl = 3600;
    return { token: this.runtime.issuer.issue(user, ttl), user, expires_in: ttl };
  }

  /** Whether the principal administers this deployment (for a door's "am I admin" display). */
  isAdmin(scope: RequestScope): boolean {
    return scope.principal !== undefined && this.authorization.isAdmin(scope.principal);
  }

  /** Starts background work a long-running server wants (the audit mirror catching up, columnar copies checked). */
  warm(): void {
    this.runtime.audit.warmMirror();
    this.runtime.cache.warm().catch((error: unknown) => console.error('[veil] columnar cache warm-up failed:', error));
  }
}

export function createGateway(runtime: VeilRuntime): VeilGateway {
  return new VeilGateway(runtime);
}
