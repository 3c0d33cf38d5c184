import { clientHeader } from './client-identity.ts';
import { HttpTransport } from './http-transport.ts';
import { resolveTokenSource, type TokenOption } from './token-source.ts';
import { VeilClient } from './veil-client.ts';

export interface ConnectOptions {
  /** Server base URL; default `VEIL_URL`, else `http://localhost:7070`. A path prefix (behind a proxy) is kept. */
  readonly url?: string;
  /** Instead of `url`: host (default `localhost`) and port (default 7070), over http. */
  readonly host?: string;
  readonly port?: number;
  /** The bearer token, or a function returning it (called for every request); default `VEIL_TOKEN`, else the file named by `VEIL_TOKEN_FILE`. */
  readonly token?: TokenOption;
  /** Recorded in the audit trail as `veil-ts/<version> (<applicationName>)`. */
  readonly applicationName?: string;
  /** Upper bound in milliseconds on each call, retries and reading the result included; none by default (the server's statement timeout bounds queries). */
  readonly timeoutMs?: number;
}

export const DEFAULT_URL = 'http://localhost:7070';

/**
 * A client for a Veil server. Nothing is sent yet: the options are checked, and a missing token
 * fails here with {@link VeilAuthError} `TOKEN_MISSING` listing where it was looked for.
 */
export function connect(options: ConnectOptions = {}): VeilClient {
  const baseUrl = resolveUrl(options, process.env);
  const tokens = resolveTokenSource(options.token, process.env);
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds (got ${options.timeoutMs})`);
  }
  const transport = new HttpTransport({ baseUrl, tokens, clientHeader: clientHeader(options.applicationName), timeoutMs: options.timeoutMs });
  return new VeilClient(transport, baseUrl.href, options.applicationName);
}

function resolveUrl(options: ConnectOptions, env: NodeJS.ProcessEnv): URL {
  const hostPort = options.host !== undefined || options.port !== undefined;
  if (options.url !== undefined && hostPort) throw new TypeError('pass either url or host/port, not both');
  let text: string;
  if (hostPort) {
    const host = options.host ?? 'localhost';
    const port = options.port ?? 7070;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be an integer from 1 to 65535 (got ${port})`);
    text = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  } else {
    text = options.url ?? (env['VEIL_URL']?.trim() || DEFAULT_URL);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a valid Veil server URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the Veil server URL must be http or https (got ${url.protocol})`);
  // Credentials belong in the token; a URL with them would end up in messages and toString.
  if (url.username !== '' || url.password !== '') throw new TypeError('the Veil server URL must not contain credentials; pass the token option');
  url.search = '';
  url.hash = '';
  // API paths are resolved relative to this URL, so its path must end in a slash to be kept.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
