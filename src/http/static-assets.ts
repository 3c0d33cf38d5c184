import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:ui` writes the web UI (Vite's output). */
export const UI_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ui/dist');

/**
 * The web UI's own rules, on every page: scripts and styles only from this origin (no inline
 * script, no eval), API calls only to this origin, never framed, no referrer leaves.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // Style attributes only (never scripts, never style sheets): the SQL editor sets computed sizes
  // as style attributes. Attributes cannot run script, and no user or dataset text becomes one.
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

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
 * so a new build is picked up at once. Paths are resolved inside the build directory only.
 * Returns false when the request is not the UI's (or the UI is not built).
 */
export function serveUi(req: IncomingMessage, res: ServerResponse, pathname: string, root = UI_DIST): boolean {
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
    res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('not found');
    return true;
  }
  const target = isAsset ? file : inside && existsSync(file) && statSync(file).isFile() && !file.endsWith('.html') ? file : index;
  const type = TYPES[path.extname(target)] ?? 'application/octet-stream';
  const cache = target.startsWith(path.join(root, 'assets') + path.sep) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': statSync(target).size, 'Cache-Control': cache });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(target).pipe(res);
  return true;
}
