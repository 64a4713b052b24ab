import fs from 'node:fs';
import { z } from 'zod';
import { RpcError } from './errors';

/**
 * A JSON-RPC client for Bitcoin-family nodes (bitcoind, flod, litecoind). Connection failures, HTTP 5xx
 * and "work queue depth exceeded" (503) are retried with exponential backoff; an RPC error (a bad
 * transaction, an unknown block) is an answer and is never retried. Every failure is an RpcError naming
 * the node and the method.
 */
export interface RpcEndpoint {
  /** profile name used in messages */
  readonly name: string;
  readonly url: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** bitcoind's `.cookie` file ("user:password"), re-read at each call because the node rewrites it at start */
  readonly cookieFile?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** attempts after the first one for retryable failures */
  readonly retries?: number | undefined;
  readonly backoffMs?: number | undefined;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_MS = 250;

/** The URL as it may be printed: no user or password. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

const EnvelopeSchema = z.object({
  result: z.unknown(),
  error: z.object({ code: z.number(), message: z.string() }).nullable().optional(),
});

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const BlockchainInfoSchema = z.object({
  chain: z.string(),
  blocks: z.number().int().nonnegative(),
  bestblockhash: hex64,
});
export type BlockchainInfo = z.infer<typeof BlockchainInfoSchema>;

export const BlockHeaderSchema = z.object({
  hash: hex64,
  height: z.number().int().nonnegative(),
  confirmations: z.number().int(),
  previousblockhash: hex64.optional(),
});

export const BlockSchema = z.object({
  hash: hex64,
  height: z.number().int().nonnegative(),
  confirmations: z.number().int(),
  tx: z.array(hex64).min(1),
});
export type BlockInfo = z.infer<typeof BlockSchema>;

export const RawTxVerboseSchema = z.object({
  txid: hex64,
  hex: z.string().regex(/^(?:[0-9a-f]{2})+$/),
  blockhash: hex64.optional(),
  confirmations: z.number().int().optional(),
});
export type RawTxVerbose = z.infer<typeof RawTxVerboseSchema>;

export const EstimateSmartFeeSchema = z.object({ feerate: z.number().positive().optional(), errors: z.array(z.string()).optional(), blocks: z.number().int().optional() });

export const ScanTxOutSetSchema = z.object({
  success: z.boolean(),
  unspents: z.array(z.object({ txid: hex64, vout: z.number().int().nonnegative(), scriptPubKey: z.string(), amount: z.number().nonnegative(), height: z.number().int().nonnegative() })),
});

export const MempoolAcceptSchema = z.array(z.object({ txid: hex64, allowed: z.boolean(), 'reject-reason': z.string().optional() }));

/** JSON-RPC error codes the publisher acts on (bitcoin/src/rpc/protocol.h). */
export const RPC_INVALID_ADDRESS_OR_KEY = -5;
export const RPC_VERIFY_ERROR = -25;
export const RPC_VERIFY_REJECTED = -26;
export const RPC_VERIFY_ALREADY_IN_CHAIN = -27;
export const RPC_INVALID_PARAMETER = -8;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function networkCause(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur !== undefined && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e instanceof TypeError && /fetch failed/.test(e.message) ? 'connection failed' : undefined;
}

export class RpcClient {
  readonly name: string;
  readonly displayUrl: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private nextId = 1;

  constructor(private readonly endpoint: RpcEndpoint) {
    this.name = endpoint.name;
    this.displayUrl = redactUrl(endpoint.url);
    this.timeoutMs = endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = endpoint.retries ?? DEFAULT_RETRIES;
    this.backoffMs = endpoint.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  private fail(kind: RpcError['kind'], method: string, detail: string, code?: number): RpcError {
    return new RpcError(kind, this.name, this.displayUrl, method, detail, code);
  }

  private authorization(method: string): string | undefined {
    const e = this.endpoint;
    let user = e.user;
    let password = e.password;
    if (e.cookieFile !== undefined) {
      let cookie: string;
      try {
        cookie = fs.readFileSync(e.cookieFile, 'utf8').trim();
      } catch (err) {
        throw this.fail('auth', method, `cannot read the cookie file ${e.cookieFile}: ${(err as Error).message}`);
      }
      const at = cookie.indexOf(':');
      if (at < 0) throw this.fail('auth', method, `the cookie file ${e.cookieFile} is not "user:password"`);
      user = cookie.slice(0, at);
      password = cookie.slice(at + 1);
    }
    if (user === undefined) {
      const u = new URL(e.url);
      if (u.username !== '') {
        user = decodeURIComponent(u.username);
        password = decodeURIComponent(u.password);
      }
    }
    return user === undefined ? undefined : `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  }

  /** One call; `schema` validates the result the caller relies on. */
  async call<T>(method: string, params: readonly unknown[], schema: z.ZodType<T>): Promise<T> {
    const raw = await this.callRaw(method, params);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.fail('bad-response', method, `unexpected result (${issue === undefined ? 'invalid' : `${issue.path.join('.') || 'result'}: ${issue.message}`})`);
    }
    return parsed.data;
  }

  async callRaw(method: string, params: readonly unknown[] = []): Promise<unknown> {
    let attempt = 0;
    for (;;) {
      try {
        return await this.once(method, params);
      } catch (e) {
        const retryable = e instanceof RpcError && (e.kind === 'unreachable' || e.kind === 'http');
        if (!retryable || attempt >= this.retries) {
          if (e instanceof RpcError && retryable && attempt > 0) {
            throw new RpcError(e.kind, e.node, e.url, e.method, `${e.message.slice(e.message.indexOf(': ') + 2)} (after ${attempt + 1} attempts)`, e.code);
          }
          throw e;
        }
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
        attempt += 1;
      }
    }
  }

  private async once(method: string, params: readonly unknown[]): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const auth = this.authorization(method);
    if (auth !== undefined) headers.authorization = auth;
    const url = new URL(this.endpoint.url);
    url.username = '';
    url.password = '';
    let res: Response;
    let text: string;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '1.0', id: this.nextId++, method, params }),
        signal,
      });
      text = await res.text();
    } catch (e) {
      if (signal.aborted) throw this.fail('timeout', method, `no answer within ${this.timeoutMs} ms`);
      const cause = networkCause(e);
      if (cause !== undefined) throw this.fail('unreachable', method, `unreachable (${cause})`);
      throw this.fail('unreachable', method, `request failed: ${(e as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) throw this.fail('auth', method, `HTTP ${res.status}: the node refused the RPC user and password`, res.status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // bitcoind answers "Work queue depth exceeded" with a plain-text 503
      throw this.fail('http', method, `HTTP ${res.status} ${text.trim().slice(0, 120)}`, res.status);
    }
    const env = EnvelopeSchema.safeParse(body);
    if (!env.success) throw this.fail('bad-response', method, `HTTP ${res.status}: not a JSON-RPC answer`);
    const error = env.data.error;
    if (error !== null && error !== undefined) throw this.fail('rpc', method, `${error.message} (RPC error ${error.code})`, error.code);
    if (res.status >= 500) throw this.fail('http', method, `HTTP ${res.status}`, res.status);
    return env.data.result;
  }

  // Typed calls the publisher relies on.

  getBlockchainInfo(): Promise<BlockchainInfo> {
    return this.call('getblockchaininfo', [], BlockchainInfoSchema);
  }

  getBlockHash(height: number): Promise<string> {
    return this.call('getblockhash', [height], hex64);
  }

  /** The 80-byte header, hex. */
  getBlockHeaderHex(hash: string): Promise<string> {
    return this.call('getblockheader', [hash, false], z.string().regex(/^[0-9a-f]{160}$/));
  }

  getBlock(hash: string): Promise<BlockInfo> {
    return this.call('getblock', [hash, 1], BlockSchema);
  }

  /** The transaction if the node knows it (mempool, or any block with -txindex), else undefined. */
  async getRawTransaction(txid: string): Promise<RawTxVerbose | undefined> {
    try {
      return await this.call('getrawtransaction', [txid, true], RawTxVerboseSchema);
    } catch (e) {
      if (e instanceof RpcError && e.kind === 'rpc' && e.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
      throw e;
    }
  }

  sendRawTransaction(hex: string): Promise<string> {
    return this.call('sendrawtransaction', [hex], hex64);
  }

  testMempoolAccept(hexes: readonly string[]): Promise<z.infer<typeof MempoolAcceptSchema>> {
    return this.call('testmempoolaccept', [hexes], MempoolAcceptSchema);
  }

  /** sat/vB from the node's estimate, or undefined when it has none (regtest, a fresh node). */
  async estimateSatPerVb(confTarget: number): Promise<number | undefined> {
    const r = await this.call('estimatesmartfee', [confTarget], EstimateSmartFeeSchema);
    return r.feerate === undefined ? undefined : (r.feerate * 1e8) / 1000;
  }

  scanAddress(address: string): Promise<z.infer<typeof ScanTxOutSetSchema>> {
    return this.call('scantxoutset', ['start', [`addr(${address})`]], ScanTxOutSetSchema);
  }
}
