import { normalizeSerial, parseBallotId } from '../../ballots/identity';
import type { BallotRecord } from '../ledger/record';
import { otsPath } from '../formats/bundle-files';
import { describePendingState } from '../formats/bundle-pending';
import type { ElectionFile } from './bundle-checks';
import type { AuditCheck, BallotLookup, LoadedBatch } from './report';
import { hex } from './report';

/**
 * `audit verify --ballot`: one ballot's record, where it is on chain, and every failure that touches it
 * (its own, its batch's, the bundle's; not the tally's).
 */
export function lookupBallot(raw: string, batches: readonly LoadedBatch[], election: ElectionFile, checks: readonly AuditCheck[]): BallotLookup {
  let serial: string;
  if (raw.startsWith('TPB1:')) {
    const p = parseBallotId(raw);
    if (!p.ok) return { ballotId: raw, found: false, ok: false, problems: [p.error.message] };
    serial = p.value.serial;
  } else {
    const n = normalizeSerial(raw);
    if (n === undefined) return { ballotId: raw, found: false, ok: false, problems: [`"${raw}" is neither a ballot serial nor a TPB1 ballot ID`] };
    serial = n;
  }
  for (const lb of batches) {
    const i = lb.decoded.findIndex((d) => d?.ballotId === serial);
    if (i < 0) continue;
    const d = lb.decoded[i] as BallotRecord;
    const b = lb.checkpoint.batch;
    const problems = checks
      .filter((c) => !c.ok && c.check !== 'tally' && c.check !== 'results-tape' && (c.ballot === serial || (c.ballot === undefined && (c.batch === b || c.batch === undefined))))
      .map((c) => `${c.check}${c.batch !== undefined ? ` batch ${c.batch}` : ''}: ${c.detail}`);
    const pub = lb.publication;
    const carrier = lb.carriers?.[i];
    const anchorBlock = pub?.anchor.blocks.find((x) => x.hash === pub.anchor.tx.blockHash);
    // a batch signed and not published is the expected offline state: said, not a problem
    if (pub === undefined && lb.pending === undefined && lb.countyProof === undefined) problems.push(`batch ${b} has no publication`);
    return {
      ballotId: serial,
      found: true,
      ok: problems.length === 0,
      batch: b,
      leafIndex: lb.file.records[i]?.leafIndex ?? -1,
      record: {
        mode: d.mode,
        castAsIs: d.castAsIs,
        station: d.station,
        batch: d.batch,
        contests: d.contests.map((c) => {
          const def = election.contests[c.contest];
          return {
            contest: def?.id ?? `#${c.contest}`,
            selections: c.options.map((o) => def?.options[o] ?? `#${o}`),
            overvote: c.overvote,
            undervote: c.undervote,
            marginal: c.marginal,
            writeIn: c.writeIn,
          };
        }),
      },
      recordHex: hex(lb.records[i] as Uint8Array),
      ...(pub !== undefined && carrier !== undefined
        ? { recordsTx: { chain: pub.records.chain, txid: carrier.txid, chunk: carrier.chunk, blockHash: carrier.blockHash, height: pub.records.blocks.find((x) => x.hash === carrier.blockHash)?.height ?? -1 } }
        : {}),
      ...(pub !== undefined && anchorBlock !== undefined ? { anchorTx: { chain: pub.anchor.chain, txid: pub.anchor.tx.txid, blockHash: anchorBlock.hash, height: anchorBlock.height } } : {}),
      ...(pub !== undefined ? { ots: otsPath(serial) } : {}),
      ...(lb.countyProof !== undefined ? { countyAnchor: { ...lb.countyProof } } : {}),
      ...(lb.pending !== undefined ? { notPublished: `batch ${b} is not published: ${describePendingState(lb.pending)}` } : {}),
      problems,
    };
  }
  return { ballotId: serial, found: false, ok: false, problems: [`ballot ${serial} is not in any batch of this bundle`] };
}
