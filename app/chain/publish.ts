import fs from 'node:fs';
import path from 'node:path';
import { Transaction, address as btcAddress } from 'bitcoinjs-lib';
import { z } from 'zod';
import { deriveBallotAddress } from '../../ballots/identity/address';
import { NETWORKS } from '../../ballots/identity/networks';
import { toHex } from '../../lib/bytes';
import { replaceFileAtomically } from '../../lib/durable-fs';
import { checkpointDigest } from '../ledger/checkpoint';
import { dataLayout } from '../ledger/layout';
import { PACK_FORMAT, packRecords, unpackRecords } from '../ledger/record-pack';
import { decodeRecord } from '../ledger/record';
import type { LedgerMode } from '../ledger/record';
import type { ClosedBatchView } from '../ledger/replay';
import { readHeadsFile, verifyLedgerFile } from '../ledger/verify';
import type { AnchorProfile, ChainProfile, ChainsConfig, RecordsProfile } from './chains-config';
import { assertModeAllowed, checkNodeNetwork } from './chains-config';
import { PublishError, RpcError } from './errors';
import { RECORDS_HEADER_BYTES, anchorCommitment, decodeRecordsField, encodeAnchor, encodeRecordsField, recordsDigest } from '../formats/publication-formats';
import type { Publication } from '../formats/publication-formats';
import { publishLayout } from './layout';
import { chainNetwork } from './networks';
import type { PublishLayout } from './layout';
import { Outbox } from './outbox';
import type { BatchRow, BatchStatus, Role, TxRow } from './outbox';
import { publicationFor } from './publication';
import { RPC_VERIFY_ALREADY_IN_CHAIN, RpcClient } from './rpc';
import type { StationWallet } from './station-wallet';
import type { ChainSigner, Coin, ExtraOutput, SignedTx } from './tx-build';
import { batchOnChain, discoverStationTxs, feeOf } from './discover';
import type { AddressScan, BatchOnChain, Discovery, FoundTx } from './discover';
import { parseFloTx } from './flo-tx';
import { describeBatchState } from '../formats/bundle-pending';
import { DUST_LIMIT, buildAnchorTx, buildRecordsChain, planCost, recordsChainCost, SEQUENCE_RBF } from './tx-build';

/**
 * Publishing closed batches: sign (records chain + anchor) into the outbox, broadcast what the nodes accept,
 * track confirmations, bump the anchor's fee, notice reorgs, and write the publication file of each batch
 * once all its transactions are confirmed. Each call is one pass that does all it can now and returns the
 * state; call it again (or `publishUntil`) to make progress. Nothing is broadcast that is not first stored,
 * and nothing stored is sent if its node already knows it.
 */
export interface PublishOptions {
  readonly dataDir: string;
  readonly mode?: LedgerMode;
  readonly chains: ChainsConfig;
  readonly wallet: StationWallet;
  /** sign and write signed transactions only: no node is contacted */
  readonly offline?: boolean;
  /** coins to fund from when no node can be asked (see FundingFileSchema) */
  readonly fundingFile?: string;
  /** test hooks: called after each successful broadcast */
  readonly hooks?: { afterBroadcast?(tx: TxRow): Promise<void> | void };
}

export interface PublishIssue {
  readonly role: Role | 'ledger';
  readonly batch: number | null;
  readonly kind: string;
  readonly message: string;
}

export interface PublishReport {
  readonly mode: LedgerMode;
  readonly outbox: string;
  readonly offline: boolean;
  readonly batches: readonly BatchStatus[];
  /** what stopped progress this pass (a dead node, not enough coins, a rejected transaction) */
  readonly errors: readonly PublishIssue[];
  /** what is waiting on the chain (blocks to confirm, a mempool chain limit) */
  readonly waiting: readonly PublishIssue[];
  readonly signedFiles: readonly string[];
  readonly publications: readonly string[];
  /** every batch published (publication file written) */
  readonly done: boolean;
  /** one line per batch saying where it stands, e.g. "batch 1: signed, not broadcast (offline): …" */
  readonly summary: readonly string[];
}

/** `--funding <file>`: coins at the station's addresses, for signing with no node. */
export const FundingFileSchema = z.strictObject({
  format: z.literal('tallyproof-funding/1'),
  coins: z.array(
    z.strictObject({
      role: z.enum(['records', 'anchor']),
      txid: z.string().regex(/^[0-9a-f]{64}$/),
      vout: z.number().int().nonnegative(),
      valueSat: z.string().regex(/^[1-9]\d{0,17}$/, 'a whole number of satoshis, as a string'),
    }),
  ),
});

export const SignedFileSchema = z.strictObject({
  format: z.literal('tallyproof-signed/1'),
  mode: z.enum(['official', 'test']),
  batch: z.number().int().positive(),
  records: z.strictObject({ chain: z.string(), network: z.string(), carrier: z.enum(['flodata', 'op_return']), txs: z.array(z.strictObject({ chunk: z.number().int(), txid: z.string(), hex: z.string() })) }),
  anchor: z.strictObject({ chain: z.string(), network: z.string(), txid: z.string(), hex: z.string(), replaces: z.array(z.string()) }),
});

interface NodeView {
  readonly client: RpcClient;
  tip: number;
  readonly genesisHash: string;
}

/**
 * The chains a pass publishes to: both (a station's batches) or the anchor chain alone (anchor-only
 * batches: the county log's anchor of its cosigned checkpoint, app/county/anchor).
 */
export type PassChains = ChainsConfig | { readonly records?: undefined; readonly anchor: AnchorProfile };

interface PassOptions {
  readonly chains: PassChains;
  readonly wallet: StationWallet;
  readonly offline?: boolean;
  readonly hooks?: PublishOptions['hooks'];
}

interface Pass {
  readonly opts: PassOptions;
  readonly mode: LedgerMode;
  readonly layout: PublishLayout;
  readonly outbox: Outbox;
  readonly nodes: Partial<Record<Role, NodeView>>;
  readonly errors: PublishIssue[];
  readonly waiting: PublishIssue[];
  readonly signedFiles: string[];
  readonly publications: string[];
  /** roles whose broadcasting stopped this pass */
  readonly stopped: Set<Role>;
  /** each address's coins scanned this pass (a UTXO-set scan is slow on a large chain and one runs at a time) */
  readonly scans: Map<string, AddressScan>;
  /** the publication file of a batch whose every transaction is confirmed */
  readonly publicationOf: (pass: Pass, batch: number) => Promise<unknown>;
}

/** The station's chains: only the station's signing path reaches here, and it always has both. */
function stationChains(pass: Pass): ChainsConfig {
  const c = pass.opts.chains;
  if (c.records === undefined) throw new PublishError('input', 'an anchor-only pass has no records chain');
  return c;
}

async function scanOnce(pass: Pass, node: NodeView, address: string): Promise<AddressScan> {
  const key = `${node.client.displayUrl} ${address}`;
  let scan = pass.scans.get(key);
  if (scan === undefined) {
    scan = await node.client.scanAddress(address);
    pass.scans.set(key, scan);
  }
  return scan;
}

const ROLES: readonly Role[] = ['records', 'anchor'];

export function signerFor(profile: ChainProfile, wallet: StationWallet): ChainSigner {
  return { network: NETWORKS[profile.network], addressType: profile.address, wallet };
}

/** The records fields of a batch: its records in tree (hash) order, packed, each with the TPR header. */
export function recordsFieldsFor(batch: Pick<ClosedBatchView, 'body' | 'records'>, maxDataBytes: number): Uint8Array[] {
  const digest = checkpointDigest(batch.body);
  const packs = batch.records.length === 0 ? [Uint8Array.of(PACK_FORMAT)] : packRecords(batch.records, maxDataBytes - RECORDS_HEADER_BYTES);
  if (packs.length > 0xffff) throw new PublishError('input', `a batch of ${batch.records.length} records needs ${packs.length} fields, more than 65,535`);
  return packs.map((p, i) => encodeRecordsField(digest, i, packs.length, p));
}

/** The anchor's OP_RETURN payload for a batch and its records fields. */
export function anchorPayloadFor(batch: Pick<ClosedBatchView, 'body'> & { checkpoint: { root: Uint8Array } }, fields: readonly Uint8Array[]): Uint8Array {
  return encodeAnchor(batch.checkpoint.root, anchorCommitment(checkpointDigest(batch.body), recordsDigest(fields)));
}

function dustOutputs(profile: RecordsProfile, fields: readonly Uint8Array[]): ExtraOutput[][] | undefined {
  const dust = profile.dustToBallotAddress;
  if (dust === undefined) return undefined;
  const net = NETWORKS[profile.network];
  const value = BigInt(Math.max(dust.amountSat, Number(DUST_LIMIT)));
  return fields.map((f) =>
    unpackRecords(decodeRecordsField(f).pack).map((r) => ({ script: btcAddress.toOutputScript(deriveBallotAddress({ network: profile.network, xpub: dust.xpub }, decodeRecord(r).ballotId), net), value })),
  );
}

function writeJsonAtomically(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  replaceFileAtomically(file, `${JSON.stringify(value, null, 1)}
`, { mode: 0o644 });
}

function issueOf(role: Role, batch: number | null, e: unknown): PublishIssue {
  if (e instanceof RpcError) return { role, batch, kind: `rpc-${e.kind}`, message: e.message };
  if (e instanceof PublishError) return { role, batch, kind: e.kind, message: e.message };
  throw e;
}

async function connect(pass: Pass, role: Role, profile: ChainProfile): Promise<void> {
  if (profile.rpc === undefined) return;
  const client = new RpcClient({ name: `${role}:${profile.name}`, ...profile.rpc });
  try {
    const info = await client.getBlockchainInfo();
    const genesisHash = await client.getBlockHash(0);
    checkNodeNetwork(role, profile, info.chain, genesisHash);
    pass.nodes[role] = { client, tip: info.blocks, genesisHash };
  } catch (e) {
    if (e instanceof PublishError && e.kind === 'mode') throw e;
    pass.errors.push(issueOf(role, null, e));
  }
}

function importFundingFile(outbox: Outbox, file: string): void {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PublishError('input', `${file}: cannot read the funding file: ${(e as Error).message}`);
  }
  const parsed = FundingFileSchema.safeParse(json);
  if (!parsed.success) throw new PublishError('input', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  for (const c of parsed.data.coins) outbox.addCoin(c.role, { txid: c.txid, vout: c.vout, value: BigInt(c.valueSat) }, 'funding-file');
}

/**
 * Whether the two profiles spend from one chain: the same network, and for regtest (where two nodes are two
 * chains, whose early coinbases can even share txids) the same node.
 */
export function sharesCoins(chains: PassChains): boolean {
  const r = chains.records;
  const a = chains.anchor;
  if (r === undefined) return false;
  if (r.network !== a.network || r.address !== a.address) return false;
  return chainNetwork(r.network).nodeChain !== 'regtest' || (r.rpc !== undefined && r.rpc.url === a.rpc?.url);
}

/** Coins for a role worth at least `need`: from the outbox first, then (online) from the node's UTXO set. */
async function pickCoin(pass: Pass, role: Role, profile: ChainProfile, need: bigint): Promise<Coin> {
  const fromOutbox = pass.outbox.availableCoins(role).find((c) => c.value >= need);
  if (fromOutbox !== undefined) return fromOutbox;
  const node = pass.nodes[role];
  const address = pass.opts.wallet.address(NETWORKS[profile.network], profile.address);
  const immature: string[] = [];
  if (node !== undefined) {
    const scan = await scanOnce(pass, node, address);
    // take one new coin, not all: the other role may fund from the same address on the same chain
    const shared = sharesCoins(pass.opts.chains);
    const candidates = scan.unspents
      .filter((u) => !pass.outbox.knowsCoin(u.txid, u.vout, shared ? undefined : role))
      .map((u) => ({ txid: u.txid, vout: u.vout, value: BigInt(Math.round(u.amount * 1e8)), height: u.height }))
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .filter((c) => c.value >= need);
    for (const c of candidates) {
      if (await isImmatureCoinbase(node, c.txid, c.height)) {
        immature.push(`${c.txid}:${c.vout} (mined at height ${c.height}, spendable from height ${c.height + COINBASE_MATURITY})`);
        continue;
      }
      const found = { txid: c.txid, vout: c.vout, value: c.value };
      pass.outbox.addCoin(role, found, 'node');
      return found;
    }
  }
  const waitFor = immature.length === 0 ? '' : `; ${immature.length === 1 ? 'a coinbase coin there is' : 'coinbase coins there are'} not spendable yet: ${immature.join(', ')}`;
  throw new PublishError('funds', `no coin of at least ${need} sat at the station's ${role} address ${address} on ${profile.name} (${profile.network}); send one there${node === undefined ? ' and list it in a funding file' : ''}${waitFor}`);
}

/** Blocks after which a coinbase output may be spent (Bitcoin, Litecoin and Florincoin alike). */
export const COINBASE_MATURITY = 100;

/**
 * Whether a coin found by a UTXO scan is a coinbase output too young to spend in the next block. Only young
 * coins are looked at: the first transaction of the block at their height is the coinbase (`getblock`
 * needs no -txindex).
 */
async function isImmatureCoinbase(node: NodeView, txid: string, height: number): Promise<boolean> {
  if (node.tip + 1 - height >= COINBASE_MATURITY) return false;
  const block = await node.client.getBlock(await node.client.getBlockHash(height));
  return block.tx[0] === txid;
}

async function feeRate(pass: Pass, role: Role, profile: ChainProfile): Promise<number> {
  const node = pass.nodes[role];
  if (node === undefined) return profile.feeFloorSatPerVb;
  const est = await node.client.estimateSatPerVb(profile.confTarget);
  return Math.max(profile.feeFloorSatPerVb, est ?? 0);
}

function writeSignedFile(pass: Pass, batch: number): void {
  const { chains } = pass.opts;
  // an anchor-only outbox (the county's) is always online and writes no signed file: its outbox is the record
  if (chains.records === undefined) return;
  const records = pass.outbox.txsOf(batch, 'records');
  const anchors = pass.outbox.allTxsOf(batch).filter((t) => t.role === 'anchor');
  const current = anchors.find((t) => t.state !== 'replaced') ?? anchors[anchors.length - 1];
  if (current === undefined) return;
  const file = pass.layout.signedFile(batch);
  writeJsonAtomically(file, {
    format: 'tallyproof-signed/1',
    mode: pass.mode,
    batch,
    records: { chain: chains.records.name, network: chains.records.network, carrier: chains.records.carrier, txs: records.map((t) => ({ chunk: t.chunk as number, txid: t.txid, hex: t.hex })) },
    anchor: { chain: chains.anchor.name, network: chains.anchor.network, txid: current.txid, hex: current.hex, replaces: anchors.filter((t) => t.ord < current.ord).map((t) => t.txid) },
  });
  pass.signedFiles.push(file);
}

/**
 * Before anything new is signed online, each chain is searched for the station's own transactions the
 * outbox does not know (discover.ts): a lost outbox must not lead to a second publication of a batch.
 * Returns false (with the reason reported) when nothing may be signed this pass.
 */
async function discoverBeforeSigning(pass: Pass): Promise<{ ok: boolean; found: Partial<Record<Role, Discovery>> }> {
  const found: Partial<Record<Role, Discovery>> = {};
  const shared = sharesCoins(pass.opts.chains);
  for (const role of ROLES) {
    const profile = role === 'records' ? stationChains(pass).records : pass.opts.chains.anchor;
    if (profile.rpc === undefined) continue;
    const node = pass.nodes[role];
    if (node === undefined) {
      pass.waiting.push({ role, batch: null, kind: 'node-unavailable', message: `new batches are signed once ${role}:${profile.name} answers: its chain is searched first for transactions of this station the outbox does not know` });
      return { ok: false, found };
    }
    const address = pass.opts.wallet.address(NETWORKS[profile.network], profile.address);
    const carrier = role === 'records' ? stationChains(pass).records.carrier : 'op_return';
    try {
      const d = await discoverStationTxs(node.client, address, await scanOnce(pass, node, address), carrier, pass.outbox, shared ? undefined : role);
      found[role] = d;
      if (d.unknownSpends.length > 0) {
        pass.errors.push({
          role,
          batch: null,
          kind: 'unknown-spend',
          message:
            `${d.unknownSpends.join(', ')} at the station's ${role} address ${address} on ${profile.name} ${d.unknownSpends.length === 1 ? 'is' : 'are'} being spent by an unconfirmed transaction the outbox does not know ` +
            `(was ${pass.layout.outbox} deleted or replaced after a broadcast?). Nothing new is signed: wait until it is mined and run again; the publisher then finds the batch's transactions on chain and takes them up.`,
        });
        return { ok: false, found };
      }
    } catch (e) {
      pass.errors.push(issueOf(role, null, e));
      return { ok: false, found };
    }
  }
  return { ok: true, found };
}


/** The outbox's row for a batch about to be signed or found on chain. */
function batchRow(b: ClosedBatchView, fields: readonly Uint8Array[], chains: ChainsConfig): BatchRow {
  return {
    batch: b.checkpoint.batch,
    checkpointDigest: toHex(checkpointDigest(b.body)),
    root: toHex(b.checkpoint.root),
    recordsDigest: toHex(recordsDigest(fields)),
    fields: fields.length,
    records: b.records.length,
    fieldBytes: fields.reduce((a, f) => a + f.length, 0),
    recordsChain: chains.records.name,
    anchorChain: chains.anchor.name,
    publication: null,
  };
}

/** A batch found complete on its chains is taken into the outbox as broadcast; tracking does the rest. */
function adopt(pass: Pass, b: ClosedBatchView, found: Extract<BatchOnChain, { kind: 'complete' }>, fields: readonly Uint8Array[], discovered: Partial<Record<Role, Discovery>>): boolean {
  const n = b.checkpoint.batch;
  const chains = stationChains(pass);
  const coins: { role: Role; coin: Coin; source: 'node' | 'change'; spentBy: string | null }[] = [];
  const priced: { txid: string; hex: string; fee: bigint; vsize: number }[] = [];
  for (const [role, tx] of [...found.records.map((t) => ['records', t] as const), ['anchor', found.anchor] as const]) {
    const read = discovered[role]?.read ?? new Map<string, FoundTx>();
    const fee = feeOf(tx, read);
    if (fee === undefined) {
      pass.errors.push({ role, batch: n, kind: 'already-on-chain', message: `batch ${n}: ${role} transaction ${tx.txid} is on ${chains[role].name} but the outputs it spends cannot be read (-txindex?); restore ${pass.layout.outbox} from a backup` });
      return false;
    }
    priced.push({ txid: tx.txid, hex: tx.hex, fee, vsize: tx.vsize });
    for (const i of tx.inputs) {
      const parent = read.get(i.txid);
      coins.push({ role, coin: { txid: i.txid, vout: i.vout, value: parent?.outputs[i.vout] ?? 0n }, source: discovered[role]?.station.has(i.txid) === true ? 'change' : 'node', spentBy: tx.txid });
    }
  }
  const last = found.records[found.records.length - 1] as FoundTx;
  const vout = last.outputs.length - 1;
  coins.push({ role: 'records', coin: { txid: last.txid, vout, value: last.outputs[vout] as bigint }, source: 'change', spentBy: null });
  const recordsTxs = priced.slice(0, -1);
  const anchorTx = priced[priced.length - 1] as (typeof priced)[number];
  pass.outbox.recordAdopted(
    batchRow(b, fields, chains),
    recordsTxs,
    anchorTx,
    coins,
    pass.nodes.anchor?.tip ?? 0,
    `the batch's ${recordsTxs.length} records transactions and its anchor ${anchorTx.txid} were found on chain though the outbox had no record of them; taken up, not signed again`,
  );
  writeSignedFile(pass, n);
  return true;
}

async function signNewBatches(pass: Pass, batches: readonly ClosedBatchView[]): Promise<void> {
  const chains = stationChains(pass);
  const { wallet } = pass.opts;
  let discovered: Partial<Record<Role, Discovery>> | undefined;
  for (const b of batches) {
    const n = b.checkpoint.batch;
    const digest = toHex(checkpointDigest(b.body));
    const known = pass.outbox.batch(n);
    if (known !== undefined) {
      if (known.checkpointDigest !== digest) {
        throw new PublishError('conflict', `batch ${n}: the outbox published checkpoint ${known.checkpointDigest}, the ledger now says ${digest}: the ledger was rewritten after publishing`);
      }
      continue;
    }
    const fields = recordsFieldsFor(b, chains.records.maxDataBytes);
    const dust = dustOutputs(chains.records, fields);
    const payload = anchorPayloadFor(b, fields);
    if (pass.opts.offline !== true) {
      if (discovered === undefined) {
        const d = await discoverBeforeSigning(pass);
        if (!d.ok) return;
        discovered = d.found;
      }
      const onChain = batchOnChain(discovered.records, discovered.anchor, checkpointDigest(b.body), fields, payload);
      if (onChain.kind === 'complete') {
        if (!adopt(pass, b, onChain, fields, discovered)) return;
        continue;
      }
      if (onChain.kind === 'partial') {
        pass.errors.push({
          role: 'records',
          batch: n,
          kind: 'already-on-chain',
          message:
            `batch ${n} is partly on chain though the outbox has no record of it (${onChain.found.join('; ')}): ${pass.layout.outbox} was lost after a broadcast. Nothing is signed for it: ` +
            `restore the outbox from a backup, or send the rest with \`tallyproof publish --broadcast ${pass.layout.signedFile(n)}\` and run again once it is mined.`,
        });
        return;
      }
    }
    const signedBefore = pass.layout.signedFile(n);
    if (fs.existsSync(signedBefore)) {
      pass.errors.push({
        role: 'records',
        batch: n,
        kind: 'signed-not-in-outbox',
        message:
          `batch ${n}: ${signedBefore} holds transactions signed for it, but the outbox has no record of them (was ${pass.layout.outbox} deleted or replaced?), ` +
          `and ${pass.opts.offline === true ? 'an offline pass cannot look for them on chain' : 'they are not on chain'}. Nothing is signed for it: restore the outbox, or, if those transactions were never sent anywhere, move that file away and run again.`,
      });
      return;
    }
    const recSigner = signerFor(chains.records, wallet);
    let records: SignedTx[];
    let anchor: SignedTx;
    let recCoin: Coin;
    let ancCoin: Coin;
    try {
      const rate = await feeRate(pass, 'records', chains.records);
      const need = recordsChainCost(recSigner, { fields, carrier: chains.records.carrier, feeRate: rate, ...(dust === undefined ? {} : { extraOutputs: dust }) });
      recCoin = await pickCoin(pass, 'records', chains.records, need);
      records = buildRecordsChain(recSigner, { funding: recCoin, fields, carrier: chains.records.carrier, feeRate: rate, ...(dust === undefined ? {} : { extraOutputs: dust }) });
    } catch (e) {
      pass.errors.push(issueOf('records', n, e));
      return;
    }
    try {
      ({ anchor, coin: ancCoin } = await signAnchor(pass, payload));
    } catch (e) {
      pass.errors.push(issueOf('anchor', n, e));
      return;
    }
    pass.outbox.recordSigned(
      batchRow(b, fields, chains),
      records,
      anchor,
      [
        { role: 'records', coin: recCoin },
        { role: 'anchor', coin: ancCoin },
      ],
    );
    writeSignedFile(pass, n);
  }
}

/** The anchor for a payload at the node's rate (the floor offline), from a coin with room for fee bumps if there is one. */
async function signAnchor(pass: Pass, payload: Uint8Array): Promise<{ anchor: SignedTx; coin: Coin }> {
  const profile = pass.opts.chains.anchor;
  const signer = signerFor(profile, pass.opts.wallet);
  const rate = await feeRate(pass, 'anchor', profile);
  // room for a few fee bumps from the same coin
  const cost = planCost(signer, { inputs: [{ txid: '00'.repeat(32), vout: 0, value: 0n }], data: payload, carrier: 'op_return', feeRate: profile.rbf.maxSatPerVb, sequence: SEQUENCE_RBF });
  const minimal = planCost(signer, { inputs: [{ txid: '00'.repeat(32), vout: 0, value: 0n }], data: payload, carrier: 'op_return', feeRate: rate, sequence: SEQUENCE_RBF });
  const available = pass.outbox.availableCoins('anchor');
  const coin = available.find((c) => c.value >= cost.fee + DUST_LIMIT) ?? (await pickCoin(pass, 'anchor', profile, minimal.fee + DUST_LIMIT));
  return { anchor: buildAnchorTx(signer, [coin], payload, rate), coin };
}

const isAlreadyKnown = (e: RpcError): boolean => e.code === RPC_VERIFY_ALREADY_IN_CHAIN || /txn-already-in-mempool|txn-already-known|already in block chain/.test(e.message);
const isWaitable = (e: RpcError): boolean => /too-long-mempool-chain|too many unconfirmed|missing-inputs|missingorspent|bad-txns-inputs-missing/.test(e.message);

/** Sends one stored transaction unless its node already has it. Returns false when this role must stop for now. */
async function sendOne(pass: Pass, role: Role, node: NodeView, t: TxRow): Promise<boolean> {
  const seen = await node.client.getRawTransaction(t.txid);
  if (seen !== undefined) {
    pass.outbox.setState(t.txid, 'broadcast', { broadcastHeight: node.tip });
    pass.outbox.event(t.batch, t.txid, 'found-on-node', `${node.client.name} already has it; not sent again`);
    return true;
  }
  try {
    await node.client.sendRawTransaction(t.hex);
  } catch (e) {
    if (!(e instanceof RpcError) || e.kind !== 'rpc') throw e;
    if (isAlreadyKnown(e)) {
      pass.outbox.setState(t.txid, 'broadcast', { broadcastHeight: node.tip });
      pass.outbox.event(t.batch, t.txid, 'found-on-node', e.message);
      return true;
    }
    if (isWaitable(e)) {
      pass.waiting.push({ role, batch: t.batch, kind: 'mempool-limit', message: `${t.txid} waits for blocks: ${e.message}` });
      return false;
    }
    if (t.replaces !== null) {
      // a fee bump the node will not take (replacement disabled, or a fee its rules find too low): the
      // anchor it was to replace is still valid and stays the one tracked
      pass.outbox.refuseReplacement(t, node.tip, e.message);
      writeSignedFile(pass, t.batch);
      pass.waiting.push({ role, batch: t.batch, kind: 'replacement-refused', message: `batch ${t.batch}: ${node.client.name} refused the fee bump ${t.txid} of anchor ${t.replaces}: ${e.message}; ${t.replaces} stays the anchor and is tracked` });
      return false;
    }
    pass.outbox.event(t.batch, t.txid, 'rejected', e.message);
    pass.errors.push({ role, batch: t.batch, kind: 'rejected', message: `${t.txid}: ${e.message}` });
    return false;
  }
  pass.outbox.setState(t.txid, 'broadcast', { broadcastHeight: node.tip });
  pass.outbox.event(t.batch, t.txid, 'sent', `sent to ${node.client.name}`);
  await pass.opts.hooks?.afterBroadcast?.(t);
  return true;
}

async function broadcastRole(pass: Pass, role: Role): Promise<void> {
  const node = pass.nodes[role];
  if (node === undefined || pass.stopped.has(role)) return;
  for (const b of pass.outbox.batches()) {
    if (role === 'anchor' && !anchorMayGo(pass, b.batch)) continue;
    for (const t of pass.outbox.txsOf(b.batch, role)) {
      if (t.state !== 'signed') continue;
      let go: boolean;
      try {
        go = await sendOne(pass, role, node, t);
      } catch (e) {
        pass.errors.push(issueOf(role, b.batch, e));
        go = false;
      }
      // a refused fee bump is set aside; the anchor it was to replace is still tracked
      if (!go && pass.outbox.txByid(t.txid)?.state === 'replaced') continue;
      if (!go) {
        pass.stopped.add(role);
        return;
      }
    }
  }
}

/**
 * The anchor commits to every records field of its batch: it goes out only once the records node has
 * accepted every records transaction of the batch (none still only signed). Otherwise an anchor could be
 * on chain for records that are not (a records node that died mid-batch, a mempool chain limit), and an
 * auditor would find an anchor whose records are nowhere. An anchor already sent is tracked as before.
 */
function anchorMayGo(pass: Pass, batch: number): boolean {
  const anchorUnsent = pass.outbox.txsOf(batch, 'anchor').some((t) => t.state === 'signed');
  if (!anchorUnsent) return true;
  const records = pass.outbox.txsOf(batch, 'records');
  const unsent = records.filter((t) => t.state === 'signed');
  if (unsent.length === 0) return true;
  // broadcasting runs twice a pass: say it once
  if (pass.waiting.some((w) => w.kind === 'records-not-sent' && w.batch === batch)) return false;
  pass.waiting.push({
    role: 'anchor',
    batch,
    kind: 'records-not-sent',
    message: `batch ${batch}: the anchor is sent once ${pass.opts.chains.records?.name ?? 'the records chain'} has accepted all ${records.length} records transactions; ${unsent.length} not yet (from chunk ${String(unsent[0]?.chunk)})`,
  });
  return false;
}

type Location = { where: 'block'; hash: string; height: number; confirmations: number } | { where: 'mempool' } | { where: 'unknown' };

/**
 * Where a transaction is now: in a block of the active chain (hash, height, confirmations), in the mempool,
 * or unknown. With -txindex a node still finds a transaction in a block it disconnected; such a block has
 * no confirmations, so the transaction counts as unknown.
 */
async function locate(node: NodeView, txid: string): Promise<Location> {
  const raw = await node.client.getRawTransaction(txid);
  if (raw === undefined) return { where: 'unknown' };
  if (raw.blockhash === undefined) return { where: 'mempool' };
  const header = await node.client.call('getblockheader', [raw.blockhash, true], z.object({ height: z.number().int(), confirmations: z.number().int() }));
  if (header.confirmations < 1) return { where: 'unknown' };
  return { where: 'block', hash: raw.blockhash, height: header.height, confirmations: header.confirmations };
}

/** A transaction that was in a block and is not there any more: recorded, and the batch's publication withdrawn. */
function noteReorg(pass: Pass, batch: number, t: TxRow, at: Location): void {
  const wasIn = t.blockHash;
  if (wasIn === null || (at.where === 'block' && at.hash === wasIn)) return;
  const now = at.where === 'block' ? `now in ${at.hash} at ${at.height}` : at.where === 'mempool' ? 'back in the mempool' : 'gone from the node';
  pass.outbox.event(batch, t.txid, 'reorg', `was in block ${wasIn} at height ${String(t.blockHeight)}; ${now}`);
  const published = pass.outbox.batch(batch)?.publication ?? null;
  if (published !== null) {
    pass.outbox.setPublication(batch, null);
    // the stale file is moved aside, so nothing that reads the directory takes it for a publication
    const file = pass.layout.publicationFile(batch);
    const aside = path.join(pass.layout.publicationDir, 'withdrawn', `batch-${batch}-${new Date().toISOString().replace(/[-:.]/g, '')}.json`);
    if (fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(aside), { recursive: true });
      fs.renameSync(file, aside);
    }
    pass.outbox.event(batch, null, 'publication-withdrawn', `${published} no longer matches the chain (moved to ${aside}); it is rewritten once re-confirmed`);
  }
}

function markInBlock(pass: Pass, batch: number, t: TxRow, at: Extract<Location, { where: 'block' }>, depth: number): void {
  const state = at.confirmations >= depth ? 'confirmed' : 'mined';
  if (state === t.state && at.hash === t.blockHash) return;
  pass.outbox.setState(t.txid, state, { blockHash: at.hash, blockHeight: at.height });
  if (state === 'confirmed') pass.outbox.event(batch, t.txid, 'confirmed', `${at.confirmations} confirmations, block ${at.hash} at height ${at.height}`);
}

/** The outpoints a stored transaction spends (txid in RPC display order). */
function inputsOf(t: TxRow, carrier: 'flodata' | 'op_return'): { txid: string; vout: number }[] {
  if (carrier === 'flodata' && t.role === 'records') return parseFloTx(Buffer.from(t.hex, 'hex')).inputs.map((i) => ({ txid: i.txid, vout: i.vout }));
  return Transaction.fromHex(t.hex).ins.map((i) => ({ txid: Buffer.from(i.hash).reverse().toString('hex'), vout: i.index }));
}

/**
 * The first input of `t` that another transaction spent: its parent is on the active chain (or in the
 * mempool) and the output is spent, while `t` itself is nowhere. An input whose parent is missing too (the
 * previous transaction of a records chain, itself dropped) is not a double spend.
 */
async function doubleSpentInput(node: NodeView, t: TxRow, carrier: 'flodata' | 'op_return'): Promise<string | undefined> {
  for (const i of inputsOf(t, carrier)) {
    const parent = await locate(node, i.txid);
    if (parent.where === 'unknown') continue;
    const out = await node.client.call('gettxout', [i.txid, i.vout, true], z.unknown());
    if (out === null) return `${i.txid}:${i.vout}`;
  }
  return undefined;
}

/**
 * Sends again a stored transaction that a reorg (or a restarted node without its mempool) dropped. If the
 * node refuses it because one of its inputs was spent by another transaction, the transaction can never
 * confirm on this chain: that is reported as a `double-spent` error naming the batch and txid (every pass,
 * without sending anything else of its chain) rather than retried as if it might go through.
 */
async function resend(pass: Pass, role: Role, node: NodeView, t: TxRow): Promise<boolean> {
  try {
    await node.client.sendRawTransaction(t.hex);
    pass.outbox.event(t.batch, t.txid, 'rebroadcast', `not known to ${node.client.name}; sent again`);
    return true;
  } catch (e) {
    if (!(e instanceof RpcError) || e.kind !== 'rpc') throw e;
    if (isAlreadyKnown(e)) return true;
    const what = `${role} transaction ${t.txid}${t.chunk === null ? '' : ` (chunk ${t.chunk})`}`;
    const spent = await doubleSpentInput(node, t, role === 'records' ? (pass.opts.chains.records?.carrier ?? 'op_return') : 'op_return');
    if (spent !== undefined) {
      const last = pass.outbox.events(t.batch).filter((ev) => ev.txid === t.txid).pop();
      if (last?.kind !== 'double-spent') pass.outbox.event(t.batch, t.txid, 'double-spent', `its input ${spent} was spent by another transaction: ${e.message}`);
      const after = role === 'records' ? '; the records transactions after it spend its change and cannot confirm either' : '';
      pass.errors.push({
        role,
        batch: t.batch,
        kind: 'double-spent',
        message:
          `batch ${t.batch}: ${what} was dropped from ${node.client.name} by a reorg and can no longer confirm: its input ${spent} was spent by another transaction${after}. ` +
          `It stays in the outbox (it is valid again only if the block that spent the input is reorganised away); to publish the batch it must be signed again from another coin — find out first who spent the station's coin.`,
      });
      return false;
    }
    if (isWaitable(e)) {
      const limit = /too-long-mempool-chain|too many unconfirmed/.test(e.message);
      pass.waiting.push({
        role,
        batch: t.batch,
        kind: limit ? 'mempool-limit' : 'parent-missing',
        message: limit ? `${what} waits for blocks: ${e.message}` : `${what} waits for the transaction it spends to be back on ${node.client.name}: ${e.message}`,
      });
      return false;
    }
    pass.outbox.event(t.batch, t.txid, 'rebroadcast-refused', e.message);
    pass.errors.push({ role, batch: t.batch, kind: 'rejected', message: `batch ${t.batch}: ${what}, dropped by a reorg, was refused when sent again: ${e.message}` });
    return false;
  }
}

async function trackRecords(pass: Pass, node: NodeView, batch: number, depth: number): Promise<void> {
  for (const t of pass.outbox.txsOf(batch, 'records')) {
    if (t.state === 'signed') continue;
    const at = await locate(node, t.txid);
    noteReorg(pass, batch, t, at);
    if (at.where === 'block') {
      markInBlock(pass, batch, t, at, depth);
      continue;
    }
    if (t.state !== 'broadcast') pass.outbox.setState(t.txid, 'broadcast', { blockHash: null, blockHeight: null });
    // a dropped transaction goes out again; the rest of its chain waits for it
    if (at.where === 'unknown' && !(await resend(pass, 'records', node, t))) return;
  }
}

/**
 * Every version of the anchor that went out is looked for. One in a block is the anchor of record, whichever
 * fee it paid: an older version mined after its replacement was signed wins, and the replacement is set
 * aside (it can never confirm: it spends the same coin). With none in a block, the current version is
 * tracked: sent again if dropped, bumped if it waits too long.
 */
async function trackAnchor(pass: Pass, node: NodeView, batch: number, depth: number): Promise<void> {
  const sent = pass.outbox.allTxsOf(batch).filter((t) => t.role === 'anchor' && t.state !== 'signed');
  const located: { t: TxRow; at: Location }[] = [];
  for (const t of sent) located.push({ t, at: await locate(node, t.txid) });
  for (const { t, at } of located) noteReorg(pass, batch, t, at);
  const mined = located.find((l): l is { t: TxRow; at: Extract<Location, { where: 'block' }> } => l.at.where === 'block');
  if (mined !== undefined) {
    const { t: won, at } = mined;
    if (won.state === 'replaced') pass.outbox.event(batch, won.txid, 'replaced-anchor-mined', `this earlier version was mined (block ${at.hash} at height ${at.height}) after its replacement was signed; it is the anchor`);
    markInBlock(pass, batch, won.state === 'replaced' ? { ...won, state: 'broadcast' } : won, at, depth);
    const setAside = pass.outbox.settleAnchor(batch, won.txid);
    for (const t of setAside) pass.outbox.event(batch, t.txid, 'replacement-abandoned', `${won.txid} was mined instead; this version spends the same coin and can never confirm`);
    if (setAside.length > 0) writeSignedFile(pass, batch);
    const current = pass.outbox.txByid(won.txid);
    if (current?.state === 'confirmed') {
      // its change is spendable once it is confirmed (until then a reorg could still bring in another version)
      const tx = Transaction.fromHex(current.hex);
      const vout = tx.outs.length - 1;
      pass.outbox.addCoin('anchor', { txid: won.txid, vout, value: (tx.outs[vout] as { value: bigint }).value }, 'change');
    }
    return;
  }
  const current = located.find((l) => l.t.state !== 'replaced');
  // none current: a replacement is stored but not sent yet (broadcasting sends it)
  if (current === undefined) return;
  const { t, at } = current;
  if (t.state !== 'broadcast') pass.outbox.setState(t.txid, 'broadcast', { blockHash: null, blockHeight: null });
  if (at.where === 'unknown' && !(await resend(pass, 'anchor', node, t))) return;
  await maybeBump(pass, node, batch);
}

async function trackRole(pass: Pass, role: Role): Promise<void> {
  const node = pass.nodes[role];
  const profile = role === 'anchor' ? pass.opts.chains.anchor : pass.opts.chains.records;
  if (node === undefined || profile === undefined) return;
  const depth = profile.confirmations;
  try {
    node.tip = (await node.client.getBlockchainInfo()).blocks;
    pass.outbox.noteLooked(role, node.tip, `${node.client.name} ${node.client.displayUrl}`);
  } catch (e) {
    pass.errors.push(issueOf(role, null, e));
    return;
  }
  for (const b of pass.outbox.batches()) {
    try {
      if (role === 'anchor') await trackAnchor(pass, node, b.batch, depth);
      else await trackRecords(pass, node, b.batch, depth);
    } catch (e) {
      pass.errors.push(issueOf(role, b.batch, e));
      if (e instanceof RpcError && e.kind !== 'rpc') return;
    }
  }
}

async function maybeBump(pass: Pass, node: NodeView, batch: number): Promise<void> {
  const profile: AnchorProfile = pass.opts.chains.anchor;
  const cur = pass.outbox.txsOf(batch, 'anchor')[0];
  if (cur === undefined || cur.state !== 'broadcast' || cur.broadcastHeight === null) return;
  if (node.tip - cur.broadcastHeight < profile.rbf.bumpAfterBlocks) return;
  const refused = pass.outbox.allTxsOf(batch).filter((t) => t.role === 'anchor' && t.replaces === cur.txid && t.state === 'replaced' && t.broadcastHeight !== null);
  const lastRefusal = Math.max(...refused.map((t) => t.broadcastHeight as number));
  if (refused.length > 0 && node.tip - lastRefusal < profile.rbf.bumpAfterBlocks) {
    pass.waiting.push({ role: 'anchor', batch, kind: 'replacement-refused', message: `anchor ${cur.txid}: the node refused its fee bump at height ${lastRefusal}; tried again ${profile.rbf.bumpAfterBlocks} blocks after that` });
    return;
  }
  const est = (await node.client.estimateSatPerVb(profile.confTarget)) ?? 0;
  const rate = Math.min(profile.rbf.maxSatPerVb, Math.max(cur.feeRate * profile.rbf.factor, cur.feeRate + 1, est, profile.feeFloorSatPerVb));
  if (rate <= cur.feeRate + 0.5) {
    pass.waiting.push({ role: 'anchor', batch, kind: 'fee-at-cap', message: `anchor ${cur.txid} unconfirmed after ${node.tip - cur.broadcastHeight} blocks at ${cur.feeRate.toFixed(2)} sat/vB, the cap` });
    return;
  }
  const old = Transaction.fromHex(cur.hex);
  const inputs: Coin[] = old.ins.map((i) => {
    const txid = Buffer.from(i.hash).reverse().toString('hex');
    const coin = pass.outbox.coin('anchor', txid, i.index);
    if (coin === undefined) throw new PublishError('conflict', `anchor ${cur.txid} spends ${txid}:${i.index}, which the outbox does not hold`);
    return coin;
  });
  const embedded = payloadOfOpReturn(old.outs[0]?.script);
  const next = buildAnchorTx(signerFor(profile, pass.opts.wallet), inputs, embedded, rate);
  pass.outbox.recordReplacement(cur, next);
  writeSignedFile(pass, batch);
  const fresh = pass.outbox.txByid(next.txid) as TxRow;
  const sent = await sendOne(pass, 'anchor', node, fresh);
  if (!sent && pass.outbox.txByid(next.txid)?.state === 'signed') pass.stopped.add('anchor');
  if (sent) pass.outbox.event(batch, next.txid, 'fee-bumped', `${cur.feeRate.toFixed(2)} → ${next.feeRate.toFixed(2)} sat/vB after ${node.tip - cur.broadcastHeight} blocks`);
}

function payloadOfOpReturn(script: Uint8Array | undefined): Uint8Array {
  if (script === undefined || script[0] !== 0x6a) throw new PublishError('conflict', 'the anchor transaction has no OP_RETURN first output');
  // OP_RETURN, then one push: a direct push (≤ 75 bytes) or OP_PUSHDATA1 (the 68-byte anchor uses the first)
  const op = script[1] as number;
  if (op <= 75) return script.slice(2, 2 + op);
  if (op === 0x4c) return script.slice(3, 3 + (script[2] as number));
  throw new PublishError('conflict', 'the anchor OP_RETURN has an unexpected push');
}

/** The station's publication file of a batch: both chains' nodes are needed. */
async function stationPublication(pass: Pass, batch: number): Promise<Publication> {
  const rec = pass.nodes.records;
  const anc = pass.nodes.anchor;
  if (rec === undefined || anc === undefined) throw new PublishError('input', 'a publication is written only with both nodes answering');
  return publicationFor({ outbox: pass.outbox, chains: stationChains(pass), records: rec.client, anchor: anc.client }, batch);
}

async function writePublications(pass: Pass): Promise<void> {
  // every chain the pass publishes to must answer: a publication is what the nodes show now
  if (pass.nodes.anchor === undefined || (pass.opts.chains.records !== undefined && pass.nodes.records === undefined)) return;
  for (const b of pass.outbox.batches()) {
    if (b.publication !== null) continue;
    const txs = pass.outbox.txsOf(b.batch);
    if (txs.length === 0 || txs.some((t) => t.state !== 'confirmed')) continue;
    try {
      const pub = await pass.publicationOf(pass, b.batch);
      const file = pass.layout.publicationFile(b.batch);
      writeJsonAtomically(file, pub);
      pass.outbox.setPublication(b.batch, file);
      pass.outbox.event(b.batch, null, 'published', file);
      pass.publications.push(file);
    } catch (e) {
      pass.errors.push(issueOf('anchor', b.batch, e));
    }
  }
}

/** The closed batches of the mode's ledger, verified first: a ledger that does not verify is not published. */
export function closedBatches(dataDir: string, mode: LedgerMode, wallet: StationWallet): ClosedBatchView[] {
  const layout = dataLayout(dataDir);
  const file = layout.ledger(mode);
  if (!fs.existsSync(file)) throw new PublishError('ledger', `${file}: no ${mode} ledger in this data directory`);
  const report = verifyLedgerFile(file, { expectedHeads: readHeadsFile(layout.heads(mode)), stationPublicKey: wallet.xOnlyPublicKey }, { keepBatches: true });
  if (!report.ok || report.summary === undefined) {
    throw new PublishError('ledger', `${file} does not verify, so nothing of it is published: entry ${String(report.problem?.seq)}: ${String(report.problem?.message)}`);
  }
  if (report.summary.genesis.mode !== mode) throw new PublishError('ledger', `${file} is a ${report.summary.genesis.mode} ledger`);
  return [...report.summary.batches];
}

export async function publishBatches(opts: PublishOptions): Promise<PublishReport> {
  const mode = opts.mode ?? 'official';
  assertModeAllowed(mode, opts.chains);
  const batches = closedBatches(opts.dataDir, mode, opts.wallet);
  const layout = publishLayout(opts.dataDir, mode);
  const outbox = Outbox.open(layout.outbox, mode);
  const pass: Pass = { opts, mode, layout, outbox, nodes: {}, errors: [], waiting: [], signedFiles: [], publications: [], stopped: new Set(), scans: new Map(), publicationOf: stationPublication };
  try {
    if (opts.fundingFile !== undefined) importFundingFile(outbox, opts.fundingFile);
    if (opts.offline !== true) {
      await connect(pass, 'records', opts.chains.records);
      await connect(pass, 'anchor', opts.chains.anchor);
    }
    await signNewBatches(pass, batches);
    if (opts.offline !== true) {
      for (const role of ROLES) await broadcastRole(pass, role);
      for (const role of ROLES) await trackRole(pass, role);
      // what tracking confirmed may let held-back transactions through
      for (const role of ROLES) if (!pass.stopped.has(role)) await broadcastRole(pass, role);
      await writePublications(pass);
    }
    const status = outbox.status();
    return {
      mode,
      outbox: layout.outbox,
      offline: opts.offline === true,
      batches: status,
      errors: pass.errors,
      waiting: pass.waiting,
      signedFiles: pass.signedFiles,
      publications: pass.publications,
      done: status.length === batches.length && status.every((s) => s.state === 'published'),
      summary: status.map((s) => `batch ${s.batch}: ${describeBatchState(s.state, { offline: opts.offline === true })}`),
    };
  } finally {
    outbox.close();
  }
}

/** The outbox's state per batch, without touching any node or signing anything. */
export function publishStatus(dataDir: string, mode: LedgerMode = 'official'): BatchStatus[] {
  const layout = publishLayout(dataDir, mode);
  if (!fs.existsSync(layout.outbox)) return [];
  const outbox = Outbox.open(layout.outbox, mode);
  try {
    return outbox.status();
  } finally {
    outbox.close();
  }
}


/**
 * An anchor-only batch: one OP_RETURN committing to something that is not a station batch (the county log's
 * cosigned checkpoint, app/county/anchor). `digest` identifies what is anchored (a batch already in the
 * outbox must name the same one), `root` is the tree root the payload carries, `entries` how many entries
 * that tree holds.
 */
export interface AnchorOnlyItem {
  readonly batch: number;
  readonly digest: Uint8Array;
  readonly root: Uint8Array;
  readonly entries: number;
  readonly payload: Uint8Array;
}

export interface AnchorOnlyOptions {
  readonly layout: PublishLayout;
  readonly mode: LedgerMode;
  readonly anchor: AnchorProfile;
  readonly wallet: StationWallet;
  /** batches to sign if the outbox does not hold them yet (the ones it holds are tracked whatever is given) */
  readonly items: readonly AnchorOnlyItem[];
  /** the publication file of a batch whose anchor is confirmed, built with the anchor node */
  publicationOf(src: { outbox: Outbox; anchor: RpcClient; profile: AnchorProfile }, batch: number): Promise<unknown>;
  readonly hooks?: PublishOptions['hooks'];
}

/**
 * One pass of the same publisher for anchor-only batches: what is new is signed into the outbox (v2) before
 * anything is sent, then broadcast, confirmation tracking, fee bumps, reorgs (a withdrawn publication is moved
 * aside) and publication files exactly as for a station's anchors. Always online. There is no discovery of a
 * lost outbox here: a county that loses its outbox anchors its current checkpoint again, which costs a fee
 * and misleads nobody (two anchors of one checkpoint say the same thing).
 */
export async function publishAnchorOnly(opts: AnchorOnlyOptions): Promise<PublishReport> {
  if (opts.mode === 'test' && NETWORKS[opts.anchor.network].live) {
    throw new PublishError('mode', `refused: a test-mode log is never anchored to ${NETWORKS[opts.anchor.network].title} (${opts.anchor.network}), a live chain`);
  }
  const outbox = Outbox.open(opts.layout.outbox, opts.mode);
  const chains: PassChains = { anchor: opts.anchor };
  const publicationOf = async (pass: Pass, batch: number): Promise<unknown> => {
    const node = pass.nodes.anchor;
    if (node === undefined) throw new PublishError('input', 'a publication is written only with the anchor node answering');
    return opts.publicationOf({ outbox: pass.outbox, anchor: node.client, profile: opts.anchor }, batch);
  };
  const pass: Pass = { opts: { chains, wallet: opts.wallet, ...(opts.hooks === undefined ? {} : { hooks: opts.hooks }) }, mode: opts.mode, layout: opts.layout, outbox, nodes: {}, errors: [], waiting: [], signedFiles: [], publications: [], stopped: new Set(), scans: new Map(), publicationOf };
  try {
    if (outbox.schemaVersion < 2) throw new PublishError('outbox', `${opts.layout.outbox}: an outbox of schema version ${outbox.schemaVersion} cannot hold anchor-only batches; this one was made for a station`);
    await connect(pass, 'anchor', opts.anchor);
    if (pass.nodes.anchor !== undefined) {
      for (const item of opts.items) {
        const known = outbox.batch(item.batch);
        if (known !== undefined) {
          if (known.checkpointDigest !== toHex(item.digest)) throw new PublishError('conflict', `batch ${item.batch}: the outbox anchored ${known.checkpointDigest}, now asked to anchor ${toHex(item.digest)}`);
          continue;
        }
        let signed: { anchor: SignedTx; coin: Coin };
        try {
          signed = await signAnchor(pass, item.payload);
        } catch (e) {
          pass.errors.push(issueOf('anchor', item.batch, e));
          break;
        }
        outbox.recordSigned(
          { batch: item.batch, checkpointDigest: toHex(item.digest), root: toHex(item.root), recordsDigest: '00'.repeat(32), fields: 0, records: item.entries, fieldBytes: 0, recordsChain: '', anchorChain: opts.anchor.name, publication: null },
          [],
          signed.anchor,
          [{ role: 'anchor', coin: signed.coin }],
        );
      }
      await broadcastRole(pass, 'anchor');
      await trackRole(pass, 'anchor');
      if (!pass.stopped.has('anchor')) await broadcastRole(pass, 'anchor');
      await writePublications(pass);
    }
    const status = outbox.status();
    return {
      mode: opts.mode,
      outbox: opts.layout.outbox,
      offline: false,
      batches: status,
      errors: pass.errors,
      waiting: pass.waiting,
      signedFiles: [],
      publications: pass.publications,
      done: status.every((st) => st.state === 'published'),
      summary: status.map((st) => `batch ${st.batch}: ${describeBatchState(st.state, { offline: false })}`),
    };
  } finally {
    outbox.close();
  }
}
