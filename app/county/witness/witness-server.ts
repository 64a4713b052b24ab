import http from 'node:http';
import { addCheckpoint, type WitnessIdentity, type WitnessState } from './add-checkpoint';
import { BodyTooLarge, listen, readBody, reply, replyText } from '../http-util';

/**
 * `tallyproof witness`: C2SP tlog-witness over HTTP. One call, `POST <prefix>/add-checkpoint`; no
 * authentication beyond the log's signature on the checkpoint (as the spec says). Requests are handled one at
 * a time by the synchronous state, so the compare-and-set also holds within the process.
 */

export interface WitnessServer {
  readonly url: string;
  close(): Promise<void>;
}

/** 63 proof lines of 45 bytes, the old-size line and a checkpoint with a few dozen cosignatures fit easily. */
const MAX_BODY = 64 * 1024;

export function serveWitness(identity: WitnessIdentity, state: WitnessState, opts: { port: number; host: string; prefix?: string; maxConnections?: number }): Promise<WitnessServer> {
  const prefix = opts.prefix ?? '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://witness');
    if (url.pathname !== `${prefix}/add-checkpoint`) return replyText(res, 404, 'not found: this witness answers POST /add-checkpoint');
    if (req.method !== 'POST') return replyText(res, 405, 'add-checkpoint takes POST');
    readBody(req, MAX_BODY).then(
      (body) => {
        const text = body.toString('utf8');
        if (Buffer.from(text, 'utf8').compare(body) !== 0) return replyText(res, 400, 'the body is not UTF-8');
        const answer = addCheckpoint(identity, state, text);
        reply(res, answer.status, answer.contentType, answer.body);
      },
      (e: unknown) => replyText(res, e instanceof BodyTooLarge ? 413 : 400, (e as Error).message),
    );
  });
  return listen(server, opts.port, opts.host, prefix, opts.maxConnections);
}
