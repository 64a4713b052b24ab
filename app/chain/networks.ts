import type { NetworkName, NetworkParams } from '../../ballots/identity/networks';
import { NETWORKS } from '../../ballots/identity/networks';

/**
 * What the publisher needs to know about a network beyond address prefixes (ballots/identity/networks.ts
 * holds those): which `chain` its node reports in getblockchaininfo, and, for networks whose genesis is
 * fixed and public, its genesis hash, so that a profile naming a network is checked against the node it
 * actually talks to.
 */
export interface ChainNetwork {
  readonly params: NetworkParams;
  /** `getblockchaininfo.chain` of a node on this network */
  readonly nodeChain: 'main' | 'test' | 'regtest';
  /** block 0, RPC display order; only where it is fixed (regtest genesis of some forks varies by version) */
  readonly genesisHash?: string;
  /** whether the chain has floData (Florincoin) */
  readonly floData: boolean;
}

const GENESIS = {
  // bitcoin/src/kernel/chainparams.cpp
  'bitcoin-main': '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  'bitcoin-test': '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  'bitcoin-regtest': '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
  // litecoin-project/litecoin CRegTestParams (what litecoind v0.21 -regtest answers to getblockhash 0)
  'litecoin-regtest': '530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9',
  // floblockchain/flo src/chainparams.cpp (asserted there)
  'florincoin-main': '09c7781c9df90708e278c35d38ea5c9041d7ecfcdd1c56ba67274b7cff3e1cea',
  'florincoin-test': '9b7bc86236c34b5e3a39367c036b7fe8807a966c22a7a1f0da2a198a27e03731',
} as const satisfies Partial<Record<NetworkName, string>>;

export function chainNetwork(name: NetworkName): ChainNetwork {
  const params = NETWORKS[name];
  const nodeChain = name.endsWith('-main') ? 'main' : name.endsWith('-test') ? 'test' : 'regtest';
  const genesisHash = (GENESIS as Partial<Record<NetworkName, string>>)[name];
  return { params, nodeChain, floData: name.startsWith('florincoin-'), ...(genesisHash === undefined ? {} : { genesisHash }) };
}
