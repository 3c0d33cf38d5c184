import { InvalidTokenError, UnauthenticatedError } from '../errors/index.ts';
import { API_TOKEN_PREFIX, type ApiTokenStore } from './api-token-store.ts';
import { decodeJwt } from './jwt.ts';
import { LOCAL_ISSUER, type LocalTokenIssuer } from './local-token-issuer.ts';
import type { ClaimedIdentity, OidcProvider } from './oidc-provider.ts';
import type { UserRepository } from './user-store.ts';
import { principalOf, type Principal, type UserRecord } from './user-types.ts';

/** How the caller proved who they are (recorded with the request). */
export type AuthenticationMethod = 'local' | 'oidc' | 'api_token';

export interface Authentication {
  readonly principal: Principal;
  readonly method: AuthenticationMethod;
  /** The identity provider's name for OIDC, the token id for API tokens. */
  readonly via: string | null;
}

/**
 * Turns the Authorization header into a Principal. Only the verified token decides who the caller
 * is: impersonation headers (X-Forwarded-User and the like) are never read.
 *
 * Three kinds of bearer tokens are accepted: API tokens (`veil_pat_…`), Veil's own HS256 tokens
 * (issuer `veil-local`) and tokens of the configured OIDC providers, picked by their `iss` claim.
 * The claimed issuer only selects which keys to verify with; a token whose issuer is not trusted
 * is rejected before any key is tried.
 */
export class Authenticator {
  private readonly providers: ReadonlyMap<string, OidcProvider>;

  constructor(
    private readonly issuer: LocalTokenIssuer,
    private readonly users: UserRepository,
    private readonly apiTokens: ApiTokenStore,
    providers: readonly OidcProvider[] = [],
    /** Groups that make a user an administrator; tokens only grant them where a provider allows. */
    private readonly adminGroups: readonly string[] = [],
  ) {
    this.providers = new Map(providers.map((p) => [p.config.issuer, p]));
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    return (await this.authenticateRequest(authorization)).principal;
  }

  authenticateRequest(authorization: string | undefined, now = Date.now()): Promise<Authentication> {
    if (authorization === undefined || authorization.trim() === '') return Promise.reject(new UnauthenticatedError());
    const match = /^Bearer +([^\s]+)\s*$/i.exec(authorization);
    if (!match?.[1]) return Promise.reject(new UnauthenticatedError('the Authorization header must be "Bearer <token>"'));
    return this.authenticateCredential(match[1], now);
  }

  /**
   * A raw credential, whatever carried it (a bearer header, a PostgreSQL password): an API token,
   * a token Veil issued, or a JWT from a configured OIDC provider, each checked the same way.
   */
  async authenticateCredential(token: string, now = Date.now()): Promise<Authentication> {
    if (token === '') throw new UnauthenticatedError();
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const user = await this.apiTokens.verify(token, new Date(now));
      return { principal: principalOf(await this.storedUser(user)), method: 'api_token', via: token.slice(API_TOKEN_PREFIX.length, API_TOKEN_PREFIX.length + 16) };
    }
    const decoded = decodeJwt(token);
    const claimedIssuer = decoded.claims['iss'];
    if (claimedIssuer === LOCAL_ISSUER) {
      const claims = this.issuer.verifyDecoded(decoded, now);
      return { principal: principalOf(await this.storedUser(claims.sub)), method: 'local', via: null };
    }
    const provider = typeof claimedIssuer === 'string' ? this.providers.get(claimedIssuer) : undefined;
    if (provider === undefined) throw new InvalidTokenError('token issuer is not trusted');
    const verified = provider.identityOf(provider.verify(decoded, now));
    const claimed = provider.config.adminGroupsFromToken ? verified : { ...verified, groups: verified.groups.filter((g) => !this.adminGroups.includes(g)) };
    const stored = await this.users.find(claimed.user);
    if (stored === undefined && provider.config.requireKnownUser) throw new InvalidTokenError('unknown user');
    return { principal: mergeIdentity(claimed, stored), method: 'oidc', via: provider.config.name };
  }

  private async storedUser(name: string): Promise<UserRecord> {
    const user = await this.users.find(name);
    // A token for a user who was removed since is no longer valid.
    if (user === undefined) throw new InvalidTokenError('unknown user');
    return user;
  }
}

/**
 * The identity provider's claims merged with what Veil stores for the same user name: groups are
 * the union; for an attribute both define, Veil's stored value wins (an administrator's explicit
 * decision overrides the directory), and attributes only one side has are kept.
 */
export function mergeIdentity(claimed: ClaimedIdentity, stored: UserRecord | undefined): Principal {
  if (stored === undefined) return { user: claimed.user, groups: claimed.groups, attributes: claimed.attributes };
  const storedPrincipal = principalOf(stored);
  return {
    user: claimed.user,
    groups: [...new Set([...claimed.groups, ...storedPrincipal.groups])].sort(),
    attributes: { ...claimed.attributes, ...storedPrincipal.attributes },
  };
}
