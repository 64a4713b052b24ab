import { decodeRecord } from '../ledger/record';
import type { BatchFile } from './bundle-files';
import { networkFor, parseHeader } from './headers';
import type { BallotProofInput } from './ots-ballot';
import { BallotProofError, anchorPathFor } from './ots-ballot';
import type { Publication } from './publication-formats';
import { parseTx } from './raw-tx';

/**
 * What each ballot's `.ots` proof is built from, read from the bundle's batch file and the batch's
 * publication. The station builds the proofs from it when it completes a bundle (app/chain/bundle-complete.ts)
 * and the auditor rebuilds them from it to check the bundle's byte for byte (app/audit): one definition, so
 * the two cannot drift apart.
 */

/** The attestation a proof ends in: Bitcoin's, except on Litecoin's own main and test networks. */
export function attestationKind(p: Publication['anchor']): 'bitcoin' | 'litecoin' {
  try {
    const n = networkFor(p.chain, p.network, p.genesisHash);
    return n.family === 'litecoin' && (n.kind === 'main' || n.kind === 'test') ? 'litecoin' : 'bitcoin';
  } catch {
    return 'bitcoin';
  }
}

/** What each ballot's proof is built from, from a batch file and its publication. Throws BallotProofError. */
export function proofInputs(batch: BatchFile, pub: Publication): { ballotId: string; input: BallotProofInput }[] {
  const anchorBlock = pub.anchor.blocks.find((b) => b.hash === pub.anchor.tx.blockHash);
  if (anchorBlock === undefined) throw new BallotProofError(`the publication carries no block ${pub.anchor.tx.blockHash} for its anchor transaction`);
  const header = parseHeader(Buffer.from(anchorBlock.header, 'hex'));
  if (header.hash !== anchorBlock.hash) throw new BallotProofError(`the anchor block header hashes to ${header.hash}, not ${anchorBlock.hash}`);
  const tx = parseTx(pub.anchor.tx.hex, { floData: false });
  const attestation = attestationKind(pub.anchor);
  const root = Buffer.from(batch.root, 'hex');
  const anchorPath = anchorPathFor({ batchRoot: root, anchorTx: tx.stripped, anchorTxid: pub.anchor.tx.txid, blockTxids: anchorBlock.txids, headerMerkleRoot: header.merkleRoot });
  return batch.records.map((r) => {
    const record = new Uint8Array(Buffer.from(r.record, 'hex'));
    return {
      ballotId: decodeRecord(record).ballotId,
      input: {
        record,
        leafIndex: r.leafIndex,
        treeSize: batch.treeSize,
        inclusionProof: r.inclusionProof.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
        batchRoot: root,
        anchorTx: tx.stripped,
        blockTxids: anchorBlock.txids,
        anchorTxid: pub.anchor.tx.txid,
        height: anchorBlock.height,
        headerMerkleRoot: header.merkleRoot,
        attestation,
        anchorPath,
      },
    };
  });
}
