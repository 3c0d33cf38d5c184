import { computeInsights, verifyAuditStore, type AuditInsights, type AuditVerification, type InsightsOptions } from '../audit/index.ts';
import { AccessDeniedError, NotFoundError } from '../errors/index.ts';
import { validateUser, type ApiTokenInfo, type UserRecord } from '../identity/index.ts';
import { validatePolicy, policyToAuthored, type PolicyApplyResult, type PolicyDefinition, type StoredPolicy } from '../policy/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import type { Authorization } from './authorization.ts';
import type { RequestScope } from './request-scope.ts';

/** Users, policies, API tokens and insights: administration, authorized here for every door. */
export class AdminOperations {
  constructor(
    private readonly runtime: VeilRuntime,
    private readonly authorization: Authorization,
  ) {}

  whoami(scope: RequestScope): Record<string, unknown> {
    scope.describe('whoami', null);
    const principal = scope.requirePrincipal();
    return {
      user: principal.user,
      groups: principal.groups,
      attributes: principal.attributes,
      authenticated_by: scope.authentication ?? null,
      admin: this.authorization.isAdmin(principal),
    };
  }

  listUsers(scope: RequestScope): Promise<UserRecord[]> {
    scope.describe('admin', 'list users');
    this.authorization.requireAdmin(scope);
    return this.runtime.users.list();
  }

  putUser(scope: RequestScope, name: string, document: Record<string, unknown>): Promise<UserRecord> {
    scope.describe('admin', `put user ${name}`);
    this.authorization.requireAdmin(scope);
    return this.runtime.users.put(validateUser({ ...document, name }));
  }

  async deleteUser(scope: RequestScope, name: string): Promise<void> {
    scope.describe('admin', `delete user ${name}`);
    this.authorization.requireAdmin(scope);
    await this.runtime.users.delete(name);
  }

  listPolicies(scope: RequestScope): Promise<StoredPolicy[]> {
    scope.describe('admin', 'list policies');
    this.authorization.requireAdmin(scope);
    return this.runtime.policies.list();
  }

  /** Applies policies as authored (validated again, whatever door parsed them). */
  applyPolicies(scope: RequestScope, policies: readonly PolicyDefinition[], options: { prune?: boolean; describe?: string } = {}): Promise<PolicyApplyResult> {
    scope.describe('admin', options.describe ?? `apply ${policies.length} policies`);
    this.authorization.requireAdmin(scope);
    return this.runtime.policies.apply(
      policies.map((p) => validatePolicy(policyToAuthored(p))),
      { prune: options.prune === true, changedBy: changedBy(scope) },
    );
  }

  async deletePolicy(scope: RequestScope, name: string): Promise<void> {
    scope.describe('admin', `delete policy ${name}`);
    this.authorization.requireAdmin(scope);
    await this.runtime.policies.delete(name, changedBy(scope));
  }

  /**
   * API tokens for service accounts. Administrators manage everyone's tokens; other users their
   * own. A request authenticated by an API token cannot mint more tokens, so revoking a leaked
   * token is enough to cut the access it gave.
   */
  async createApiToken(scope: RequestScope, request: { user?: string; label: string; expiresInDays?: number }): Promise<{ token: string; info: ApiTokenInfo }> {
    const principal = scope.operator ? undefined : scope.requirePrincipal();
    const user = request.user ?? principal?.user;
    scope.describe('admin', `create API token "${request.label}" for ${user ?? '?'}`);
    if (user === undefined) throw new AccessDeniedError('name the user the token is for');
    if (principal !== undefined) {
      if (scope.authentication?.method === 'api_token') throw new AccessDeniedError('API tokens cannot create API tokens; sign in with your own identity');
      if (user !== principal.user && !this.authorization.isAdmin(principal)) throw new AccessDeniedError('only administrators create API tokens for other users');
    }
    // Tokens belong to users Veil stores (service accounts are stored users with their groups).
    await this.runtime.users.get(user);
    return this.runtime.apiTokens.create({ user, label: request.label, createdBy: principal?.user ?? 'cli', ...(request.expiresInDays === undefined ? {} : { expiresInDays: request.expiresInDays }) });
  }

  async listApiTokens(scope: RequestScope, user: string | undefined): Promise<ApiTokenInfo[]> {
    scope.describe('admin', 'list API tokens');
    if (scope.operator) return this.runtime.apiTokens.list(user);
    const principal = scope.requirePrincipal();
    const admin = this.authorization.isAdmin(principal);
    if (user !== undefined && user !== principal.user && !admin) throw new AccessDeniedError("only administrators list other users' tokens");
    return this.runtime.apiTokens.list(admin ? user : principal.user);
  }

  async revokeApiToken(scope: RequestScope, id: string): Promise<ApiTokenInfo> {
    scope.describe('admin', `revoke API token ${id}`);
    if (!scope.operator) {
      // A token the caller may not manage is answered like one that does not exist.
      const principal = scope.requirePrincipal();
      const info = await this.runtime.apiTokens.find(id);
      if (info === undefined || (info.user !== principal.user && !this.authorization.isAdmin(principal))) throw new NotFoundError(`API token ${id}`);
    }
    return this.runtime.apiTokens.revoke(id);
  }

  /**
   * The audit chain checked end to end, as `veil audit verify` does, for compliance and
   * administrators (the web UI's verification status). A break is a finding, not an error: it is
   * reported in the answer, naming the first altered record.
   */
  async verifyAudit(scope: RequestScope): Promise<AuditVerification & { verified_at: string }> {
    scope.describe('audit', 'verify the audit chain');
    this.authorization.requireInsights(scope);
    // A snapshot: verification reads the whole trail without holding up the writers.
    const verification = await this.runtime.store.audit.snapshot((view) =>
      verifyAuditStore(view, this.runtime.home.loadKeys().auditChain, { anchorKey: this.runtime.home.loadAuditSigningKey() }),
    );
    return { ...verification, verified_at: new Date().toISOString() };
  }

  /** Authorization before validation: callers without access learn nothing about the parameters. */
  async insights(scope: RequestScope, options: () => InsightsOptions): Promise<AuditInsights> {
    scope.describe('audit', 'audit insights');
    this.authorization.requireInsights(scope);
    const parsed = options();
    scope.describe('audit', `audit insights (${parsed.days} days)`);
    return computeInsights(this.runtime, parsed);
  }
}

/** Who a policy change is recorded against: the signed-in user, or the CLI's operator. */
function changedBy(scope: RequestScope): string {
  return scope.principal?.user ?? (scope.operator ? 'cli' : 'unknown');
}
