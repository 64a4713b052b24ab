import crypto from 'node:crypto';
import { displayFromInternal, sha256d } from './block-proof';

/**
 * 80-byte block headers: parse, identify (double SHA-256, shown byte-reversed), link (each names the one
 * before it) and check proof of work against each header's own nBits. Scrypt chains (Litecoin, Florincoin)
 * identify blocks by double SHA-256 but prove work with scrypt(N=1024, r=1, p=1) of the header.
 */

export const HEADER_BYTES = 80;

export class HeaderError extends Error {
  override readonly name = 'HeaderError';
}

export interface BlockHeader {
  readonly version: number;
  /** display hex, as RPC shows it */
  readonly prevHash: string;
  /** internal byte order, as the merkle computation yields it */
  readonly merkleRoot: Uint8Array;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
  /** display hex */
  readonly hash: string;
}

export type PowAlgorithm = 'sha256d' | 'scrypt';

export function parseHeader(bytes: Uint8Array): BlockHeader {
  if (bytes.length !== HEADER_BYTES) throw new HeaderError(`a block header is ${HEADER_BYTES} bytes, got ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: dv.getInt32(0, true),
    prevHash: displayFromInternal(bytes.subarray(4, 36)),
    merkleRoot: bytes.slice(36, 68),
    time: dv.getUint32(68, true),
    bits: dv.getUint32(72, true),
    nonce: dv.getUint32(76, true),
    hash: displayFromInternal(sha256d(bytes)),
  };
}

/** The target a compact nBits stands for (Bitcoin's arith_uint256::SetCompact), refusing negative or overflowing forms. */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = bits & 0x007fffff;
  if ((bits & 0x00800000) !== 0 && mantissa !== 0) throw new HeaderError(`nBits 0x${bits.toString(16)} encodes a negative target`);
  if (mantissa === 0) throw new HeaderError(`nBits 0x${bits.toString(16)} encodes a zero target`);
  const target = exponent <= 3 ? BigInt(mantissa) >> BigInt(8 * (3 - exponent)) : BigInt(mantissa) << BigInt(8 * (exponent - 3));
  if (target >= 1n << 256n) throw new HeaderError(`nBits 0x${bits.toString(16)} overflows 256 bits`);
  if (target === 0n) throw new HeaderError(`nBits 0x${bits.toString(16)} encodes a zero target`);
  return target;
}

/** The header's proof-of-work hash as a number (the hash bytes read little-endian). */
export function powValue(header: Uint8Array, algorithm: PowAlgorithm): bigint {
  const h = algorithm === 'sha256d' ? sha256d(header) : crypto.scryptSync(header, header, 32, { N: 1024, r: 1, p: 1 });
  return BigInt(`0x${Buffer.from(h).reverse().toString('hex')}`);
}

export function meetsTarget(header: Uint8Array, algorithm: PowAlgorithm): boolean {
  const { bits } = parseHeader(header);
  return powValue(header, algorithm) <= targetFromBits(bits);
}

export interface HeightHeader {
  readonly height: number;
  readonly header: Uint8Array;
}

export interface CheckedChain {
  readonly headers: readonly (BlockHeader & { readonly height: number })[];
  readonly firstHeight: number;
  readonly tipHeight: number;
}

/**
 * Headers at consecutive heights, each linked to the one before and each meeting its own target.
 * Throws a HeaderError naming the height that fails.
 */
export function checkHeaderChain(headers: readonly HeightHeader[], algorithm: PowAlgorithm): CheckedChain {
  if (headers.length === 0) throw new HeaderError('no headers');
  const sorted = [...headers].sort((a, b) => a.height - b.height);
  const out: (BlockHeader & { height: number })[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { height, header } = sorted[i] as HeightHeader;
    const h = parseHeader(header);
    const prev = out[i - 1];
    if (prev !== undefined) {
      if (height === prev.height) throw new HeaderError(`two headers at height ${height}`);
      if (height !== prev.height + 1) throw new HeaderError(`no header between heights ${prev.height} and ${height}: the chain is not contiguous`);
      if (h.prevHash !== prev.hash) throw new HeaderError(`the header at height ${height} does not link to the one at ${prev.height} (names ${h.prevHash}, that one is ${prev.hash})`);
    }
    let ok: boolean;
    try {
      ok = powValue(header, algorithm) <= targetFromBits(h.bits);
    } catch (e) {
      throw new HeaderError(`the header at height ${height}: ${(e as Error).message}`);
    }
    if (!ok) throw new HeaderError(`the header at height ${height} (${h.hash}) does not meet its own ${algorithm} target (nBits 0x${h.bits.toString(16)})`);
    out.push({ ...h, height });
  }
  return { headers: out, firstHeight: (out[0] as { height: number }).height, tipHeight: (out[out.length - 1] as { height: number }).height };
}

export interface KnownNetwork {
  readonly family: 'bitcoin' | 'litecoin' | 'florincoin';
  readonly kind: 'main' | 'test' | 'regtest' | 'signet';
  readonly pow: PowAlgorithm;
}

/**
 * Genesis block hashes of the networks Tallyproof publishes to (from each project's chainparams; the
 * Litecoin regtest one is checked against a real litecoind by the integration test).
 */
export const KNOWN_GENESIS: ReadonlyMap<string, KnownNetwork> = new Map<string, KnownNetwork>([
  ['000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f', { family: 'bitcoin', kind: 'main', pow: 'sha256d' }],
  ['000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943', { family: 'bitcoin', kind: 'test', pow: 'sha256d' }],
  ['00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043', { family: 'bitcoin', kind: 'test', pow: 'sha256d' }],
  ['00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6', { family: 'bitcoin', kind: 'signet', pow: 'sha256d' }],
  ['0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', { family: 'bitcoin', kind: 'regtest', pow: 'sha256d' }],
  ['12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2', { family: 'litecoin', kind: 'main', pow: 'scrypt' }],
  ['4966625a4b2851d9fdee139e56211a0d88575f59ed816ff5e6a63deb4e3e29a0', { family: 'litecoin', kind: 'test', pow: 'scrypt' }],
  ['530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9', { family: 'litecoin', kind: 'regtest', pow: 'scrypt' }],
  ['09c7781c9df90708e278c35d38ea5c9041d7ecfcdd1c56ba67274b7cff3e1cea', { family: 'florincoin', kind: 'main', pow: 'scrypt' }],
  ['9b7bc86236c34b5e3a39367c036b7fe8807a966c22a7a1f0da2a198a27e03731', { family: 'florincoin', kind: 'test', pow: 'scrypt' }],
  ['ec42fa26ca6dcb1103b59a1d24b161935ea4566f8d5736db8917d5b9a8dee0d7', { family: 'florincoin', kind: 'regtest', pow: 'scrypt' }],
]);

/**
 * The network a publication names, checked against the genesis hash it carries: the genesis must be a
 * known one, and the chain profile and network names must not contradict it (a "bitcoin"/"main"
 * publication carrying the Litecoin regtest genesis fails). Names are matched loosely because chain
 * profiles are free-form: the family by its name (or "ltc"/"flo"/"btc"), the kind by "regtest", "signet",
 * "test" or otherwise main.
 */
export function networkFor(chain: string, network: string, genesisHash: string): KnownNetwork {
  const known = KNOWN_GENESIS.get(genesisHash);
  if (known === undefined) throw new HeaderError(`genesis ${genesisHash} is not the genesis of any network this tool knows`);
  const text = `${chain} ${network}`.toLowerCase();
  const families: KnownNetwork['family'][] = [];
  if (/bitcoin|\bbtc\b/.test(text)) families.push('bitcoin');
  if (/litecoin|\bltc\b/.test(text)) families.push('litecoin');
  if (/florincoin|\bflo\b/.test(text)) families.push('florincoin');
  if (families.length > 0 && !families.includes(known.family)) {
    throw new HeaderError(`chain "${chain}" network "${network}" carries the genesis of ${known.family} ${known.kind}`);
  }
  const n = network.toLowerCase();
  const kind: KnownNetwork['kind'] = n.includes('regtest') ? 'regtest' : n.includes('signet') ? 'signet' : n.includes('test') ? 'test' : 'main';
  if (kind !== known.kind) throw new HeaderError(`network "${network}" is ${kind}, but the genesis ${genesisHash} is ${known.family} ${known.kind}`);
  return known;
}
