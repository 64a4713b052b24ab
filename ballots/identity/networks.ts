import type { Network } from 'bitcoinjs-lib';

/**
 * The chains a ballot address may be formatted for. The high-capacity chain of a real election is
 * Florincoin; Bitcoin and Litecoin regtest/test networks exist so that tests and demos can run against a
 * local `bitcoind`/`litecoind -regtest`.
 */
export const NETWORK_NAMES = [
  'florincoin-main',
  'florincoin-test',
  'florincoin-regtest',
  'bitcoin-main',
  'bitcoin-test',
  'bitcoin-regtest',
  'litecoin-regtest',
] as const;
export type NetworkName = (typeof NETWORK_NAMES)[number];

export interface NetworkParams extends Network {
  readonly name: NetworkName;
  /** How a poll worker or auditor would call it. */
  readonly title: string;
  /** Whether coins on it have value: test-mode ballots must never reach such a chain. */
  readonly live: boolean;
}

/*
 * Prefixes are copied from each chain's own src/chainparams.cpp (base58Prefixes, bech32_hrp):
 * Florincoin: github.com/floblockchain/flo (CMainParams, CTestNetParams, CRegTestParams). Florincoin has two
 *   script prefixes per network (SCRIPT_ADDRESS 8 / 198 and the newer SCRIPT_ADDRESS2 94 / 58); we only make
 *   P2PKH addresses, and record the one Florincoin's wallets print for P2SH (SCRIPT_ADDRESS2 on main,
 *   SCRIPT_ADDRESS on test/regtest, as flojs does).
 *   Its regtest reuses Bitcoin's tpub/tprv versions, its testnet has its own (0x013440e2 / 0x01343c23).
 * Bitcoin: bitcoin/bitcoin chainparams (main; test and regtest share prefixes, bech32 "tb" / "bcrt").
 * Litecoin: litecoin-project/litecoin chainparams, CRegTestParams (pubkey 111, script 58, wif 239, tpub, "rltc").
 */
export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = {
  'florincoin-main': {
    name: 'florincoin-main',
    title: 'Florincoin',
    live: true,
    messagePrefix: '\x1bFlorincoin Signed Message:\n',
    bech32: 'fc',
    bip32: { public: 0x0134406b, private: 0x01343c31 },
    pubKeyHash: 0x23,
    scriptHash: 0x5e,
    wif: 0xa3,
  },
  'florincoin-test': {
    name: 'florincoin-test',
    title: 'Florincoin testnet',
    live: false,
    messagePrefix: '\x1bFlorincoin Signed Message:\n',
    bech32: 'tf',
    bip32: { public: 0x013440e2, private: 0x01343c23 },
    pubKeyHash: 0x73,
    scriptHash: 0xc6,
    wif: 0xef,
  },
  'florincoin-regtest': {
    name: 'florincoin-regtest',
    title: 'Florincoin regtest',
    live: false,
    messagePrefix: '\x1bFlorincoin Signed Message:\n',
    bech32: 'fcrt',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x73,
    scriptHash: 0xc6,
    wif: 0xef,
  },
  'bitcoin-main': {
    name: 'bitcoin-main',
    title: 'Bitcoin',
    live: true,
    messagePrefix: '\x18Bitcoin Signed Message:\n',
    bech32: 'bc',
    bip32: { public: 0x0488b21e, private: 0x0488ade4 },
    pubKeyHash: 0x00,
    scriptHash: 0x05,
    wif: 0x80,
  },
  'bitcoin-test': {
    name: 'bitcoin-test',
    title: 'Bitcoin testnet',
    live: false,
    messagePrefix: '\x18Bitcoin Signed Message:\n',
    bech32: 'tb',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x6f,
    scriptHash: 0xc4,
    wif: 0xef,
  },
  'bitcoin-regtest': {
    name: 'bitcoin-regtest',
    title: 'Bitcoin regtest',
    live: false,
    messagePrefix: '\x18Bitcoin Signed Message:\n',
    bech32: 'bcrt',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x6f,
    scriptHash: 0xc4,
    wif: 0xef,
  },
  'litecoin-regtest': {
    name: 'litecoin-regtest',
    title: 'Litecoin regtest',
    live: false,
    messagePrefix: '\x19Litecoin Signed Message:\n',
    bech32: 'rltc',
    bip32: { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: 0x6f,
    scriptHash: 0x3a,
    wif: 0xef,
  },
};

export function isNetworkName(s: string): s is NetworkName {
  return (NETWORK_NAMES as readonly string[]).includes(s);
}

/**
 * The networks whose P2PKH addresses start with this version byte. Several test networks share one
 * (Bitcoin test/regtest and Litecoin regtest: 0x6f), so an address alone cannot always name its chain.
 */
export function networksWithPubKeyHash(version: number): NetworkName[] {
  return NETWORK_NAMES.filter((n) => NETWORKS[n].pubKeyHash === version);
}
