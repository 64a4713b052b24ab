import type { ChainsConfig } from './chains-config';
import { PublishError } from './errors';
import { PublicationSchema } from '../formats/publication-formats';
import type { CarriedBlock, Publication } from '../formats/publication-formats';
import type { Outbox, TxRow } from './outbox';
import type { RpcClient } from './rpc';

/**
 * The publication file of one batch (formats.ts PublicationSchema): its records transactions and its anchor
 * with the blocks holding them (80-byte header, height, every txid) and the headers after them up to the
 * profile's confirmation depth, and each chain's genesis hash, so an auditor verifies with no node.
 *
 * Per chain, `blocks` are the distinct blocks holding the transactions (by height) and `headersAfter` every
 * other header from just above the first of them up to the last one's depth: the carried blocks and
 * headers form one unbroken run of the chain.
 */
export interface PublicationSources {
  readonly outbox: Outbox;
  readonly chains: ChainsConfig;
  readonly records: RpcClient;
  readonly anchor: RpcClient;
}

export async function carry(client: RpcClient, txs: readonly TxRow[], depth: number): Promise<{ blocks: CarriedBlock[]; headersAfter: { height: number; header: string }[]; genesisHash: string }> {
  const hashes = [...new Set(txs.map((t) => t.blockHash as string))];
  const blocks: CarriedBlock[] = [];
  for (const hash of hashes) {
    const b = await client.getBlock(hash);
    if (b.confirmations < 1) throw new PublishError('conflict', `block ${hash} is no longer on ${client.name}'s active chain`);
    blocks.push({ hash, height: b.height, header: await client.getBlockHeaderHex(hash), txids: b.tx });
  }
  blocks.sort((a, b) => a.height - b.height);
  const first = (blocks[0] as CarriedBlock).height;
  const last = (blocks[blocks.length - 1] as CarriedBlock).height;
  const carried = new Set(blocks.map((b) => b.height));
  const headersAfter: { height: number; header: string }[] = [];
  for (let h = first + 1; h <= last + depth - 1; h++) {
    if (carried.has(h)) continue;
    headersAfter.push({ height: h, header: await client.getBlockHeaderHex(await client.getBlockHash(h)) });
  }
  return { blocks, headersAfter, genesisHash: await client.getBlockHash(0) };
}

export async function publicationFor(src: PublicationSources, batch: number): Promise<Publication> {
  const b = src.outbox.batch(batch);
  if (b === undefined) throw new PublishError('conflict', `batch ${batch} is not in the outbox`);
  const records = src.outbox.txsOf(batch, 'records');
  const anchor = src.outbox.txsOf(batch, 'anchor')[0];
  if (anchor === undefined || records.length !== b.fields) throw new PublishError('conflict', `batch ${batch}: the outbox lacks transactions`);
  for (const t of [...records, anchor]) {
    if (t.state !== 'confirmed' || t.blockHash === null) throw new PublishError('conflict', `batch ${batch}: ${t.role} transaction ${t.txid} is ${t.state}, not confirmed`);
  }
  const { chains } = src;
  const rec = await carry(src.records, records, chains.records.confirmations);
  const anc = await carry(src.anchor, [anchor], chains.anchor.confirmations);
  const pub: Publication = {
    format: 'tallyproof-publication/1',
    batch,
    checkpointDigest: b.checkpointDigest,
    records: {
      chain: chains.records.name,
      network: chains.records.network,
      genesisHash: rec.genesisHash,
      blocks: rec.blocks,
      headersAfter: rec.headersAfter,
      carrier: chains.records.carrier,
      txs: records.map((t) => ({ txid: t.txid, hex: t.hex, blockHash: t.blockHash as string, chunk: t.chunk as number })),
    },
    anchor: {
      chain: chains.anchor.name,
      network: chains.anchor.network,
      genesisHash: anc.genesisHash,
      blocks: anc.blocks,
      headersAfter: anc.headersAfter,
      tx: { txid: anchor.txid, hex: anchor.hex, blockHash: anchor.blockHash as string },
      confirmations: 1 + anc.headersAfter.length,
    },
  };
  return PublicationSchema.parse(pub);
}
