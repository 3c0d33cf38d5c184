export { validateUser, type UserRepository } from './user-store.ts';
export { LocalTokenIssuer, LOCAL_ISSUER, LOCAL_AUDIENCE } from './local-token-issuer.ts';
export { Authenticator, mergeIdentity, type Authentication, type AuthenticationMethod } from './authenticator.ts';
export { ApiTokenStore, API_TOKEN_PREFIX, SCRAM_ITERATIONS, scramSalt, type ApiTokenInfo, type ApiTokenRepository, type ApiTokenRow, type ScramVerifier } from './api-token-store.ts';
export { OidcProvider, parseOidcProviders, type OidcProviderConfig, type ClaimedIdentity } from './oidc-provider.ts';
export { parseJwks, OIDC_ALGORITHMS, type OidcAlgorithm } from './jwks.ts';
export { principalOf } from './user-types.ts';
export type { Principal, UserRecord, AttributeValue } from './user-types.ts';
export { parseUserDocument } from './user-documents.ts';
