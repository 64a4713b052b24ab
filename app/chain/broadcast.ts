import fs from 'node:fs';
import type { ChainsConfig } from './chains-config';
import { checkNodeNetwork } from './chains-config';
import { PublishError, RpcError } from './errors';
import { SignedFileSchema } from './publish';
import { RPC_VERIFY_ALREADY_IN_CHAIN, RpcClient } from './rpc';

/**
 * Broadcasting a signed file (`<data>/publish/signed/batch-<N>.json`) from any machine with node access:
 * no station key, no ledger, no outbox. Records go first, in chunk order, then the anchor; a transaction
 * the node already has is not sent again. The station's own next online pass then finds them all on the
 * nodes and records them as broadcast.
 */
export interface BroadcastResult {
  readonly role: 'records' | 'anchor';
  readonly txid: string;
  readonly outcome: 'sent' | 'already-known';
}

export async function broadcastSignedFile(file: string, chains: ChainsConfig): Promise<BroadcastResult[]> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PublishError('input', `${file}: cannot read the signed file: ${(e as Error).message}`);
  }
  const parsed = SignedFileSchema.safeParse(json);
  if (!parsed.success) throw new PublishError('input', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  const signed = parsed.data;
  return broadcastTxs(
    [
      { role: 'records', network: signed.records.network, txs: [...signed.records.txs].sort((a, b) => a.chunk - b.chunk) },
      { role: 'anchor', network: signed.anchor.network, txs: [{ txid: signed.anchor.txid, hex: signed.anchor.hex }] },
    ],
    chains,
    file,
  );
}

/** Transactions of one role, in the order they must be sent (a records chain spends its own change). */
export interface BroadcastGroup {
  readonly role: 'records' | 'anchor';
  readonly network: string;
  readonly txs: readonly { readonly txid: string; readonly hex: string }[];
}

/**
 * Sends each group to its role's node, in order: the node's network must be the group's, and a
 * transaction the node already has is not sent again. `source` names where the transactions came from.
 */
export async function broadcastTxs(groups: readonly BroadcastGroup[], chains: ChainsConfig, source: string): Promise<BroadcastResult[]> {
  const out: BroadcastResult[] = [];
  const plan = groups.filter((g) => g.txs.length > 0).map((g) => ({ ...g, profile: chains[g.role] }));
  for (const p of plan) {
    if (p.network !== p.profile.network) throw new PublishError('mode', `${source}: the ${p.role} transactions are for ${p.network}, the ${p.role} profile "${p.profile.name}" is ${p.profile.network}`);
  }
  for (const p of plan) {
    if (p.profile.rpc === undefined) throw new PublishError('input', `the ${p.role} profile "${p.profile.name}" has no rpc endpoint to broadcast to`);
    const client = new RpcClient({ name: `${p.role}:${p.profile.name}`, ...p.profile.rpc });
    const info = await client.getBlockchainInfo();
    checkNodeNetwork(p.role, p.profile, info.chain, await client.getBlockHash(0));
    for (const t of p.txs) {
      if ((await client.getRawTransaction(t.txid)) !== undefined) {
        out.push({ role: p.role, txid: t.txid, outcome: 'already-known' });
        continue;
      }
      try {
        await client.sendRawTransaction(t.hex);
        out.push({ role: p.role, txid: t.txid, outcome: 'sent' });
      } catch (e) {
        if (e instanceof RpcError && e.kind === 'rpc' && (e.code === RPC_VERIFY_ALREADY_IN_CHAIN || /already/.test(e.message))) {
          out.push({ role: p.role, txid: t.txid, outcome: 'already-known' });
          continue;
        }
        throw e;
      }
    }
  }
  return out;
}
