export { UserStore, validateUser } from './user-store.ts';
export { LocalTokenIssuer, LOCAL_ISSUER, LOCAL_AUDIENCE } from './local-token-issuer.ts';
export { Authenticator } from './authenticator.ts';
export { principalOf } from './user-types.ts';
export type { Principal, UserRecord, AttributeValue } from './user-types.ts';
export { parseUserDocument } from './user-documents.ts';
