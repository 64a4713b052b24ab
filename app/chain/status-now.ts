import fs from 'node:fs';
import { z } from 'zod';
import type { LedgerMode } from '../ledger/record';
import type { ChainsConfig } from './chains-config';
import { checkNodeNetwork } from './chains-config';
import { RpcError } from './errors';
import { publishLayout } from './layout';
import { Outbox } from './outbox';
import type { BatchStatus, ChainLook, Role, TxState } from './outbox';
import { RpcClient } from './rpc';

/**
 * `publish --status`: the outbox's state per batch is only what the last pass saw, and a reorg since then
 * is invisible in it. So the status says when each chain was last looked at, and with `--chains` it looks
 * now: every sent transaction is located on its node (read only: nothing is written, signed or sent) and
 * each batch gets the state the chains show now, with what differs from the outbox.
 */

export type NowState = 'signed' | 'broadcast' | 'mined' | 'confirmed' | 'published' | 'missing' | 'unknown';

export interface BatchNow {
  /** what the chains show now; `published` only if the outbox published it and every tx is still where the publication says */
  readonly state: NowState;
  /** each way the chains differ from the outbox, e.g. "anchor <txid>: was in block <hash> at 812, now back in the mempool" */
  readonly differs: readonly string[];
}

export interface PublishStatusReport {
  readonly mode: LedgerMode;
  /** when a publish pass last looked at each chain (null: never, e.g. a station that only signs offline) */
  readonly lastLooked: { readonly records: ChainLook | null; readonly anchor: ChainLook | null };
  /** set when this status looked at the chains itself (--chains with rpc sections) */
  readonly lookedNow: { readonly at: string; readonly records: ChainLook | { error: string } | null; readonly anchor: ChainLook | { error: string } | null } | null;
  readonly batches: readonly (BatchStatus & { readonly now?: BatchNow })[];
  readonly note: string;
}

const HeaderSchema = z.object({ height: z.number().int(), confirmations: z.number().int() });

type Where = { where: 'block'; hash: string; height: number; confirmations: number } | { where: 'mempool' } | { where: 'unknown' };

async function locate(client: RpcClient, txid: string): Promise<Where> {
  const raw = await client.getRawTransaction(txid);
  if (raw === undefined) return { where: 'unknown' };
  if (raw.blockhash === undefined) return { where: 'mempool' };
  const h = await client.call('getblockheader', [raw.blockhash, true], HeaderSchema);
  // a block the node disconnected (found through -txindex) has no confirmations: not on the active chain
  if (h.confirmations < 1) return { where: 'unknown' };
  return { where: 'block', hash: raw.blockhash, height: h.height, confirmations: h.confirmations };
}

const ORDER: readonly NowState[] = ['missing', 'signed', 'broadcast', 'mined', 'confirmed'];

export async function publishStatusReport(dataDir: string, mode: LedgerMode, chains?: ChainsConfig): Promise<PublishStatusReport> {
  const layout = publishLayout(dataDir, mode);
  if (!fs.existsSync(layout.outbox)) {
    return { mode, lastLooked: { records: null, anchor: null }, lookedNow: null, batches: [], note: `no outbox at ${layout.outbox}: nothing signed yet` };
  }
  const outbox = Outbox.open(layout.outbox, mode);
  try {
    const lastLooked = { records: outbox.lastLooked('records'), anchor: outbox.lastLooked('anchor') };
    const status = outbox.status();
    const clients: Partial<Record<Role, RpcClient>> = {};
    let lookedNow: PublishStatusReport['lookedNow'] = null;
    if (chains !== undefined && (chains.records.rpc !== undefined || chains.anchor.rpc !== undefined)) {
      const now: { records: ChainLook | { error: string } | null; anchor: ChainLook | { error: string } | null } = { records: null, anchor: null };
      for (const role of ['records', 'anchor'] as const) {
        const profile = chains[role];
        if (profile.rpc === undefined) continue;
        const client = new RpcClient({ name: `${role}:${profile.name}`, ...profile.rpc });
        try {
          const info = await client.getBlockchainInfo();
          checkNodeNetwork(role, profile, info.chain, await client.getBlockHash(0));
          clients[role] = client;
          now[role] = { at: new Date().toISOString(), tip: info.blocks, node: `${client.name} ${client.displayUrl}` };
        } catch (e) {
          now[role] = { error: e instanceof Error ? e.message : String(e) };
        }
      }
      lookedNow = { at: new Date().toISOString(), ...now };
    }
    const batches: (BatchStatus & { now?: BatchNow })[] = [];
    for (const s of status) {
      if (lookedNow === null) {
        batches.push(s);
        continue;
      }
      const differs: string[] = [];
      const states: NowState[] = [];
      const txs: { role: Role; txid: string; state: TxState; block: string | null; height: number | null; chunk?: number }[] = [
        ...s.recordsTxs.map((t) => ({ role: 'records' as const, ...t })),
        ...(s.anchor === null ? [] : [{ role: 'anchor' as const, txid: s.anchor.txid, state: s.anchor.state, block: s.anchor.block, height: s.anchor.height }]),
      ];
      let unknown = false;
      for (const t of txs) {
        const client = clients[t.role];
        const what = `${t.role}${t.chunk === undefined ? '' : ` chunk ${t.chunk}`} ${t.txid}`;
        if (t.state === 'signed') {
          states.push('signed');
          continue;
        }
        if (client === undefined) {
          unknown = true;
          continue;
        }
        let at: Where;
        try {
          at = await locate(client, t.txid);
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
          unknown = true;
          differs.push(`${what}: could not be looked up: ${e.message}`);
          continue;
        }
        const depth = chains?.[t.role].confirmations ?? 1;
        const nowState: NowState = at.where === 'block' ? (at.confirmations >= depth ? 'confirmed' : 'mined') : at.where === 'mempool' ? 'broadcast' : 'missing';
        states.push(nowState);
        const was = t.block === null ? `outbox: ${t.state}` : `was in block ${t.block} at ${String(t.height)}`;
        if (at.where === 'block' && t.block !== null && at.hash !== t.block) differs.push(`${what}: ${was}, now in block ${at.hash} at ${at.height}`);
        else if (at.where !== 'block' && t.block !== null) differs.push(`${what}: ${was}, now ${at.where === 'mempool' ? 'back in the mempool' : 'on neither the chain nor the node'}`);
        else if (at.where === 'block' && t.block === null) differs.push(`${what}: ${was}, now in block ${at.hash} at ${at.height}`);
        else if (at.where === 'unknown') differs.push(`${what}: ${was}, now unknown to the node`);
      }
      const least = states.reduce<NowState>((m, x) => (ORDER.indexOf(x) < ORDER.indexOf(m) ? x : m), 'confirmed');
      const state: NowState = unknown ? 'unknown' : s.state === 'published' && least === 'confirmed' && differs.length === 0 ? 'published' : least;
      batches.push({ ...s, now: { state, differs } });
    }
    const look = (l: ChainLook | null): string => (l === null ? 'never' : `${l.at} (height ${l.tip})`);
    const note =
      lookedNow === null
        ? `states as the outbox last saw them: records chain looked at ${look(lastLooked.records)}, anchor chain ${look(lastLooked.anchor)}; a reorg since then is not shown: give --chains to look now`
        : `'now' is what the chains show at ${lookedNow.at}; 'state' is the outbox's, as of the last publish pass (records chain ${look(lastLooked.records)}, anchor chain ${look(lastLooked.anchor)}); run publish to act on any difference`;
    return { mode, lastLooked, lookedNow, batches, note };
  } finally {
    outbox.close();
  }
}
