import { Transaction } from 'bitcoinjs-lib';
import { z } from 'zod';
import { PublishError, RpcError } from './errors';
import { ANCHOR_BYTES, decodeAnchor, decodeRecordsField } from '../formats/publication-formats';
import type { RecordsFieldHeader } from '../formats/publication-formats';
import { parseFloTx } from './flo-tx';
import type { Outbox, Role } from './outbox';
import { RPC_INVALID_ADDRESS_OR_KEY } from './rpc';
import type { RpcClient } from './rpc';
import type { Carrier } from './tx-build';

/**
 * Finding the station's own transactions on a chain without the outbox: what lets a pass whose outbox was
 * lost (deleted, or restored from an old backup) see that a batch is already published instead of signing
 * it a second time.
 *
 * Every transaction the station signs spends coins at its own address and pays its change back there, so
 * its transactions form a graph that reaches the address's current coins. From the confirmed coins
 * (`scantxoutset`, no node wallet needed) the walk goes back through the inputs of every station
 * transaction (one carrying a "TPR" records field or a "TPA" anchor), stopping at transactions the outbox
 * already holds and at funding transactions (anything else). Reading a spent transaction needs the node's
 * `-txindex`, as the publisher already does.
 *
 * The mempool cannot be walked that way (a node of this age cannot say which mempool transaction spends an
 * output), so a confirmed coin spent by an unconfirmed transaction the outbox does not know is reported
 * instead: such a pass signs nothing and asks to wait for a block.
 */
export interface FoundTx {
  readonly txid: string;
  readonly hex: string;
  /** confirmations on the node's active chain (0: mempool or a disconnected block) */
  readonly confirmations: number;
  readonly inputs: readonly { txid: string; vout: number }[];
  /** value in sat of each output, by index */
  readonly outputs: readonly bigint[];
  readonly vsize: number;
  readonly records?: { readonly header: RecordsFieldHeader; readonly field: Uint8Array };
  readonly anchor?: { readonly payload: Uint8Array; readonly root: Uint8Array };
}

export interface Discovery {
  /** station transactions found (records or anchor), by txid */
  readonly station: ReadonlyMap<string, FoundTx>;
  /** every transaction read on the way (station ones and the funding transactions they spend) */
  readonly read: ReadonlyMap<string, FoundTx>;
  /** confirmed coins at the address that an unconfirmed transaction unknown to the outbox spends */
  readonly unknownSpends: readonly string[];
}

const VerboseTxSchema = z.object({
  txid: z.string(),
  hex: z.string(),
  vsize: z.number().int().positive(),
  confirmations: z.number().int().optional(),
  vin: z.array(z.object({ txid: z.string().optional(), vout: z.number().int().optional(), coinbase: z.string().optional() })),
  vout: z.array(z.object({ value: z.number().nonnegative(), n: z.number().int() })),
});

/** At most this many transactions are read in one walk: far more than a station signs between two passes. */
const MAX_READ = 200_000;

function carried(hex: string, carrier: Carrier): Uint8Array | undefined {
  let script: Uint8Array | undefined;
  try {
    if (carrier === 'flodata') return parseFloTx(Buffer.from(hex, 'hex')).floData;
    script = Transaction.fromHex(hex).outs[0]?.script;
  } catch {
    // a transaction this parser does not read (a segwit FLO funding transaction, a Litecoin MWEB one) is not the station's
    return undefined;
  }
  if (script === undefined || script[0] !== 0x6a || script.length < 2) return undefined;
  const op = script[1] as number;
  if (op >= 1 && op <= 75) return script.slice(2, 2 + op);
  if (op === 0x4c && script.length >= 3) return script.slice(3, 3 + (script[2] as number));
  if (op === 0x4d && script.length >= 4) return script.slice(4, 4 + ((script[2] as number) | ((script[3] as number) << 8)));
  return undefined;
}

/**
 * What a transaction carries for Tallyproof: a records field (OP_RETURN, or floData on a floData chain) or
 * an anchor (always an OP_RETURN, so never looked for in a floData transaction); nothing otherwise.
 */
export function stationPayloadOf(hex: string, carrier: Carrier): Pick<FoundTx, 'records' | 'anchor'> {
  const data = carried(hex, carrier);
  if (data === undefined) return {};
  if (carrier === 'op_return' && data.length === ANCHOR_BYTES) {
    try {
      return { anchor: { payload: data, root: decodeAnchor(data).root } };
    } catch {
      // not an anchor; maybe a records field
    }
  }
  try {
    return { records: { header: decodeRecordsField(data).header, field: data } };
  } catch {
    return {};
  }
}

async function read(client: RpcClient, txid: string, carrier: Carrier): Promise<FoundTx | undefined> {
  let v: z.infer<typeof VerboseTxSchema>;
  try {
    v = await client.call('getrawtransaction', [txid, true], VerboseTxSchema);
  } catch (e) {
    if (e instanceof RpcError && e.kind === 'rpc' && e.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
    throw e;
  }
  return {
    txid,
    hex: v.hex,
    confirmations: v.confirmations ?? 0,
    inputs: v.vin.flatMap((i) => (i.txid === undefined || i.vout === undefined ? [] : [{ txid: i.txid, vout: i.vout }])),
    outputs: [...v.vout].sort((a, b) => a.n - b.n).map((o) => BigInt(Math.round(o.value * 1e8))),
    vsize: v.vsize,
    ...stationPayloadOf(v.hex, carrier),
  };
}

export type AddressScan = Awaited<ReturnType<RpcClient['scanAddress']>>;

/** `scan`: the address's confirmed coins (`scantxoutset`), shared with coin selection so a pass scans once. */
export async function discoverStationTxs(client: RpcClient, address: string, scan: AddressScan, carrier: Carrier, outbox: Outbox, coinRole: Role | undefined): Promise<Discovery> {
  const readTxs = new Map<string, FoundTx>();
  const station = new Map<string, FoundTx>();
  const unknownSpends: string[] = [];
  const queue: string[] = [];
  for (const u of scan.unspents) {
    if (!outbox.isSpentByKnownTx(u.txid, u.vout, coinRole)) {
      const out = await client.call('gettxout', [u.txid, u.vout, true], z.unknown());
      if (out === null) unknownSpends.push(`${u.txid}:${u.vout}`);
    }
    if (outbox.txByid(u.txid) === undefined) queue.push(u.txid);
  }
  while (queue.length > 0) {
    const txid = queue.pop() as string;
    if (readTxs.has(txid)) continue;
    if (readTxs.size >= MAX_READ) throw new PublishError('conflict', `${client.name}: more than ${MAX_READ} transactions at the station's address ${address} to look through; restore the outbox instead`);
    const tx = await read(client, txid, carrier);
    if (tx === undefined) continue;
    readTxs.set(txid, tx);
    // a transaction the outbox holds is read for the values it pays (a found child's fee) but not walked past
    if ((tx.records === undefined && tx.anchor === undefined) || outbox.txByid(txid) !== undefined) continue;
    station.set(txid, tx);
    for (const i of tx.inputs) queue.push(i.txid);
  }
  return { station, read: readTxs, unknownSpends };
}

export type BatchOnChain =
  | { readonly kind: 'none' }
  | { readonly kind: 'complete'; readonly records: readonly FoundTx[]; readonly anchor: FoundTx }
  | { readonly kind: 'partial'; readonly found: readonly string[] };

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What of one batch the chains already hold: records fields naming its checkpoint (the "TPR" prefix) and
 * its anchor (the payload is deterministic from the checkpoint and the fields). Complete means every field
 * byte for byte, once each, and the anchor; anything else found is partial.
 */
export function batchOnChain(records: Discovery | undefined, anchor: Discovery | undefined, checkpointDigest: Uint8Array, fields: readonly Uint8Array[], payload: Uint8Array): BatchOnChain {
  const prefix = checkpointDigest.subarray(0, 16);
  const recs = [...(records?.station.values() ?? [])].filter((t) => t.records !== undefined && same(t.records.header.checkpointPrefix, prefix));
  const ancs = [...(anchor?.station.values() ?? [])].filter((t) => t.anchor !== undefined && same(t.anchor.payload, payload));
  if (recs.length === 0 && ancs.length === 0) return { kind: 'none' };
  const byChunk = fields.map((f, i) => recs.filter((t) => t.records?.header.chunk === i && same(t.records.field, f)));
  const [anc] = ancs;
  if (anc !== undefined && ancs.length === 1 && recs.length === fields.length && byChunk.every((c) => c.length === 1)) {
    return { kind: 'complete', records: byChunk.map((c) => c[0] as FoundTx), anchor: anc };
  }
  return {
    kind: 'partial',
    found: [...recs.map((t) => `records chunk ${String(t.records?.header.chunk)} of ${String(t.records?.header.chunks)} in ${t.txid}`), ...ancs.map((t) => `anchor ${t.txid}`)],
  };
}

/** The fee a found transaction paid: its inputs' values (from the transactions it spends) less its outputs. */
export function feeOf(tx: FoundTx, read: ReadonlyMap<string, FoundTx>): bigint | undefined {
  let inputs = 0n;
  for (const i of tx.inputs) {
    const v = read.get(i.txid)?.outputs[i.vout];
    if (v === undefined) return undefined;
    inputs += v;
  }
  return inputs - tx.outputs.reduce((a, b) => a + b, 0n);
}
