import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Request-body reading and replies shared by the county log and the witness servers. */

export class BodyTooLarge extends Error {}

export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxBytes) {
      reject(new BodyTooLarge(`a body of ${declared} bytes is over the ${maxBytes}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge(`a body over the ${maxBytes}-byte limit`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function reply(res: http.ServerResponse, status: number, contentType: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}

export function replyText(res: http.ServerResponse, status: number, text: string): void {
  reply(res, status, 'text/plain; charset=utf-8', text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Sockets a server holds at once, by default: above the 1,000 stations of the county budget reporting at the
 * same moment, below the 65,536 descriptors of a default process limit. A connection past it is closed at
 * once; the stations' reporters send again with backoff.
 */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/** Limits every server here shares: slow or idle clients must not hold sockets, nor a flood of them every descriptor. */
export function applyTimeouts(server: http.Server, maxConnections = DEFAULT_MAX_CONNECTIONS): void {
  server.maxConnections = maxConnections;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
}

/** Starts listening; `close` ends open keep-alive connections too, so a stop does not wait on clients. */
export function listen(server: http.Server, port: number, host: string, prefix = '', maxConnections = DEFAULT_MAX_CONNECTIONS): Promise<{ url: string; close: () => Promise<void> }> {
  applyTimeouts(server, maxConnections);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${bound}${prefix}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
