import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseTx } from '../../app/formats/raw-tx';
import { blockMerkleRoot, displayFromInternal, sha256d } from '../../app/formats/block-proof';
import { completeBundle } from '../../app/chain/bundle-complete';
import type { CarriedBlock, Publication } from '../../app/formats/publication-formats';
import { RECORDS_HEADER_BYTES, anchorCommitment, encodeAnchor, encodeRecordsField, recordsDigest } from '../../app/formats/publication-formats';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { packRecords } from '../../app/ledger/record-pack';
import { mineHeader } from './regtest-header';

/*
 * Completes an exported bundle with publications whose blocks are mined here at Bitcoin regtest difficulty
 * and whose transactions are built byte by byte, as audit-offline.test.ts does: `audit verify` then has a
 * whole, checkable chain of evidence with no node.
 */

const BITCOIN_REGTEST_GENESIS = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

function push(data: Uint8Array): Buffer {
  if (data.length <= 75) return Buffer.concat([Buffer.from([data.length]), data]);
  if (data.length <= 255) return Buffer.concat([Buffer.from([0x4c, data.length]), data]);
  return Buffer.concat([Buffer.from([0x4d, data.length & 0xff, data.length >> 8]), data]);
}

function compact(n: number): Buffer {
  return n < 0xfd ? Buffer.from([n]) : Buffer.from([0xfd, n & 0xff, n >> 8]);
}

/** One input, an OP_RETURN carrying `data`, a change output; segwit with a dummy witness. */
function dataTx(data: Uint8Array): { txid: string; hex: string } {
  const script = Buffer.concat([Buffer.from([0x6a]), push(data)]);
  const opReturn = Buffer.concat([Buffer.alloc(8), compact(script.length), script]);
  const change = Buffer.concat([Buffer.from('a086010000000000', 'hex'), Buffer.from([22, 0x00, 0x14]), crypto.randomBytes(20)]);
  const input = Buffer.concat([crypto.randomBytes(32), Buffer.alloc(4), Buffer.from([0]), Buffer.from('fdffffff', 'hex')]);
  const witness = Buffer.concat([Buffer.from([2, 71]), crypto.randomBytes(71), Buffer.from([33]), crypto.randomBytes(33)]);
  const hex = Buffer.concat([Buffer.from('020000000001', 'hex'), Buffer.from([1]), input, Buffer.from([2]), opReturn, change, witness, Buffer.alloc(4)]).toString('hex');
  return { txid: parseTx(hex, { floData: false }).txid, hex };
}

/** A chain from height `from`: first a block holding `txs` (after a coinbase stand-in), then `after` empty blocks. */
function minedChain(from: number, txs: readonly string[], after: number): { block: CarriedBlock; headersAfter: { height: number; header: string }[] } {
  let prev: Uint8Array = crypto.randomBytes(32);
  const txids = [displayFromInternal(crypto.randomBytes(32)), ...txs];
  const header = mineHeader(prev, blockMerkleRoot(txids.map((t) => Buffer.from(t, 'hex').reverse())), 1_700_000_000);
  prev = sha256d(header);
  const block: CarriedBlock = { hash: displayFromInternal(prev), height: from, header: header.toString('hex'), txids };
  const headersAfter: { height: number; header: string }[] = [];
  for (let i = 1; i <= after; i++) {
    const h = mineHeader(prev, crypto.randomBytes(32), 1_700_000_000 + i);
    prev = sha256d(h);
    headersAfter.push({ height: from + i, header: h.toString('hex') });
  }
  return { block, headersAfter };
}

/** Publishes every non-empty batch of the bundle on made-up regtest chains and completes the bundle. */
export function publishOffline(bundle: string): ReturnType<typeof completeBundle> {
  const cps = JSON.parse(fs.readFileSync(path.join(bundle, 'checkpoints.json'), 'utf8')) as { batch: number; file: string; root: string }[];
  const pubs: Publication[] = [];
  for (const cp of cps) {
    const b = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', `batch-${String(cp.batch).padStart(6, '0')}.json`), 'utf8')) as { records: { record: string }[] };
    if (b.records.length === 0) continue;
    const digest = checkpointDigest(fs.readFileSync(path.join(bundle, cp.file), 'utf8'));
    const packs = packRecords(
      b.records.map((r) => Buffer.from(r.record, 'hex')),
      180 - RECORDS_HEADER_BYTES,
    );
    const fields = packs.map((p, i) => encodeRecordsField(digest, i, packs.length, p));
    const recTxs = fields.map(dataTx);
    const anchor = dataTx(encodeAnchor(Buffer.from(cp.root, 'hex'), anchorCommitment(digest, recordsDigest(fields))));
    const rc = minedChain(500 + cp.batch * 10, recTxs.map((t) => t.txid), 1);
    const ac = minedChain(200 + cp.batch * 10, [anchor.txid], 5);
    const common = { network: 'bitcoin-regtest', genesisHash: BITCOIN_REGTEST_GENESIS };
    pubs.push({
      format: 'tallyproof-publication/1',
      batch: cp.batch,
      checkpointDigest: Buffer.from(digest).toString('hex'),
      records: { chain: 'btc-records', ...common, blocks: [rc.block], headersAfter: rc.headersAfter, carrier: 'op_return', txs: recTxs.map((t, i) => ({ ...t, blockHash: rc.block.hash, chunk: i })) },
      anchor: { chain: 'btc-anchor', ...common, blocks: [ac.block], headersAfter: ac.headersAfter, tx: { ...anchor, blockHash: ac.block.hash }, confirmations: 6 },
    });
  }
  return completeBundle(bundle, pubs);
}
