import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/*
 * Real `litecoind -regtest` nodes for integration tests: each on free loopback ports in its own temp
 * datadir, stopped (and its datadir removed) by the test. Two nodes can be linked with `connect` so a
 * reorg made on one reaches the other. `-vbparams=mweb:-2:0` keeps MWEB from activating: on regtest it
 * would otherwise break block generation after height 431.
 */

export interface RegtestNodeOptions {
  /** OP_RETURN payload limit; 1100 lets the high-capacity stand-in carry Florincoin-sized 1,040-byte fields */
  readonly dataCarrierSize?: number;
  /** with a wallet, the node can fund transactions (generatetoaddress to its own address) */
  readonly wallet?: boolean;
  readonly extraArgs?: readonly string[];
}

export interface RegtestNode {
  readonly rpcUrl: string;
  readonly rpcUser: string;
  readonly rpcPassword: string;
  readonly rpcPort: number;
  readonly p2pPort: number;
  readonly datadir: string;
  rpc<T>(method: string, params?: readonly unknown[]): Promise<T>;
  /** mines n blocks to a fresh address of the node's wallet (or to `address`) and returns their hashes */
  mine(n: number, address?: string): Promise<string[]>;
  /** stops the daemon and waits for it to exit; the datadir is kept so `start` resumes the same chain */
  stop(): Promise<void>;
  /** starts the stopped daemon again; `extraArgs` apply to this run only (e.g. `-persistmempool=0`) */
  start(extraArgs?: readonly string[]): Promise<void>;
  /** stops and removes the datadir */
  destroy(): Promise<void>;
  log(): string;
}

const RPC_USER = 'tallyproof';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegtestNode(opts: RegtestNodeOptions = {}): Promise<RegtestNode> {
  const datadir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-regtest-'));
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const rpcPassword = `pw-${rpcPort}-${process.pid}`;
  const rpcUrl = `http://127.0.0.1:${rpcPort}/`;
  let daemon: ChildProcess | undefined;
  let logTail = '';
  const args = [
    '-regtest',
    `-datadir=${datadir}`,
    '-server',
    `-port=${p2pPort}`,
    '-bind=127.0.0.1',
    `-rpcport=${rpcPort}`,
    '-rpcbind=127.0.0.1',
    '-rpcallowip=127.0.0.1',
    `-rpcuser=${RPC_USER}`,
    `-rpcpassword=${rpcPassword}`,
    '-vbparams=mweb:-2:0',
    '-fallbackfee=0.0002',
    '-txindex=1',
    '-printtoconsole',
    ...(opts.dataCarrierSize !== undefined ? [`-datacarriersize=${opts.dataCarrierSize}`] : []),
    ...(opts.wallet === false ? ['-disablewallet'] : []),
    ...(opts.extraArgs ?? []),
  ];

  async function rpc<T>(method: string, params: readonly unknown[] = []): Promise<T> {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${RPC_USER}:${rpcPassword}`).toString('base64')}` },
      body: JSON.stringify({ jsonrpc: '1.0', id: method, method, params }),
    });
    const text = await res.text();
    let body: { result: T; error: { code: number; message: string } | null };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`litecoind ${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    if (body.error) throw new Error(`litecoind ${method}: ${body.error.message} (code ${body.error.code})`);
    return body.result;
  }

  async function start(extraArgs: readonly string[] = []): Promise<void> {
    if (daemon !== undefined && daemon.exitCode === null) return;
    const child = spawn('litecoind', [...args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = child;
    const keep = (d: Buffer): void => void (logTail = (logTail + d.toString()).slice(-6000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`litecoind exited (${child.exitCode}):\n${logTail}`);
      try {
        await rpc('getblockchaininfo');
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`litecoind did not answer within 90 s:\n${logTail}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    if (opts.wallet !== false) {
      const wallets = await rpc<string[]>('listwallets');
      if (wallets.length === 0) {
        try {
          await rpc('loadwallet', ['tallyproof']);
        } catch {
          await rpc('createwallet', ['tallyproof']);
        }
      }
    }
  }

  async function stop(): Promise<void> {
    const child = daemon;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await rpc('stop');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  async function mine(n: number, address?: string): Promise<string[]> {
    const to = address ?? (await rpc<string>('getnewaddress', ['', 'legacy']));
    return rpc<string[]>('generatetoaddress', [n, to]);
  }

  await start();
  return {
    rpcUrl,
    rpcUser: RPC_USER,
    rpcPassword,
    rpcPort,
    p2pPort,
    datadir,
    rpc,
    mine,
    stop,
    start,
    async destroy() {
      await stop();
      fs.rmSync(datadir, { recursive: true, force: true });
    },
    log: () => logTail,
  };
}
