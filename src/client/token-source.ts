import { readFile, stat } from 'node:fs/promises';
import { VeilAuthError } from './client-errors.ts';

/** A bearer token, or something that produces one (refreshing credentials, a secret manager). */
export type TokenOption = string | (() => string | Promise<string>);

/**
 * Where a client gets its token for each request. The token is fetched per request rather than once
 * so that short-lived tokens can be rotated underneath a long-lived client (a notebook kernel, a
 * service) without reconnecting.
 */
export interface TokenSource {
  /** Where the token comes from, for messages; never the token itself. */
  readonly description: string;
  token(): Promise<string>;
}

const LOOKED_IN = 'the token option of connect(), the VEIL_TOKEN environment variable, and a file named by VEIL_TOKEN_FILE';

/**
 * The first source that is configured, in order: the `token` option, `VEIL_TOKEN`,
 * `VEIL_TOKEN_FILE`. Throws {@link VeilAuthError} `TOKEN_MISSING` naming the places it looked when
 * none is, so a misconfigured client fails at `connect()` rather than on its first query.
 */
export function resolveTokenSource(option: TokenOption | undefined, env: NodeJS.ProcessEnv): TokenSource {
  if (typeof option === 'function') return functionSource(option);
  if (typeof option === 'string') return fixedSource(option, 'the token option');
  const fromEnv = env['VEIL_TOKEN'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fixedSource(fromEnv, 'VEIL_TOKEN');
  const file = env['VEIL_TOKEN_FILE'];
  if (file !== undefined && file.trim() !== '') return new TokenFileSource(file.trim());
  throw new VeilAuthError(`no Veil token found; looked in ${LOOKED_IN}`, { code: 'TOKEN_MISSING' });
}

function fixedSource(value: string, description: string): TokenSource {
  const token = checkedToken(value, description);
  return { description, token: () => Promise.resolve(token) };
}

function functionSource(provide: () => string | Promise<string>): TokenSource {
  const description = 'the token function';
  return {
    description,
    token: async () => {
      let value: unknown;
      try {
        value = await provide();
      } catch (error) {
        throw new VeilAuthError('the token function failed', { code: 'TOKEN_PROVIDER_FAILED', cause: error });
      }
      if (typeof value !== 'string') throw new VeilAuthError('the token function did not return a string', { code: 'TOKEN_PROVIDER_FAILED' });
      return checkedToken(value, description);
    },
  };
}

/**
 * A token file (a mounted Kubernetes secret, a file a sidecar refreshes). It is read again whenever
 * its identity, size or modification time changes, so rotation is picked up on the next request
 * without reading the file on every request. `stat` follows symlinks, which covers the atomic
 * symlink swap Kubernetes uses to update secret volumes.
 */
class TokenFileSource implements TokenSource {
  readonly description: string;
  // #private so that inspecting the source never prints the token.
  #cached: { readonly version: string; readonly token: string } | undefined;

  constructor(private readonly file: string) {
    this.description = `the file ${file} (VEIL_TOKEN_FILE)`;
  }

  async token(): Promise<string> {
    let version: string;
    let text: string | undefined;
    try {
      const info = await stat(this.file, { bigint: true });
      version = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
      if (this.#cached?.version === version) return this.#cached.token;
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new VeilAuthError(`cannot read the token file ${this.file} named by VEIL_TOKEN_FILE (${reason})`, { code: 'TOKEN_UNREADABLE', cause: error });
    }
    const token = checkedToken(text, this.description);
    this.#cached = { version, token };
    return token;
  }
}

/**
 * Trims the token (files and shell variables end in newlines) and drops a pasted `Bearer ` prefix.
 * Anything that is not a single run of visible ASCII is refused here: it could not be a JWT, and
 * handing it to fetch would fail with a less clear error.
 */
function checkedToken(value: string, description: string): string {
  const token = value.trim().replace(/^bearer\s+/i, '');
  if (token === '') throw new VeilAuthError(`the Veil token from ${description} is empty; looked in ${LOOKED_IN}`, { code: 'TOKEN_MISSING' });
  if (!/^[\x21-\x7e]+$/.test(token)) throw new VeilAuthError(`the Veil token from ${description} contains spaces or non-ASCII characters`, { code: 'TOKEN_INVALID_FORMAT' });
  return token;
}
