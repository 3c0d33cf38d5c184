import packageJson from '../../package.json' with { type: 'json' };

/** The version of this package, read once from the root package.json (the client ships inside it). */
export const CLIENT_VERSION: string = packageJson.version;

/**
 * The `X-Veil-Client` value: `veil-ts/<version>`, then the application in parentheses as in a
 * User-Agent comment. The server derives the audit door from the `veil-ts` prefix and records the
 * whole value as `client_application`, so the application name is what tells one tool's accesses
 * from another's in the audit trail. Characters a header cannot carry, and parentheses that would
 * end the comment early, become `_`.
 */
export function clientHeader(applicationName: string | undefined): string {
  const base = `veil-ts/${CLIENT_VERSION}`;
  if (applicationName === undefined || applicationName.trim() === '') return base;
  const clean = applicationName.trim().replace(/[^\x20-\x7e]|[()\\]/g, '_').slice(0, 128);
  return `${base} (${clean})`;
}
