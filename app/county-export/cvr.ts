import { toHex } from '../../lib/bytes';
import type { BallotRecord, ContestSelection } from '../ledger/record';
import type { ContestMarks, SheetDetail } from '../ledger/sheet-detail';
import { SCORE_SCALE } from '../ledger/sheet-detail';
import type { ElectionModel, ModelContest } from './election-model';
import { nistId, placeOf } from './election-model';
import type { BallotAdjudication, CastBallot, CountyLedger } from './ledger-read';
import { applyDecisions } from '../ledger/adjudication';
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

/** The reader's score as NIST's MarkMetricValue: the ink share, 0 to 1, four decimals (ReportingDevice.MarkMetricType). */
export function markMetricValue(score: number): string {
  return (score / SCORE_SCALE).toFixed(4);
}

export const MARK_METRIC_TYPE =
  "ink share: the fraction of the target's inside (inset by the calibration profile) darker than the cut between paper and ink, 0.0000 to 1.0000 (ballots/read/score.ts); the station's calibration profile sets the marginal and filled thresholds";

/** What the adjudicator decided in one contest: options decided (either way) and the names read on write-in lines. */
interface ContestDecided {
  readonly decided: ReadonlySet<number>;
  readonly names: ReadonlyMap<number, string>;
}

function cvrContest(m: ModelContest, sel: ContestSelection, marks: ContestMarks | undefined, adj?: ContestDecided): { [k: string]: Json } {
  const id = m.contest.id;
  const votes = sel.overvote ? 0 : 1;
  const status: Json[] = [];
  if (sel.overvote) status.push('overvoted');
  if (sel.undervote) status.push('undervoted');
  if (sel.options.length === 0) status.push('not-indicated');
  if (sel.marginal) status.push('other');
  const marked = new Set(sel.options);
  const marginal = new Set(marks?.marginal ?? []);
  // with the sheet detail every target is listed, marked or not, each with its score; without it (a ballot
  // recorded before the station kept scores) only the marked options, as the record has them
  const listed = marks === undefined ? sel.options : m.options.map((_, k) => k);
  const selections: Json[] = listed.map((k): Json => {
    const o = m.options[k];
    if (o === undefined) throw new Error(`contest ${id}: option index ${k} is not in the election`);
    const score = marks?.scores[k];
    const position: { [k: string]: Json } = marked.has(k)
      ? { '@type': 'CVR.SelectionPosition', HasIndication: 'yes', NumberVotes: votes, IsAllocable: sel.overvote ? 'no' : 'yes', Position: k + 1 }
      : marginal.has(k)
        ? { '@type': 'CVR.SelectionPosition', HasIndication: 'unknown', NumberVotes: 0, IsAllocable: 'unknown', Position: k + 1, Status: ['other'], OtherStatus: 'marginal-mark' }
        : { '@type': 'CVR.SelectionPosition', HasIndication: 'no', NumberVotes: 0, Position: k + 1 };
    if (score !== undefined) position['MarkMetricValue'] = [markMetricValue(score)];
    const name = adj?.names.get(k);
    if (o.writeIn && marked.has(k)) position['CVRWriteIn'] = name === undefined ? { '@type': 'CVR.CVRWriteIn' } : { '@type': 'CVR.CVRWriteIn', Text: name };
    if (adj?.decided.has(k) === true) position['Status'] = ['adjudicated'];
    const s: { [k: string]: Json } = {
      '@type': 'CVR.CVRContestSelection',
      ContestSelectionId: nistId.selection(id, o.id),
      OptionPosition: k + 1,
      SelectionPosition: [position],
      TotalNumberVotes: marked.has(k) ? votes : 0,
    };
    // a marginal mark is counted only by a person's decision; the write-in line's name was never read
    if (marginal.has(k)) {
      s['Status'] = ['needs-adjudication'];
      s['OtherStatus'] = 'marginal-mark';
    } else if (o.writeIn && marked.has(k) && name === undefined) s['Status'] = ['needs-adjudication'];
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
  if (sel.marginal) {
    c['OtherStatus'] =
      marks === undefined
        ? 'marginal-mark: the reader saw a mark between its thresholds in this contest and did not count it; which option is not recorded'
        : `marginal-mark: the reader saw a mark between its thresholds on option position(s) ${[...marginal].map((k) => k + 1).join(', ')} and did not count it`;
  }
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
  /** per-side images and every target's score (the pending entry's sheet detail); absent for older ballots */
  readonly detail?: SheetDetail | undefined;
  /** the signed decisions on this ballot after the seal, and its items still undecided */
  readonly adjudication?: BallotAdjudication | undefined;
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
  const marks = new Map((b.detail?.contests ?? []).map((c) => [c.contest, c]));
  if (b.detail !== undefined && r.contests.some((sel) => !marks.has(sel.contest))) throw new Error(`${ctx.source}: ballot ${r.ballotId}'s sheet detail does not score every contest of its record`);
  const contests = r.contests.map((sel) => cvrContest(contestOf(ctx.model, sel, ctx.source), sel, marks.get(sel.contest)));
  const needsAdjudication = r.contests.some((c) => c.marginal || c.writeIn);
  const leaf = toHex(b.leaf);
  const snapshot: { [k: string]: Json } = { '@id': `snapshot-${leaf}`, '@type': 'CVR.CVRSnapshot', Type: 'interpreted', CVRContest: contests };
  if (needsAdjudication) snapshot['Status'] = ['needs-adjudication'];
  if (r.castAsIs) {
    snapshot['Annotation'] = [{ '@type': 'CVR.Annotation', Message: ['cast as is: the voter was shown the problem (e.g. an overvote) and chose to cast the ballot unchanged'] }];
  }
  const modified = modifiedSnapshot(ctx, b, marks, leaf);
  return {
    '@type': 'CVR.CVR',
    BallotAuditId: r.ballotId,
    BallotImage: ballotImages(b),
    BallotStyleId: place.styleId,
    BallotStyleUnitId: nistId.precinct(place.precinctId),
    BatchId: String(r.batch),
    CreatingDeviceId: nistId.station(ctx.stationId),
    CurrentSnapshotId: modified === undefined ? `snapshot-${leaf}` : String(modified['@id']),
    CVRSnapshot: modified === undefined ? [snapshot] : [snapshot, modified],
    ElectionId: nistId.election(ctx.model.definition),
    UniqueId: leaf,
  };
}

/**
 * The `modified` snapshot of a ballot with at least one signed decision: the interpreted reading with every
 * decision applied (a marginal mark counted or not, a write-in line with the name read as `CVRWriteIn.Text` or
 * taken out as no vote; overvote and undervote follow from the count, as in `ledger tally`'s after). A position
 * decided has status `adjudicated`; a marginal mark still undecided stays `needs-adjudication` and counts for
 * nothing, as does the snapshot while any item of the ballot waits. Undefined for a ballot with no decision.
 */
function modifiedSnapshot(ctx: CvrContext, b: CvrBallot, marks: ReadonlyMap<number, ContestMarks>, leaf: string): { [k: string]: Json } | undefined {
  const a = b.adjudication;
  if (a === undefined || a.decisions.length === 0) return undefined;
  const r = b.record;
  const contests = r.contests.map((sel): Json => {
    const m = contestOf(ctx.model, sel, ctx.source);
    const ids = m.options.map((o) => o.id);
    const mine = a.decisions.filter((d) => d.statement.contest === m.contest.id).map((d) => d.statement);
    if (mine.length === 0) return cvrContest(m, sel, marks.get(sel.contest));
    const applied = applyDecisions(sel, m.seats, ids, mine);
    const decided = new Set(mine.flatMap((d) => (d.option === null ? (d.decision.kind === 'marks' ? d.decision.options.map((o) => ids.indexOf(o)) : []) : [ids.indexOf(d.option)])).filter((k) => k >= 0));
    const contestDecided = mine.some((d) => d.option === null);
    const own = marks.get(sel.contest);
    const stillMarginal = own === undefined ? sel.marginal && !contestDecided : own.marginal.some((k) => !decided.has(k));
    const adjusted: ContestSelection = { ...sel, options: [...applied.options], overvote: applied.overvote, undervote: applied.undervote, marginal: stillMarginal };
    const adjustedMarks = own === undefined ? undefined : { ...own, marginal: own.marginal.filter((k) => !decided.has(k)) };
    return cvrContest(m, adjusted, adjustedMarks, { decided, names: applied.writeInNames });
  });
  const snapshot: { [k: string]: Json } = { '@id': `snapshot-${leaf}-modified`, '@type': 'CVR.CVRSnapshot', Type: 'modified', CVRContest: contests };
  if (a.undecided > 0) snapshot['Status'] = ['needs-adjudication'];
  // the adjudicator is a role and the sign-in entry they decided in, never a person's name
  snapshot['Annotation'] = a.decisions.map(
    (d): Json => ({
      '@type': 'CVR.Annotation',
      AdjudicatorName: [`${d.statement.adjudicator.role} (sign-in entry ${d.statement.adjudicator.session})`],
      Message: [`ledger entry ${d.seq}: contest ${d.statement.contest}, option ${d.statement.option ?? '* (the contest as a whole)'}: ${decisionText(d.statement.decision)}`],
    }),
  );
  return snapshot;
}

function decisionText(d: BallotAdjudication['decisions'][number]['statement']['decision']): string {
  switch (d.kind) {
    case 'counts':
      return 'the marginal mark counts';
    case 'not-counted':
      return 'the marginal mark does not count';
    case 'write-in':
      return `write-in: ${d.name}`;
    case 'no-vote':
      return 'the write-in line is no vote';
    case 'marks':
      return d.options.length === 0 ? 'no further mark counts' : `the marks for ${d.options.join(', ')} count`;
  }
}

/**
 * One ImageData per scanned side, in scan order, with the side's own SHA-256 and, when the station kept the
 * image, its encrypted file relative to the station data directory or an export that copies `images/`
 * (a `file:` URI reference: the schema's Location is a URI). A ballot without sheet detail has one ImageData
 * with the digest over its sides concatenated, as its pending entry holds it.
 */
export function ballotImages(b: CvrBallot): Json[] {
  const hash = (v: Uint8Array): Json => ({ '@type': 'CVR.Hash', Type: 'sha-256', Value: toHex(v) });
  if (b.detail === undefined) return [{ '@type': 'CVR.ImageData', Hash: hash(b.imageSha256) }];
  return b.detail.sides.map((s): Json => ({ '@type': 'CVR.ImageData', Hash: hash(s.sha256), ...(s.kept ? { Location: imageLocation(s.imageId) } : {}) }));
}

/** Where an image's encrypted file is, relative to the station data directory (or the export folder's copy). */
export function imageLocation(imageId: string): string {
  return `file:images/${imageId}`;
}

/** A cast ballot of a verified ledger read, as cvrOne takes it. */
export function cvrBallotOf(b: CastBallot, ledger?: Pick<CountyLedger, 'adjudication'>): CvrBallot {
  const record = recordOf(b);
  return { record, leaf: b.leaf, imageSha256: b.imageSha256, votingId: b.votingId, detail: b.detail, adjudication: ledger?.adjudication?.byBallot.get(record.ballotId.toUpperCase()) };
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
        MarkMetricType: MARK_METRIC_TYPE,
        Notes: reportingDeviceNotes(ledger),
      },
    ],
    Election: [electionObject(model)],
    GpUnit: gpUnits(model, station),
    ...(parties.length > 0 ? { Party: parties } : {}),
    Notes: `${g.mode === 'test' ? 'TEST ledger: not votes. ' : ''}Each CVR's BallotImage has one ImageData per scanned side in scan order with that side's SHA-256 and, where the station kept the image, its Location: the file, encrypted with a key derived from the station key, under images/ in the station data directory (tallyproof images export decrypts it for a key holder). Every target carries the reader's score as MarkMetricValue (ReportingDevice MarkMetricType). A ballot recorded before the station kept sides and scores has one ImageData with the SHA-256 over its sides concatenated and no MarkMetricValue.`,
  };
}

/** Writes the whole report: head, then one CVR per line. */
export function writeCvrReport(out: AtomicStreamFile, model: ElectionModel, ledger: CountyLedger): number {
  const head = JSON.stringify(cvrReportHead(model, ledger));
  out.write(`${head.slice(0, -1)},"CVR":[`);
  const ctx = cvrContextOf(model, ledger);
  let n = 0;
  for (const b of ledger.ballots) {
    out.write(`${n === 0 ? '' : ','}\n${JSON.stringify(cvrOne(ctx, cvrBallotOf(b, ledger)))}`);
    n += 1;
  }
  out.write('\n]}\n');
  return n;
}

