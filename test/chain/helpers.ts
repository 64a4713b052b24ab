import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1';
import { NETWORKS } from '../../ballots/identity/networks';
import type { ChainsConfig } from '../../app/chain/chains-config';
import { parseChainsConfig } from '../../app/chain/chains-config';
import { publishLayout } from '../../app/chain/layout';
import { Outbox } from '../../app/chain/outbox';
import type { TxRow } from '../../app/chain/outbox';
import type { StationWallet } from '../../app/chain/station-wallet';
import { walletFromSecret } from '../../app/chain/station-wallet';
import type { CheckpointSigner } from '../../app/ledger/checkpoint';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import type { ClosedBatch } from '../../app/ledger/ledger';
import type { LedgerMode } from '../../app/ledger/record';
import type { RegtestNode, RegtestNodeOptions } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { genesisFor, mulberry32, randomCapture } from '../ledger/fixtures';

/** One secret for both the checkpoint signer (Schnorr) and the transaction signer (ECDSA): the station key. */
export function stationKeys(seed = 7): { signer: CheckpointSigner; wallet: StationWallet } {
  const secret = new Uint8Array(32);
  secret[31] = seed;
  secret[0] = 0x42;
  return {
    signer: { publicKey: schnorr.getPublicKey(secret), sign: (m) => schnorr.sign(m, secret, new Uint8Array(32)) },
    wallet: walletFromSecret(secret),
  };
}

export function tempDir(prefix = 'tp-chain-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A station data directory with a real ledger; `addBatch` casts n random ballots and closes a batch. */
export class StationData {
  readonly ledger: Ledger;
  private readonly rand: () => number;
  constructor(
    readonly dir: string,
    readonly signer: CheckpointSigner,
    readonly mode: LedgerMode = 'official',
    seed = 11,
  ) {
    const file = dataLayout(dir).ledger(mode);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.ledger = Ledger.create(file, genesisFor(mode, signer));
    this.rand = mulberry32(seed);
  }

  /** `beforeClose`: what the station logs between the last ballot and the checkpoint (the close of polls) */
  addBatch(n: number, beforeClose?: (ledger: Ledger) => void): ClosedBatch {
    for (let i = 0; i < n; i++) {
      const p = this.ledger.appendPending(randomCapture(this.rand, this.mode));
      if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
      const c = this.ledger.confirmCast(p.value.seq);
      if (!c.ok) throw new Error('confirm refused');
    }
    beforeClose?.(this.ledger);
    const closed = this.ledger.closeBatch(this.signer);
    if (!closed.ok) throw new Error('close refused');
    return closed.value;
  }

  close(): void {
    this.ledger.close();
  }
}

export function regtestChains(records: RegtestNode | undefined, anchor: RegtestNode | undefined, over: { records?: Record<string, unknown>; anchor?: Record<string, unknown> } = {}): ChainsConfig {
  const rpc = (n: RegtestNode | undefined) => (n === undefined ? {} : { rpc: { url: n.rpcUrl, user: n.rpcUser, password: n.rpcPassword, retries: 1, backoffMs: 50, timeoutMs: 20_000 } });
  return parseChainsConfig({
    format: 'tallyproof-chains/1',
    records: { name: 'ltc-records', network: 'litecoin-regtest', carrier: 'op_return', maxDataBytes: 1040, address: 'p2wpkh', confirmations: 2, ...rpc(records), ...over.records },
    anchor: { name: 'ltc-anchor', network: 'litecoin-regtest', address: 'p2wpkh', confirmations: 3, rbf: { bumpAfterBlocks: 2, factor: 2, maxSatPerVb: 50 }, ...rpc(anchor), ...over.anchor },
  });
}

/** Mines a coinbase to `address` and matures it (100 more blocks to the node's wallet). */
export async function fund(node: RegtestNode, address: string, coinbases = 1): Promise<void> {
  await node.mine(coinbases, address);
  await node.mine(100);
}

/** A test file's one regtest node and station data directory; both are set once the file's `beforeAll` ran. */
export interface FundedNode {
  node: RegtestNode;
  dir: string;
}

/**
 * Starts one litecoind regtest node with `nodeOptions`, matures `coinbases` coinbases to the wallet's
 * p2wpkh address, and makes a temp data directory; after the file's tests, destroys the node and removes
 * the directory. Call it at the top level of a test file.
 */
export function useFundedNode(wallet: StationWallet, nodeOptions: RegtestNodeOptions, coinbases: number): FundedNode {
  // a Jest per-file fixture: the hooks run when the file's tests do, so `node` and `dir` are filled in by beforeAll, not here
  const fixture: Partial<FundedNode> = {};
  beforeAll(async () => {
    fixture.node = await startRegtestNode(nodeOptions);
    await fund(fixture.node, wallet.address(NETWORKS['litecoin-regtest'], 'p2wpkh'), coinbases);
    fixture.dir = tempDir();
  });
  afterAll(async () => {
    await fixture.node?.destroy();
    if (fixture.dir !== undefined) fs.rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture as FundedNode;
}

/** The outbox's events (of one batch, or all), read from the file the publisher wrote. */
export function outboxEvents(dir: string, batch?: number): { txid: string | null; kind: string; detail: string }[] {
  const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
  try {
    return o.events(batch);
  } finally {
    o.close();
  }
}

/** One stored transaction row of the outbox. */
export function outboxTx(dir: string, txid: string): TxRow | undefined {
  const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
  try {
    return o.txByid(txid);
  } finally {
    o.close();
  }
}
