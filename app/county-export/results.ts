import type { ContestTally, Tally } from '../ledger/tally';
import { exportDate, TALLYPROOF_MANUFACTURER, TALLYPROOF_MODEL } from './device';
import type { ElectionModel, ModelContest } from './election-model';
import { nistId, partyName } from './election-model';
import type { CountyLedger } from './ledger-read';
import { csvLine } from './csv';

/**
 * The station's results for the county: NIST SP 1500-100 (Election Results Reporting, version 2) JSON and a
 * CSV a spreadsheet opens, both from the tally `ledger tally` prints and the results tape prints (the same
 * TallyCollector over the same verified ledger). An overvoted contest gives no votes, as on the tape.
 */
function tallyOf(ledger: CountyLedger, m: ModelContest, which: 'after' | 'before' = 'after'): ContestTally {
  const t = (which === 'after' ? countedTally(ledger) : ledger.tally).contests[m.index];
  if (t === undefined || t.id !== m.contest.id) throw new Error(`the tally has no contest "${m.contest.id}" at position ${m.index + 1}`);
  return t;
}

/**
 * The count the county gets: the station's tally with every signed decision applied (`ledger tally`'s
 * `adjudication.after`); a marginal mark no one decided counts for nothing, as at the station.
 */
export function countedTally(ledger: CountyLedger): Tally {
  return ledger.adjudication?.tally.after ?? ledger.tally;
}

function undecidedOf(ledger: CountyLedger): number {
  return ledger.adjudication?.tally.undecided ?? 0;
}

const text = (content: string): Record<string, unknown> => ({ '@type': 'ElectionResults.InternationalizedText', Text: [{ '@type': 'ElectionResults.LanguageString', Content: content, Language: 'en' }] });

export function resultsReport(model: ElectionModel, ledger: CountyLedger): Record<string, unknown> {
  const def = model.definition;
  const g = ledger.genesis;
  const station = g.station.id;
  const device = nistId.station(station);
  const deviceClass = { '@type': 'ElectionResults.DeviceClass', Type: 'opscan-precinct', Manufacturer: TALLYPROOF_MANUFACTURER, Model: TALLYPROOF_MODEL };
  const count = (n: number): Record<string, unknown> => ({ '@type': 'ElectionResults.VoteCounts', Type: 'total', Count: n, GpUnitId: device });
  const candidates: Record<string, unknown>[] = [];
  const contests = model.contests.map((m, seq) => {
    const t = tallyOf(ledger, m);
    const c = m.contest;
    const other = [{ '@type': 'ElectionResults.OtherCounts', GpUnitId: device, Overvotes: t.overvotedBallots * m.seats, Undervotes: t.undervotes, WriteIns: m.options.filter((o) => o.writeIn).reduce((s, o) => s + (t.votes[o.id] ?? 0), 0) }];
    switch (c.type) {
      case 'candidate':
        for (const cand of c.candidates) {
          candidates.push({ '@id': nistId.candidate(c.id, cand.id), '@type': 'ElectionResults.Candidate', BallotName: text(cand.name), ...(cand.party === undefined ? {} : { PartyId: nistId.party(cand.party) }) });
        }
        return {
          '@id': nistId.contest(c.id),
          '@type': 'ElectionResults.CandidateContest',
          Name: c.title,
          ElectionDistrictId: nistId.jurisdiction,
          VotesAllowed: m.seats,
          NumberElected: m.seats,
          VoteVariation: m.seats === 1 ? 'plurality' : 'n-of-m',
          SequenceOrder: seq + 1,
          OtherCounts: other,
          ContestSelection: m.options.map((o, k) => ({
            '@id': nistId.selection(c.id, o.id),
            '@type': 'ElectionResults.CandidateSelection',
            SequenceOrder: k + 1,
            IsWriteIn: o.writeIn,
            ...(o.writeIn ? {} : { CandidateIds: [nistId.candidate(c.id, o.id)] }),
            VoteCounts: [count(t.votes[o.id] ?? 0)],
          })),
        };
      case 'measure':
        return {
          '@id': nistId.contest(c.id),
          '@type': 'ElectionResults.BallotMeasureContest',
          Name: c.title,
          ElectionDistrictId: nistId.jurisdiction,
          FullText: text(c.text),
          VoteVariation: 'plurality',
          SequenceOrder: seq + 1,
          OtherCounts: other,
          ContestSelection: m.options.map((o, k) => ({
            '@id': nistId.selection(c.id, o.id),
            '@type': 'ElectionResults.BallotMeasureSelection',
            SequenceOrder: k + 1,
            Selection: text(o.label),
            VoteCounts: [count(t.votes[o.id] ?? 0)],
          })),
        };
    }
  });
  const precincts = [...new Set(def.precincts.map((p) => p.id))];
  return {
    '@type': 'ElectionResults.ElectionReport',
    Format: 'precinct-level',
    GeneratedDate: exportDate(ledger),
    Issuer: def.election.jurisdiction,
    IssuerAbbreviation: station,
    VendorApplicationId: `${TALLYPROOF_MODEL} (${g.station.id})`,
    SequenceStart: 1,
    SequenceEnd: 1,
    // complete only once sealed with no item waiting for a decision: an undecided mark may still change a count
    Status: ledger.sealed && undecidedOf(ledger) === 0 ? 'unofficial-complete' : 'unofficial-partial',
    IsTest: g.mode === 'test',
    ...(g.mode === 'test' ? { TestType: 'pre-election logic and accuracy (test ledger)' } : {}),
    Notes: `from the ${g.mode} ledger of station ${station}, verified to entry ${ledger.head.seq} ${ledger.head.hash}; ${ledger.tally.ballots.pending} ballot(s) pending, not counted; counts after adjudication: ${ledger.adjudication?.tally.decisions ?? 0} signed decision(s) applied, ${undecidedOf(ledger)} item(s) awaiting a decision (counted as the station read them: a marginal mark for nothing); election hash ${g.election.hash}`,
    Election: [
      {
        '@type': 'ElectionResults.Election',
        Name: text(def.election.title),
        StartDate: def.election.date,
        EndDate: def.election.date,
        Type: 'other',
        OtherType: 'not stated in the election definition',
        ElectionScopeId: nistId.jurisdiction,
        BallotCounts: [{ '@type': 'ElectionResults.BallotCounts', Type: 'total', GpUnitId: device, BallotsCast: countedTally(ledger).ballots.cast, DeviceClass: deviceClass }],
        ...(candidates.length > 0 ? { Candidate: candidates } : {}),
        Contest: contests,
      },
    ],
    GpUnit: [
      { '@id': nistId.jurisdiction, '@type': 'ElectionResults.ReportingUnit', Type: 'other', OtherType: 'jurisdiction', Name: text(def.election.jurisdiction), ComposingGpUnitIds: precincts.map(nistId.precinct) },
      ...def.precincts.map((p) => ({ '@id': nistId.precinct(p.id), '@type': 'ElectionResults.ReportingUnit', Type: 'precinct', Name: text(p.name) })),
      { '@id': device, '@type': 'ElectionResults.ReportingDevice', Name: text(`station ${station}`), SerialNumber: station, DeviceClass: deviceClass },
    ],
    ...(def.parties.length > 0
      ? { Party: def.parties.map((p) => ({ '@id': nistId.party(p.id), '@type': 'ElectionResults.Party', Name: text(p.name), ...(p.abbreviation === undefined ? {} : { Abbreviation: text(p.abbreviation) }) })) }
      : {}),
  };
}

export const RESULTS_CSV_HEADER = ['Station', 'Mode', 'Contest ID', 'Contest', 'Vote For', 'Line', 'Choice ID', 'Choice', 'Party', 'Count'] as const;

/**
 * One table: per contest, a `votes` line per choice, then its `ballots`, `overvoted ballots`, `undervotes`,
 * `write-in ballots` and `marginal-mark ballots` lines; then the station's ballot counts (contest columns
 * empty). UTF-8 with a byte-order mark and CRLF line ends (RFC 4180), so Excel reads accented names right.
 */
export function resultsCsv(model: ElectionModel, ledger: CountyLedger): string {
  const g = ledger.genesis;
  const tally: Tally = countedTally(ledger);
  const decided = (ledger.adjudication?.tally.decisions ?? 0) > 0;
  const lines: string[] = [csvLine(RESULTS_CSV_HEADER, { spreadsheet: true })];
  const row = (cells: readonly (string | number)[]): void => void lines.push(csvLine(cells.map(String), { spreadsheet: true }));
  for (const m of model.contests) {
    const t = tallyOf(ledger, m);
    const c = m.contest;
    const base = [g.station.id, g.mode, c.id, c.title, m.seats] as const;
    for (const o of m.options) {
      const party = c.type === 'candidate' && !o.writeIn ? partyName(model.definition, c.candidates.find((x) => x.id === o.id)?.party) : '';
      const choice = o.writeIn ? `${o.label} ${o.id.replace(/^write-in-/, '')}` : o.label;
      row([...base, 'votes', o.id, choice, party, t.votes[o.id] ?? 0]);
      // the station's own count beside it, once decisions changed anything: the canvass sees both
      if (decided) row([...base, 'votes before adjudication', o.id, choice, party, tallyOf(ledger, m, 'before').votes[o.id] ?? 0]);
    }
    // the names the adjudicators read on this contest's write-in lines (decisions after the seal), then those not yet named
    const written = ledger.adjudication?.tally.writeIns[m.index];
    if (written !== undefined && m.options.some((o) => o.writeIn)) {
      for (const o of m.options) for (const [name, n] of Object.entries(written.writeInNames[o.id] ?? {})) row([...base, 'write-in votes by name', o.id, name, '', n]);
      row([...base, 'write-in votes not yet named', '', '', '', written.unnamedWriteIns]);
    }
    row([...base, 'ballots', '', '', '', t.ballots]);
    row([...base, 'overvoted ballots', '', '', '', t.overvotedBallots]);
    row([...base, 'undervotes', '', '', '', t.undervotes]);
    row([...base, 'write-in ballots', '', '', '', t.writeInBallots]);
    row([...base, 'marginal-mark ballots', '', '', '', t.marginalBallots]);
  }
  const b = tally.ballots;
  for (const [line, n] of [
    ['ballots cast', b.cast],
    ['ballots cast as is', b.castAsIs],
    ['ballots returned', b.returned],
    ['ballots with a marginal mark', b.marginal],
    ['ballots pending (not counted)', b.pending],
    ['adjudication decisions', ledger.adjudication?.tally.decisions ?? 0],
    ['items awaiting adjudication', undecidedOf(ledger)],
  ] as const) {
    row([g.station.id, g.mode, '', '', '', line, '', '', '', n]);
  }
  return `\uFEFF${lines.join('')}`;
}
