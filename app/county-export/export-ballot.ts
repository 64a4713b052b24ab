import type { Genesis } from '../ledger/entries';
import { TallyCollector } from '../ledger/tally';
import { toHex } from '../../lib/bytes';
import type { CvrBallot, CvrContext, Json } from './cvr';
import { cvrOne, cvrReportHead } from './cvr';
import type { ElectionModel } from './election-model';
import type { BallotFiles } from './export-folder';
import { cvrFileName } from './export-format';
import type { CountyLedger } from './ledger-read';

/**
 * What the continuous export writes for one ballot, and the report its CVR files belong to. Both are pure
 * functions of the ledger's record and the election, so `export verify` rebuilds them from the ledger and
 * compares bytes.
 */

/** `cvr/<leaf>.json`: the ballot's NIST SP 1500-103 `CVR` object (cvr.ts cvrOne), one line of JSON. */
export function ballotFiles(ctx: CvrContext, b: CvrBallot): BallotFiles {
  const leaf = toHex(b.leaf);
  return { leaf, files: [{ name: cvrFileName(leaf), data: Buffer.from(`${JSON.stringify(cvrOne(ctx, b))}\n`, 'utf8') }] };
}

/**
 * The CastVoteRecordReport of the folder without its CVRs (cvr.ts cvrReportHead): election, places, parties
 * and the station. Its date is the election's date and it names no ledger head: it is written once, and no
 * time of the day may be read from it.
 */
export function exportReportHead(model: ElectionModel, genesis: Genesis): Uint8Array {
  const asOf = `${model.definition.election.date}T00:00:00Z`;
  const headless: CountyLedger = {
    file: '',
    genesis,
    tally: new TallyCollector(genesis).result(0),
    events: [],
    ballots: [],
    sealed: false,
    closedBatches: 0,
    head: { seq: 0, hash: '' },
    asOf,
  };
  const head = cvrReportHead(model, headless);
  const g = genesis;
  const device = (head['ReportingDevice'] as { [k: string]: Json }[])[0] ?? {};
  const report: { [k: string]: Json } = {
    ...head,
    ReportType: ['originating-device-export'],
    ReportingDevice: [
      {
        ...device,
        Notes: [`station number ${g.station.number}`, `station public key (BIP 340) ${g.station.publicKey}`, `election hash ${g.election.hash}`, `${g.mode} ledger, continuous export: one CVR file per cast ballot in cvr/, listed by index/ and manifest.json`],
      },
    ],
    CVR: [],
  };
  return Buffer.from(`${JSON.stringify(report)}\n`, 'utf8');
}
