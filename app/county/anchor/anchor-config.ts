import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AnchorProfileSchema, type AnchorProfile } from '../../chain/chains-config';
import { PublishError } from '../../chain/errors';
import { walletFromSecret, type StationWallet } from '../../chain/station-wallet';
import { anchorSecretFrom } from './county-anchor';

/**
 * The `anchor` section of the county log's settings (tallyproof-county-log/1):
 *
 *   "anchor": { "keyFile": "anchor.key", "roundSeconds": 600,
 *               "chain": { "name": "bitcoin", "network": "bitcoin-main", "confirmations": 6, "rpc": { … }, … } }
 *
 * `chain` is a chains.json anchor profile (app/chain/README.md: fees, confirmations, fee bumps, the node).
 * `keyFile` holds the county's anchoring key (`county keys --anchor`), readable by its owner only; its P2WPKH
 * address on the chain pays the fees. `roundSeconds`: how often `county serve` anchors what the log has
 * published since the last round (default 10 minutes; a last round runs when it stops, and `county anchor`
 * runs one on command).
 */
export const CountyAnchorConfigSchema = z.strictObject({
  keyFile: z.string().min(1),
  chain: AnchorProfileSchema,
  roundSeconds: z.number().positive().max(86_400).default(600),
});

export interface CountyAnchorSettings {
  readonly chain: AnchorProfile;
  readonly wallet: StationWallet;
  readonly intervalMs: number;
  readonly keyFile: string;
}

export function loadAnchorSettings(c: z.infer<typeof CountyAnchorConfigSchema>, dir: string, configFile: string): CountyAnchorSettings {
  const file = path.resolve(dir, c.keyFile);
  let text: string;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) throw new PublishError('input', `${file}: the anchor key must be readable by its owner only (chmod 600)`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof PublishError) throw e;
    throw new PublishError('input', `${configFile}: anchor.keyFile: cannot read ${file}: ${(e as Error).message}`);
  }
  return { chain: c.chain, wallet: walletFromSecret(anchorSecretFrom(text, file)), intervalMs: Math.round(c.roundSeconds * 1000), keyFile: file };
}
