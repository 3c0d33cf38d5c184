import { randomBytes } from 'node:crypto';
import { verifyScramSha256Password, type ScramSha256AuthOptions } from 'pg-gateway';
import { InvalidTokenError } from '../errors/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import { SCRAM_ITERATIONS, scramSalt, type Authentication, type ScramVerifier } from '../identity/index.ts';

/**
 * SCRAM-SHA-256 against a user's API tokens, for plain connections where a clear-text password
 * could be read on the way. pg-gateway runs the exchange (RFC 5802/7677); Veil supplies the user's
 * salt and checks the client's proof against each of the user's usable tokens.
 *
 * @see https://www.postgresql.org/docs/current/sasl-authentication.html
 */
export class ScramVerifiers {
  constructor(private readonly gateway: VeilGateway) {}

  /** Options for one connection's exchange; `accept` decides once the proof matched a token. */
  authOptions(accept: (username: string, authentication: Authentication) => boolean, reject: (username: string, error: unknown) => false): ScramSha256AuthOptions {
    let verifiers: ScramVerifier[] = [];
    return {
      method: 'scram-sha-256',
      getScramSha256Data: async ({ username }) => {
        verifiers = await this.gateway.scramVerifiers(username);
        // Unknown users and users without tokens get a well-formed exchange that cannot succeed.
        const decoy = randomBytes(32).toString('base64');
        return { salt: scramSalt(username).toString('base64'), iterations: SCRAM_ITERATIONS, storedKey: verifiers[0]?.storedKey.toString('base64') ?? decoy, serverKey: verifiers[0]?.serverKey.toString('base64') ?? decoy };
      },
      validateCredentials: async ({ authMessage, clientProof, username, scramSha256Data }) => {
        for (const verifier of verifiers) {
          if (!(await verifyScramSha256Password({ authMessage, clientProof, storedKey: verifier.storedKey.toString('base64') }))) continue;
          // The server's signature must come from the same token's key.
          scramSha256Data.serverKey = verifier.serverKey.toString('base64');
          try {
            return accept(username, await this.gateway.acceptScramProof(username, verifier.tokenId));
          } catch (error) {
            return reject(username, error);
          }
        }
        return reject(username, new InvalidTokenError('invalid API token'));
      },
    };
  }
}
