import { z } from 'zod';
import type { Publication } from '../formats/publication-formats';
import { auditNode } from './audit-rpc';
import type { Findings, LoadedBatch, NotChecked, Pass } from './report';
import { errMsg } from './report';

/**
 * Step 7 of `audit verify`: each published transaction against the nodes given with --rpc; without one,
 * nothing ties the carried headers to the real chain, and the report says so.
 */

/** 7. Against the nodes given, or a `chain` entry in notChecked naming the chains when none is. */
export async function checkChains(rpc: readonly string[] | undefined, batches: readonly LoadedBatch[], { pass, fail, notChecked }: Findings): Promise<void> {
  const published = batches.filter((lb) => lb.publication !== undefined);
  if (rpc !== undefined && rpc.length > 0) await checkNodes(rpc, batches, pass, fail, notChecked);
  else if (published.length > 0) {
    const chains = [...new Set(published.flatMap((lb) => [`${(lb.publication as Publication).records.chain} (${(lb.publication as Publication).records.network})`, `${(lb.publication as Publication).anchor.chain} (${(lb.publication as Publication).anchor.network})`]))];
    notChecked.push({
      what: 'chain',
      detail:
        `chain not checked: give --rpc <url> for each chain (${chains.join(', ')}). Offline, the carried headers are checked only to link and to meet their own difficulty bits (nBits), ` +
        `which a private chain can meet too; whether these blocks are on the network's best chain, and still there (no reorg since the export), only a node can say`,
    });
  }
}

const HeaderVerboseSchema = z.object({ hash: z.string(), height: z.number(), confirmations: z.number() });

async function checkNodes(urls: readonly string[], batches: readonly LoadedBatch[], pass: Pass, fail: Pass, notChecked: NotChecked[]): Promise<void> {
  const nodes: { url: string; genesis: string; node: ReturnType<typeof auditNode> }[] = [];
  for (const u of urls) {
    try {
      const node = auditNode(u);
      const genesis = await node.call('getblockhash', [0], z.string());
      nodes.push({ url: node.url, genesis, node });
    } catch (e) {
      fail('rpc', errMsg(e));
    }
  }
  if (nodes.length === 0) return;
  for (const lb of batches) {
    const pub = lb.publication;
    if (pub === undefined) continue;
    const b = lb.checkpoint.batch;
    const parts: { part: string; chain: Publication['anchor'] | Publication['records']; txs: { txid: string; hex: string; blockHash: string }[]; minConf: number }[] = [
      { part: 'records', chain: pub.records, txs: pub.records.txs, minConf: 1 },
      { part: 'anchor', chain: pub.anchor, txs: [pub.anchor.tx], minConf: pub.anchor.confirmations },
    ];
    for (const p of parts) {
      const candidates = nodes.filter((n) => n.genesis === p.chain.genesisHash);
      if (candidates.length === 0) {
        notChecked.push({ what: 'chain', batch: b, detail: `${p.part} chain ${p.chain.chain} (${p.chain.network}) not checked: no --rpc node has its genesis ${p.chain.genesisHash}` });
        continue;
      }
      const answers: string[] = [];
      let confirmed = false;
      for (const n of candidates) {
        try {
          for (const t of p.txs) {
            const blk = p.chain.blocks.find((x) => x.hash === t.blockHash);
            if (blk === undefined) throw new Error(`no carried block ${t.blockHash}`);
            const atHeight = await n.node.call('getblockhash', [blk.height], z.string());
            if (atHeight !== blk.hash) throw new Error(`its best chain has ${atHeight} at height ${blk.height}, the bundle says ${blk.hash}`);
            const header = await n.node.call('getblockheader', [blk.hash, false], z.string());
            if (header !== blk.header) throw new Error(`block ${blk.hash}: its header differs from the bundle's`);
            const info = await n.node.call('getblockheader', [blk.hash, true], HeaderVerboseSchema);
            if (info.confirmations < p.minConf) throw new Error(`block ${blk.hash} has ${info.confirmations} confirmations, ${p.minConf} required`);
            const raw = await n.node.call('getrawtransaction', [t.txid, false, blk.hash], z.string());
            if (raw !== t.hex) throw new Error(`transaction ${t.txid}: the node's bytes differ from the bundle's`);
          }
          confirmed = true;
          pass('rpc', `${p.part} chain: node ${n.url} has the ${p.txs.length} transaction(s) in its best chain at the stated heights`, { batch: b });
          break;
        } catch (e) {
          answers.push(`node ${n.url}: ${errMsg(e)}`);
        }
      }
      if (!confirmed) fail('rpc', `${p.part} chain ${p.chain.chain}: ${answers.join('; ')}`, { batch: b });
    }
  }
}
