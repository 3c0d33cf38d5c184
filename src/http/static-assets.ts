import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:ui` writes the web UI (Vite's output). */
export const UI_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ui/dist');

/**
 * The web UI's own rules, on every page: scripts and styles only from this origin (no inline
 * script, no eval), API calls only to this origin and to the identity providers' token endpoints
 * (`connectOrigins`: browser sign-in posts the authorization code there), never framed, no
 * referrer leaves.
 */
export function contentSecurityPolicy(connectOrigins: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // Style attributes only (never scripts, never style sheets): the SQL editor sets computed sizes
    // as style attributes. Attributes cannot run script, and no user or dataset text becomes one.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The policy without browser sign-in: the UI talks to this origin only. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/** A bare origin (scheme, plain host, port): nothing that could end a CSP directive or add a source. */
const ORIGIN_PATTERN = /^https?:\/\/(([a-z0-9-]+\.)*[a-z0-9-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/;

/** The CSP headers for a UI that may also connect to `origins` (each must be a bare origin). */
export function uiSecurityHeaders(origins: readonly string[]): Record<string, string> {
  // Anything but a bare origin is refused, so a configuration can never widen the policy beyond them.
  for (const origin of origins) if (!ORIGIN_PATTERN.test(origin)) throw new Error(`not a bare origin for connect-src: ${JSON.stringify(origin)}`);
  return headersFor(contentSecurityPolicy([...new Set(origins)].sort()));
}

function headersFor(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built web UI: files under /assets/ (content-hashed by Vite) are cached for a year as
 * immutable; every other path is a page of the single-page app and gets index.html, never cached,
 * so a new build is picked up at once (deep links, and the identity provider's redirect back to
 * /sign-in/callback, included). Paths are resolved inside the build directory only.
 * Returns false when the request is not the UI's (or the UI is not built).
 */
export function serveUi(req: IncomingMessage, res: ServerResponse, pathname: string, options: { root?: string; securityHeaders?: Record<string, string> } = {}): boolean {
  const root = options.root ?? UI_DIST;
  const securityHeaders = options.securityHeaders ?? headersFor(CONTENT_SECURITY_POLICY);
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const index = path.join(root, 'index.html');
  if (!existsSync(index)) return false;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const file = path.resolve(root, `.${path.posix.normalize(relative)}`);
  const inside = file === root || file.startsWith(`${root}${path.sep}`);
  const isAsset = pathname.startsWith('/assets/');
  if (isAsset && (!inside || !existsSync(file) || !statSync(file).isFile())) {
    res.writeHead(404, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('not found');
    return true;
  }
  const target = isAsset ? file : inside && existsSync(file) && statSync(file).isFile() && !file.endsWith('.html') ? file : index;
  const type = TYPES[path.extname(target)] ?? 'application/octet-stream';
  const cache = target.startsWith(path.join(root, 'assets') + path.sep) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { ...securityHeaders, 'Content-Type': type, 'Content-Length': statSync(target).size, 'Cache-Control': cache });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(target).pipe(res);
  return true;
}
