import { toHex } from '../../lib/bytes';
import type { BallotRecord, ContestSelection } from '../ledger/record';
import type { ElectionModel, ModelContest } from './election-model';
import { nistId, placeOf } from './election-model';
import type { CastBallot, CountyLedger } from './ledger-read';
import { recordOf } from './ledger-read';
import { exportDate, reportingDeviceNotes, TALLYPROOF_MANUFACTURER, TALLYPROOF_MODEL } from './device';
import type { AtomicStreamFile } from './stream-file';

/**
 * Cast vote records in the NIST SP 1500-103 Common Data Format (JSON, schema version 1.0.0): one
 * CastVoteRecordReport per station ledger, one CVR per counted ballot in publishing order (batch, then leaf
 * hash), each with a single `interpreted` snapshot: what the station decided, contest rules applied (an
 * overvoted contest's marks are listed and give no votes). README.md says what each field holds and why.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function electionObject(model: ElectionModel): { [k: string]: Json } {
  const def = model.definition;
  const candidates: Json[] = [];
  const contests: Json[] = model.contests.map(({ contest, seats, options }): Json => {
    switch (contest.type) {
      case 'candidate': {
        for (const c of contest.candidates) {
          const party = c.party;
          candidates.push({ '@id': nistId.candidate(contest.id, c.id), '@type': 'CVR.Candidate', Name: c.name, ...(party === undefined ? {} : { PartyId: nistId.party(party) }) });
        }
        return {
          '@id': nistId.contest(contest.id),
          '@type': 'CVR.CandidateContest',
          Name: contest.title,
          VoteVariation: seats === 1 ? 'plurality' : 'n-of-m',
          VotesAllowed: seats,
          NumberElected: seats,
          ContestSelection: options.map(
            (o): Json =>
              o.writeIn
                ? { '@id': nistId.selection(contest.id, o.id), '@type': 'CVR.CandidateSelection', IsWriteIn: true }
                : { '@id': nistId.selection(contest.id, o.id), '@type': 'CVR.CandidateSelection', CandidateIds: [nistId.candidate(contest.id, o.id)], IsWriteIn: false },
          ),
        };
      }
      case 'measure':
        return {
          '@id': nistId.contest(contest.id),
          '@type': 'CVR.BallotMeasureContest',
          Name: contest.title,
          VoteVariation: 'plurality',
          ContestSelection: options.map((o): Json => ({ '@id': nistId.selection(contest.id, o.id), '@type': 'CVR.BallotMeasureSelection', Selection: o.label })),
        };
    }
  });
  return { '@id': nistId.election(def), '@type': 'CVR.Election', Name: def.election.title, ElectionScopeId: nistId.jurisdiction, Contest: contests, Candidate: candidates };
}

function gpUnits(model: ElectionModel, stationId: string): Json[] {
  const def = model.definition;
  return [
    { '@id': nistId.jurisdiction, '@type': 'CVR.GpUnit', Type: 'other', OtherType: 'jurisdiction', Name: def.election.jurisdiction },
    ...def.precincts.map((p): Json => ({ '@id': nistId.precinct(p.id), '@type': 'CVR.GpUnit', Type: 'precinct', Name: p.name })),
    { '@id': nistId.pollingPlace(stationId), '@type': 'CVR.GpUnit', Type: 'polling-place', Name: `polling place of station ${stationId}`, ReportingDeviceIds: [nistId.station(stationId)] },
  ];
}

function contestOf(model: ElectionModel, sel: ContestSelection, file: string): ModelContest {
  const m = model.contests[sel.contest];
  if (m === undefined) throw new Error(`${file}: a record names contest index ${sel.contest}, which the election does not have`);
  return m;
}

function cvrContest(m: ModelContest, sel: ContestSelection): { [k: string]: Json } {
  const id = m.contest.id;
  const votes = sel.overvote ? 0 : 1;
  const status: Json[] = [];
  if (sel.overvote) status.push('overvoted');
  if (sel.undervote) status.push('undervoted');
  if (sel.options.length === 0) status.push('not-indicated');
  if (sel.marginal) status.push('other');
  const selections: Json[] = sel.options.map((k): Json => {
    const o = m.options[k];
    if (o === undefined) throw new Error(`contest ${id}: option index ${k} is not in the election`);
    const position: { [k: string]: Json } = {
      '@type': 'CVR.SelectionPosition',
      HasIndication: 'yes',
      NumberVotes: votes,
      IsAllocable: sel.overvote ? 'no' : 'yes',
      Position: k + 1,
    };
    if (o.writeIn) position['CVRWriteIn'] = { '@type': 'CVR.CVRWriteIn' };
    const s: { [k: string]: Json } = {
      '@type': 'CVR.CVRContestSelection',
      ContestSelectionId: nistId.selection(id, o.id),
      OptionPosition: k + 1,
      SelectionPosition: [position],
      TotalNumberVotes: votes,
    };
    // the write-in line's name was never read or clipped: a person must read it off the paper
    if (o.writeIn) s['Status'] = ['needs-adjudication'];
    return s;
  });
  const c: { [k: string]: Json } = {
    '@type': 'CVR.CVRContest',
    ContestId: nistId.contest(id),
    Selections: sel.overvote ? 0 : sel.options.length,
    Overvotes: sel.overvote ? m.seats : 0,
    Undervotes: sel.undervote ? m.seats - sel.options.length : 0,
    WriteIns: sel.options.filter((k) => m.options[k]?.writeIn === true).length,
  };
  if (status.length > 0) c['Status'] = status;
  if (sel.marginal) c['OtherStatus'] = 'marginal-mark: the reader saw a mark between its thresholds in this contest and did not count it; which option is not recorded';
  if (selections.length > 0) c['CVRContestSelection'] = selections;
  return c;
}

/** What a CVR takes from outside the ballot: the election's names and the station that cast it. */
export interface CvrContext {
  readonly model: ElectionModel;
  readonly stationId: string;
  /** the ledger (or station) the ballot comes from, named in errors */
  readonly source: string;
}

/** One cast ballot as a CVR needs it: its record and what only the local ledger keeps. */
export interface CvrBallot {
  readonly record: BallotRecord;
  /** the record's Merkle leaf hash: SHA-256(0x00 ‖ record bytes) */
  readonly leaf: Uint8Array;
  /** full SHA-256 of the scan, from the pending entry */
  readonly imageSha256: Uint8Array;
  /** the voting ID text the station read (QR 3) */
  readonly votingId: string;
}

export type CvrObject = { [k: string]: Json };

export function cvrContextOf(model: ElectionModel, ledger: CountyLedger): CvrContext {
  return { model, stationId: ledger.genesis.station.id, source: ledger.file };
}

/**
 * One ballot's CVR object, a pure function of the ballot and its context: the bulk export writes one per line,
 * the station's continuous export one file per cast ballot, and `export verify` rebuilds it to compare.
 */
export function cvrOne(ctx: CvrContext, b: CvrBallot): CvrObject {
  const r = b.record;
  const place = placeOf(b.votingId, ctx.source);
  const contests = r.contests.map((sel) => cvrContest(contestOf(ctx.model, sel, ctx.source), sel));
  const needsAdjudication = r.contests.some((c) => c.marginal || c.writeIn);
  const leaf = toHex(b.leaf);
  const snapshot: { [k: string]: Json } = { '@id': `snapshot-${leaf}`, '@type': 'CVR.CVRSnapshot', Type: 'interpreted', CVRContest: contests };
  if (needsAdjudication) snapshot['Status'] = ['needs-adjudication'];
  if (r.castAsIs) {
    snapshot['Annotation'] = [{ '@type': 'CVR.Annotation', Message: ['cast as is: the voter was shown the problem (e.g. an overvote) and chose to cast the ballot unchanged'] }];
  }
  return {
    '@type': 'CVR.CVR',
    BallotAuditId: r.ballotId,
    BallotImage: [{ '@type': 'CVR.ImageData', Hash: { '@type': 'CVR.Hash', Type: 'sha-256', Value: toHex(b.imageSha256) } }],
    BallotStyleId: place.styleId,
    BallotStyleUnitId: nistId.precinct(place.precinctId),
    BatchId: String(r.batch),
    CreatingDeviceId: nistId.station(ctx.stationId),
    CurrentSnapshotId: `snapshot-${leaf}`,
    CVRSnapshot: [snapshot],
    ElectionId: nistId.election(ctx.model.definition),
    UniqueId: leaf,
  };
}

/** A cast ballot of a verified ledger read, as cvrOne takes it. */
export function cvrBallotOf(b: CastBallot): CvrBallot {
  return { record: recordOf(b), leaf: b.leaf, imageSha256: b.imageSha256, votingId: b.votingId };
}

/** The report without its CVRs: written first, the CVRs stream after it. */
export function cvrReportHead(model: ElectionModel, ledger: CountyLedger): { [k: string]: Json } {
  const g = ledger.genesis;
  const station = g.station.id;
  const parties = model.definition.parties.map((p): Json => ({ '@id': nistId.party(p.id), '@type': 'CVR.Party', Name: p.name, ...(p.abbreviation === undefined ? {} : { Abbreviation: p.abbreviation }) }));
  return {
    '@type': 'CVR.CastVoteRecordReport',
    Version: '1.0.0',
    ReportType: ['originating-device-export'],
    GeneratedDate: exportDate(ledger),
    ReportGeneratingDeviceIds: [nistId.station(station)],
    ReportingDevice: [
      {
        '@id': nistId.station(station),
        '@type': 'CVR.ReportingDevice',
        Manufacturer: TALLYPROOF_MANUFACTURER,
        Model: TALLYPROOF_MODEL,
        SerialNumber: station,
        Notes: reportingDeviceNotes(ledger),
      },
    ],
    Election: [electionObject(model)],
    GpUnit: gpUnits(model, station),
    ...(parties.length > 0 ? { Party: parties } : {}),
    Notes: `${g.mode === 'test' ? 'TEST ledger: not votes. ' : ''}Ballot images are not kept by this station: each CVR's BallotImage holds the SHA-256 of the scan (the sheet's side images in scan order), no image and no location. Mark scores are not recorded (no MarkMetricValue).`,
  };
}

/** Writes the whole report: head, then one CVR per line. */
export function writeCvrReport(out: AtomicStreamFile, model: ElectionModel, ledger: CountyLedger): number {
  const head = JSON.stringify(cvrReportHead(model, ledger));
  out.write(`${head.slice(0, -1)},"CVR":[`);
  const ctx = cvrContextOf(model, ledger);
  let n = 0;
  for (const b of ledger.ballots) {
    out.write(`${n === 0 ? '' : ','}\n${JSON.stringify(cvrOne(ctx, cvrBallotOf(b)))}`);
    n += 1;
  }
  out.write('\n]}\n');
  return n;
}

