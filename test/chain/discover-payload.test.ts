import { NETWORKS } from '../../ballots/identity/networks';
import { stationPayloadOf } from '../../app/chain/discover';
import { ANCHOR_BYTES, encodeAnchor, encodeRecordsField } from '../../app/formats/publication-formats';
import { SEQUENCE_FINAL, SEQUENCE_RBF, buildDataTx } from '../../app/chain/tx-build';
import type { ChainSigner, Carrier } from '../../app/chain/tx-build';
import { stationKeys } from './helpers';

/*
 * How a lost outbox's transactions are recognised on chain (discover.ts): a records field rides the records
 * chain's carrier (OP_RETURN or floData), an anchor is always a 68-byte "TPA" OP_RETURN; anything else,
 * including transactions the parser cannot read, is not the station's. Offline: transactions signed here.
 */
const { wallet } = stationKeys(81);
const coin = { txid: '11'.repeat(32), vout: 0, value: 10_000_000n };
const op: ChainSigner = { network: NETWORKS['litecoin-regtest'], addressType: 'p2wpkh', wallet };
const flo: ChainSigner = { network: NETWORKS['florincoin-regtest'], addressType: 'p2pkh', wallet };
const digest = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const field = encodeRecordsField(digest, 2, 5, Uint8Array.of(1, 9, 9, 9));
const anchor = encodeAnchor(new Uint8Array(32).fill(7), new Uint8Array(32).fill(8));
const tx = (s: ChainSigner, carrier: Carrier, data: Uint8Array, sequence = SEQUENCE_FINAL): string => buildDataTx(s, { inputs: [coin], data, carrier, feeRate: 1, sequence }).hex;

test('records fields in OP_RETURN and in floData are found with their chunk and checkpoint prefix', () => {
  for (const [s, carrier] of [
    [op, 'op_return'],
    [flo, 'flodata'],
  ] as const) {
    const found = stationPayloadOf(tx(s, carrier, field), carrier);
    expect(found.anchor).toBeUndefined();
    expect(found.records?.header.chunk).toBe(2);
    expect(found.records?.header.chunks).toBe(5);
    expect(Buffer.from(found.records?.header.checkpointPrefix ?? []).toString('hex')).toBe(Buffer.from(digest.subarray(0, 16)).toString('hex'));
    expect(Buffer.from(found.records?.field ?? []).equals(Buffer.from(field))).toBe(true);
  }
});

test('an anchor OP_RETURN is found with its root; an anchor-shaped floData is not an anchor', () => {
  const found = stationPayloadOf(tx(op, 'op_return', anchor, SEQUENCE_RBF), 'op_return');
  expect(found.records).toBeUndefined();
  expect(Buffer.from(found.anchor?.root ?? []).equals(Buffer.alloc(32, 7))).toBe(true);
  expect(found.anchor?.payload.length).toBe(ANCHOR_BYTES);
  expect(stationPayloadOf(tx(flo, 'flodata', anchor), 'flodata')).toEqual({});
});

test('other transactions are not the station\'s: other data, a 68-byte non-anchor, a floData tx read as OP_RETURN, bytes no parser reads', () => {
  expect(stationPayloadOf(tx(op, 'op_return', Buffer.from('hello, world')), 'op_return')).toEqual({});
  expect(stationPayloadOf(tx(op, 'op_return', new Uint8Array(ANCHOR_BYTES).fill(0x54)), 'op_return')).toEqual({});
  expect(stationPayloadOf(tx(flo, 'flodata', field), 'op_return')).toEqual({});
  expect(stationPayloadOf('0100', 'op_return')).toEqual({});
  expect(stationPayloadOf('0100', 'flodata')).toEqual({});
});
