/**
 * The kiosk page's files and the policy they are served under, shared by the two servers of the page:
 * the headless HTTP server (http-server.ts) and the Electron main process's app:// handler (app/main). Neither
 * needs the other's code; both need the same folder, the same path check and the same CSP.
 */
import path from 'node:path';

/** Where the kiosk page's files are, in the sources and in dist/ alike. */
export const RENDERER_STATIC_DIR = path.join(__dirname, '..', 'renderer', 'static');

/**
 * What the page may load: its own files only; no inline script or style, no framing, no plugins.
 * The headless server and the Electron main process send the same policy.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * The file a URL path names inside `staticDir`, or null when it would leave it ('bad-path' when the
 * percent-encoding is broken).
 */
export function staticFileFor(staticDir: string, urlPath: string): string | null | 'bad-path' {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath === '/' || urlPath === '' ? '/index.html' : urlPath);
  } catch {
    return 'bad-path';
  }
  const root = path.resolve(staticDir);
  const file = path.resolve(root, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
  if (rel.includes('\0') || !file.startsWith(root + path.sep)) return null;
  return file;
}

export function contentTypeFor(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
