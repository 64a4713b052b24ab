import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { assertNever } from '../../../lib/result';
import { parseTilePath, TILE_WIDTH } from '../tlog/tile';
import { TlogError } from '../tlog/stored-hashes';
import { BodyTooLarge, listen, readBody, reply, replyText } from '../http-util';
import type { CountyLog, SubmitRefusal } from './county-log';

/**
 * `tallyproof county serve`: the county log over HTTP. Reads are C2SP tlog-tiles exactly (`GET
 * /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]`), served from the same files
 * any static server or object store could serve. The one write, `POST /add-entry`, is this log's own:
 * a station's signed checkpoint, answered once it is in the tree.
 */

export interface LogServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_ENTRY_BODY = 8 * 1024;

function statusOf(r: SubmitRefusal): number {
  switch (r.kind) {
    case 'malformed':
      return 400;
    case 'unknown-station':
    case 'bad-signature':
    case 'wrong-election':
      return 403;
    case 'equivocation':
    case 'rollback':
      return 409;
    case 'busy':
      return 503;
    default:
      return assertNever(r, 'refusal');
  }
}

export function serveCountyLog(county: CountyLog, opts: { port: number; host: string; maxConnections?: number }): Promise<LogServer> {
  const dir = county.log.dir;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://log');
    const p = url.pathname;
    if (p === '/add-entry') {
      if (req.method !== 'POST') return replyText(res, 405, 'add-entry takes POST');
      readBody(req, MAX_ENTRY_BODY).then(
        async (body) => {
          const result = await county.submit(new Uint8Array(body));
          if (!result.ok) {
            const text = `${result.error.kind}: ${result.error.message}\n`;
            // busy is the one refusal worth sending again, and says when
            return reply(res, statusOf(result.error), 'text/plain; charset=utf-8', text, result.error.kind === 'busy' ? { 'Retry-After': '1' } : {});
          }
          reply(res, 200, 'application/json', JSON.stringify(result.value));
        },
        (e: unknown) => replyText(res, e instanceof BodyTooLarge ? 413 : 400, (e as Error).message),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return replyText(res, 405, 'the log is read with GET');
    if (p === '/checkpoint') {
      const note = county.log.published();
      if (note === undefined) return replyText(res, 404, 'no checkpoint has been witnessed yet');
      return reply(res, 200, 'text/plain; charset=utf-8', note, { 'Cache-Control': 'no-store' });
    }
    const tile = parseTilePath(p.slice(1), 'c2sp');
    if (tile instanceof TlogError) return replyText(res, 404, tile.message);
    // only tiles of the witnessed tree: a tile beyond it may still be being written, or be left over from
    // a batch that never got signed (a crash), and a cache would keep it for a year
    const count = Math.floor(county.publishedTreeSize / TILE_WIDTH ** Math.max(0, tile.l));
    if (tile.n * TILE_WIDTH + tile.w > count) return replyText(res, 404, `tile ${p.slice(1)} is beyond the published tree of ${county.publishedTreeSize}`);
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(dir, p.slice(1)));
    } catch {
      return replyText(res, 404, `no tile ${p.slice(1)} yet`);
    }
    // a full tile never changes; a partial one is replaced by wider ones as the log grows
    const cache = tile.w === TILE_WIDTH ? 'public, max-age=31536000, immutable' : 'public, max-age=5';
    reply(res, 200, 'application/octet-stream', data, { 'Cache-Control': cache });
  });
  return listen(server, opts.port, opts.host, '', opts.maxConnections);
}

