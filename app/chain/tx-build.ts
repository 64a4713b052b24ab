import { Psbt, Transaction, payments } from 'bitcoinjs-lib';
import type { NetworkParams } from '../../ballots/identity/networks';
import { PublishError } from './errors';
import { floTxid, serializeFloTx, signFloP2pkh } from './flo-tx';
import type { FloTx } from './flo-tx';
import type { AddressType, StationWallet } from './station-wallet';

/**
 * Builds and signs the station's transactions locally, with no node: the records transactions (one per
 * records field, each spending the previous one's change, so a batch needs one funding coin) and the anchor
 * (one OP_RETURN per checkpoint, replaceable). OP_RETURN transactions go through bitcoinjs-lib's PSBT
 * (P2WPKH inputs); floData transactions through flo-tx.ts (P2PKH inputs).
 *
 * Fees: the size is computed from the unsigned transaction plus the largest signature a low-S ECDSA
 * signer can make, so one signing pass gives a fee that meets the rate even for the longest signature.
 */
export type Carrier = 'flodata' | 'op_return';

export interface Coin {
  /** RPC display order */
  readonly txid: string;
  readonly vout: number;
  readonly value: bigint;
}

export interface ExtraOutput {
  readonly script: Uint8Array;
  readonly value: bigint;
}

export interface SignedTx {
  readonly txid: string;
  readonly hex: string;
  readonly vsize: number;
  readonly fee: bigint;
  /** sat/vB actually paid (fee / the upper-bound size) */
  readonly feeRate: number;
  /** the station's change output, spendable by the next transaction */
  readonly change: Coin;
}

export interface ChainSigner {
  readonly network: NetworkParams;
  readonly addressType: AddressType;
  readonly wallet: StationWallet;
}

/** Outputs below this are non-standard dust on Bitcoin-family nodes. */
export const DUST_LIMIT = 546n;
/** nSequence that signals replaceability (BIP 125) */
export const SEQUENCE_RBF = 0xfffffffd;
export const SEQUENCE_FINAL = 0xffffffff;

// DER signature ≤ 72 bytes with low S (no low-R grinding), + 1 sighash byte
const MAX_SIG = 73;
const P2WPKH_WITNESS_MAX = 1 + 1 + MAX_SIG + 1 + 33;
const P2PKH_SCRIPTSIG_MAX = 1 + MAX_SIG + 1 + 33;

export function opReturnScript(data: Uint8Array): Uint8Array {
  return payments.embed({ data: [data] }).output as Uint8Array;
}

function ensureSupported(s: ChainSigner, carrier: Carrier): void {
  if (carrier === 'flodata' && s.addressType !== 'p2pkh') throw new PublishError('input', 'floData transactions are signed from a p2pkh address');
  if (carrier === 'op_return' && s.addressType !== 'p2wpkh') throw new PublishError('input', 'OP_RETURN transactions are signed from a p2wpkh address');
}

/** Upper bound of the virtual size once signed. */
function vsizeUpperBound(carrier: Carrier, inputs: readonly Coin[], outputs: readonly ExtraOutput[], floData: Uint8Array, sequence: number): number {
  if (carrier === 'flodata') {
    const tx: FloTx = {
      version: 2,
      inputs: inputs.map((c) => ({ txid: c.txid, vout: c.vout, script: new Uint8Array(P2PKH_SCRIPTSIG_MAX), sequence })),
      outputs: outputs.map((o) => ({ value: o.value, script: o.script })),
      locktime: 0,
      floData,
    };
    return serializeFloTx(tx).length;
  }
  const tx = new Transaction();
  tx.version = 2;
  for (const c of inputs) tx.addInput(Uint8Array.from(Buffer.from(c.txid, 'hex').reverse()), c.vout, sequence);
  for (const o of outputs) tx.addOutput(o.script, o.value);
  const base = tx.byteLength(false);
  return Math.ceil((base * 4 + 2 + P2WPKH_WITNESS_MAX * inputs.length) / 4);
}

export interface DataTxPlan {
  readonly inputs: readonly Coin[];
  /** OP_RETURN payload (op_return carrier) or floData (flodata carrier) */
  readonly data: Uint8Array;
  readonly carrier: Carrier;
  readonly extraOutputs?: readonly ExtraOutput[];
  /** sat/vB */
  readonly feeRate: number;
  readonly sequence: number;
}

export function feeFor(vsize: number, feeRate: number): bigint {
  return BigInt(Math.ceil(vsize * feeRate));
}

/** What the transaction will cost in fee and outputs other than change. */
export function planCost(s: ChainSigner, plan: DataTxPlan): { fee: bigint; vsize: number; extras: bigint } {
  const change = s.wallet.outputScript(s.network, s.addressType);
  const outs = outputsOf(plan, change, 0n);
  const vsize = vsizeUpperBound(plan.carrier, plan.inputs, outs, plan.carrier === 'flodata' ? plan.data : new Uint8Array(0), plan.sequence);
  const extras = (plan.extraOutputs ?? []).reduce((a, o) => a + o.value, 0n);
  return { fee: feeFor(vsize, plan.feeRate), vsize, extras };
}

function outputsOf(plan: DataTxPlan, changeScript: Uint8Array, changeValue: bigint): ExtraOutput[] {
  const outs: ExtraOutput[] = [];
  if (plan.carrier === 'op_return') outs.push({ script: opReturnScript(plan.data), value: 0n });
  outs.push(...(plan.extraOutputs ?? []));
  outs.push({ script: changeScript, value: changeValue });
  return outs;
}

/** One signed data transaction: the data, any extra outputs, and the rest back to the station as change. */
export function buildDataTx(s: ChainSigner, plan: DataTxPlan): SignedTx {
  ensureSupported(s, plan.carrier);
  if (plan.inputs.length === 0) throw new PublishError('input', 'a transaction needs at least one input');
  const changeScript = s.wallet.outputScript(s.network, s.addressType);
  const { fee, vsize, extras } = planCost(s, plan);
  const total = plan.inputs.reduce((a, c) => a + c.value, 0n);
  const changeValue = total - fee - extras;
  if (changeValue < DUST_LIMIT) {
    throw new PublishError('funds', `not enough coins: inputs hold ${total} sat, the transaction needs ${fee + extras + DUST_LIMIT} sat (fee ${fee} at ${plan.feeRate} sat/vB, outputs ${extras}, change ≥ ${DUST_LIMIT})`);
  }
  const outputs = outputsOf(plan, changeScript, changeValue);
  const changeIndex = outputs.length - 1;
  let txid: string;
  let hex: string;
  if (plan.carrier === 'flodata') {
    const tx = signFloP2pkh(
      {
        version: 2,
        inputs: plan.inputs.map((c) => ({ txid: c.txid, vout: c.vout, script: new Uint8Array(0), sequence: plan.sequence })),
        outputs: outputs.map((o) => ({ value: o.value, script: o.script })),
        locktime: 0,
        floData: plan.data,
      },
      changeScript,
      s.wallet.signer,
    );
    txid = floTxid(tx);
    hex = Buffer.from(serializeFloTx(tx)).toString('hex');
  } else {
    const psbt = new Psbt({ network: s.network });
    psbt.setVersion(2);
    for (const c of plan.inputs) psbt.addInput({ hash: c.txid, index: c.vout, sequence: plan.sequence, witnessUtxo: { script: changeScript, value: c.value } });
    for (const o of outputs) psbt.addOutput({ script: o.script, value: o.value });
    psbt.signAllInputs(s.wallet.signer);
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction();
    txid = tx.getId();
    hex = tx.toHex();
  }
  return { txid, hex, vsize, fee, feeRate: Number(fee) / vsize, change: { txid, vout: changeIndex, value: changeValue } };
}

export interface RecordsChainPlan {
  readonly funding: Coin;
  readonly fields: readonly Uint8Array[];
  readonly carrier: Carrier;
  readonly feeRate: number;
  /** extra outputs of each field's transaction (dust to ballot addresses), by field */
  readonly extraOutputs?: readonly (readonly ExtraOutput[])[];
}

/** Sat the whole chain needs from its funding coin (fees, extra outputs, the last change). */
export function recordsChainCost(s: ChainSigner, plan: Omit<RecordsChainPlan, 'funding'>): bigint {
  const dummy: Coin = { txid: '00'.repeat(32), vout: 0, value: 0n };
  let sum = DUST_LIMIT;
  plan.fields.forEach((data, i) => {
    const c = planCost(s, { inputs: [dummy], data, carrier: plan.carrier, extraOutputs: plan.extraOutputs?.[i] ?? [], feeRate: plan.feeRate, sequence: SEQUENCE_FINAL });
    sum += c.fee + c.extras;
  });
  return sum;
}

/** One transaction per field, each spending the previous one's change: one funding coin for the batch. */
export function buildRecordsChain(s: ChainSigner, plan: RecordsChainPlan): SignedTx[] {
  const need = recordsChainCost(s, plan);
  if (plan.funding.value < need) {
    throw new PublishError('funds', `not enough coins: the ${plan.fields.length} records transactions need ${need} sat at ${plan.feeRate} sat/vB, the funding coin ${plan.funding.txid}:${plan.funding.vout} holds ${plan.funding.value} sat`);
  }
  const out: SignedTx[] = [];
  let input = plan.funding;
  plan.fields.forEach((data, i) => {
    const tx = buildDataTx(s, { inputs: [input], data, carrier: plan.carrier, extraOutputs: plan.extraOutputs?.[i] ?? [], feeRate: plan.feeRate, sequence: SEQUENCE_FINAL });
    out.push(tx);
    input = tx.change;
  });
  return out;
}

/** The anchor: one OP_RETURN, RBF-signalling so it can be replaced at a higher rate. */
export function buildAnchorTx(s: ChainSigner, inputs: readonly Coin[], payload: Uint8Array, feeRate: number): SignedTx {
  return buildDataTx(s, { inputs, data: payload, carrier: 'op_return', feeRate, sequence: SEQUENCE_RBF });
}
