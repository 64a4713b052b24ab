import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RpcError } from '../../app/chain/errors';
import { RpcClient } from '../../app/chain/rpc';
import { publishBatches } from '../../app/chain/publish';
import type { RegtestNode } from '../support/litecoind';
import { freePort, startRegtestNode } from '../support/litecoind';
import { StationData, regtestChains, stationKeys, tempDir } from './helpers';

jest.setTimeout(60_000);

let node: RegtestNode;
beforeAll(async () => {
  node = await startRegtestNode({ wallet: false });
});
afterAll(async () => {
  await node?.destroy();
});

/** A real HTTP server answering with `reply(n)` for its n-th request (n from 1). */
async function server(reply: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = http.createServer((req, res) => {
    n += 1;
    req.resume();
    req.on('end', () => reply(n, req, res));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    count: () => n,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('JSON-RPC client', () => {
  test('talks to a real node and validates what it relies on', async () => {
    const c = new RpcClient({ name: 'records', url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword });
    const info = await c.getBlockchainInfo();
    expect(info.chain).toBe('regtest');
    expect(await c.getBlockHash(0)).toBe('530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9');
    expect(await c.getBlockHeaderHex(await c.getBlockHash(0))).toMatch(/^[0-9a-f]{160}$/);
    expect(await c.getRawTransaction('00'.repeat(32))).toBeUndefined();
  });

  test('a dead node: typed "unreachable" error naming the node, its URL (no password) and the call, after the retries', async () => {
    const port = await freePort();
    const c = new RpcClient({ name: 'anchor:bitcoin', url: `http://tp:secret@127.0.0.1:${port}/`, retries: 2, backoffMs: 10 });
    const e = await rejection(c.getBlockchainInfo());
    expect(e.kind).toBe('unreachable');
    expect(e.node).toBe('anchor:bitcoin');
    expect(e.method).toBe('getblockchaininfo');
    expect(e.message).toBe(`node "anchor:bitcoin" (http://127.0.0.1:${port}/) getblockchaininfo: unreachable (ECONNREFUSED) (after 3 attempts)`);
    expect(e.message).not.toContain('secret');
  });

  test('wrong password: "auth", not retried', async () => {
    const c = new RpcClient({ name: 'records', url: node.rpcUrl, user: node.rpcUser, password: 'wrong', retries: 3, backoffMs: 10 });
    const e = await rejection(c.getBlockchainInfo());
    expect(e.kind).toBe('auth');
    expect(e.code).toBe(401);
    const s = await server((_n, _req, res) => {
      res.writeHead(401);
      res.end();
    });
    try {
      await rejection(new RpcClient({ name: 'records', url: s.url, retries: 3, backoffMs: 5 }).getBlockchainInfo());
      expect(s.count()).toBe(1);
    } finally {
      await s.close();
    }
  });

  test('an RPC error is an answer: kind "rpc" with its code, sent once', async () => {
    const c = new RpcClient({ name: 'records', url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword, retries: 3 });
    const e = await rejection(c.getBlockHash(999_999));
    expect(e.kind).toBe('rpc');
    expect(e.code).toBe(-8);
    expect(e.message).toMatch(/^node "records" \(http:\/\/127\.0\.0\.1:\d+\/\) getblockhash: Block height out of range \(RPC error -8\)$/);
    const bad = await rejection(c.sendRawTransaction('00'));
    expect(bad.kind).toBe('rpc');
    expect(bad.code).toBe(-22);
  });

  test('work queue full (HTTP 503) is retried with backoff until the node answers', async () => {
    const s = await server((n, _req, res) => {
      if (n <= 2) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Work queue depth exceeded');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: '11'.repeat(32), error: null, id: 1 }));
      }
    });
    try {
      const c = new RpcClient({ name: 'records', url: s.url, retries: 3, backoffMs: 5 });
      expect(await c.getBlockHash(0)).toBe('11'.repeat(32));
      expect(s.count()).toBe(3);
      const never = new RpcClient({ name: 'records', url: s.url, retries: 0 });
      // the server is answering by now; a fresh server that always fails gives kind "http"
      expect(await never.getBlockHash(0)).toBe('11'.repeat(32));
    } finally {
      await s.close();
    }
    const down = await server((_n, _req, res) => {
      res.writeHead(503);
      res.end('Work queue depth exceeded');
    });
    try {
      const e = await rejection(new RpcClient({ name: 'anchor', url: down.url, retries: 1, backoffMs: 5 }).getBlockHash(0));
      expect(e.kind).toBe('http');
      expect(e.code).toBe(503);
      expect(down.count()).toBe(2);
    } finally {
      await down.close();
    }
  });

  test('no answer in time: kind "timeout"; a malformed result: kind "bad-response"', async () => {
    const silent = await server(() => undefined);
    try {
      const e = await rejection(new RpcClient({ name: 'anchor', url: silent.url, timeoutMs: 200, retries: 0 }).getBlockchainInfo());
      expect(e.kind).toBe('timeout');
      expect(e.message).toContain('no answer within 200 ms');
    } finally {
      await silent.close();
    }
    const odd = await server((_n, _req, res) => {
      res.writeHead(200);
      res.end(JSON.stringify({ result: { chain: 'regtest' }, error: null }));
    });
    try {
      const e = await rejection(new RpcClient({ name: 'anchor', url: odd.url }).getBlockchainInfo());
      expect(e.kind).toBe('bad-response');
      expect(e.message).toContain('getblockchaininfo');
    } finally {
      await odd.close();
    }
  });

  test('a cookie file supplies user and password', async () => {
    const dir = tempDir();
    const cookie = `${dir}/.cookie`;
    fs.writeFileSync(cookie, '__cookie__:abc123\n');
    let seen = '';
    const s = await server((_n, req, res) => {
      seen = req.headers.authorization ?? '';
      res.writeHead(200);
      res.end(JSON.stringify({ result: 7, error: null }));
    });
    try {
      await new RpcClient({ name: 'records', url: s.url, cookieFile: cookie }).callRaw('getblockcount');
      expect(Buffer.from(seen.replace(/^Basic /, ''), 'base64').toString()).toBe('__cookie__:abc123');
      const e = await rejection(new RpcClient({ name: 'records', url: s.url, cookieFile: `${dir}/missing` }).callRaw('getblockcount'));
      expect(e.kind).toBe('auth');
      expect(e.message).toContain('cannot read the cookie file');
    } finally {
      await s.close();
    }
  });

  test('a profile whose node is on another network than it says is refused before anything is signed', async () => {
    const dir = tempDir();
    const { signer, wallet } = stationKeys();
    const station = new StationData(dir, signer);
    station.addBatch(3);
    station.close();
    const chains = regtestChains(node, node, { anchor: { network: 'bitcoin-regtest' } });
    await expect(publishBatches({ dataDir: dir, chains, wallet })).rejects.toThrow(/the anchor profile "ltc-anchor" says bitcoin-regtest, but its node's genesis block is 530827f3/);
    const asTestnet = regtestChains(node, node, { records: { network: 'bitcoin-test' } });
    await expect(publishBatches({ dataDir: dir, chains: asTestnet, wallet })).rejects.toThrow(/reports chain "regtest" \(expected "test"\)/);
  });
});
