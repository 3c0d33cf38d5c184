import { InvalidTokenError, UnauthenticatedError } from '../errors/index.ts';
import type { LocalTokenIssuer } from './local-token-issuer.ts';
import type { UserStore } from './user-store.ts';
import { principalOf, type Principal } from './user-types.ts';

/**
 * Turns the Authorization header into a Principal. Only the verified token decides who the caller
 * is: impersonation headers (X-Forwarded-User and the like) are never read.
 */
export class Authenticator {
  constructor(
    private readonly issuer: LocalTokenIssuer,
    private readonly users: UserStore,
  ) {}

  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined || authorization.trim() === '') throw new UnauthenticatedError();
    const match = /^Bearer +([^\s]+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
    const claims = this.issuer.verify(match[1]);
    const user = this.users.find(claims.sub);
    // A token for a user who was removed since is no longer valid.
    if (user === undefined) throw new InvalidTokenError('unknown user');
    return principalOf(user);
  }
}
