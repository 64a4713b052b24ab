import { CountyExportError } from './errors';
import { csvLine } from './csv';
import type { ElectionModel } from './election-model';
import { partyName, placeOf } from './election-model';
import type { CountyLedger } from './ledger-read';
import { recordOf } from './ledger-read';
import { applyDecisions } from '../ledger/adjudication';
import type { AtomicStreamFile } from './stream-file';

/**
 * Inputs for a ballot-comparison risk-limiting audit in Arlo (votingworks/arlo): the ballot manifest and the
 * cast vote records in the Dominion CSV layout Arlo imports (server/api/cvrs.py parse_dominion_cvrs,
 * server/api/ballot_manifest.py, server/util/csv_parse.py; README.md names the commit read). Tabulator is
 * the station id, Batch Name / BatchId the publishing batch, ImprintedId the ballot ID's serial (QR 2 on the
 * paper), so the pulled sheet is matched by the code printed on it.
 */
export const MANIFEST_HEADER = ['Container', 'Tabulator', 'Batch Name', 'Number of Ballots'] as const;
export const DOMINION_HEADERS = ['CvrNumber', 'TabulatorNum', 'BatchId', 'RecordId', 'ImprintedId', 'CountingGroup', 'PrecinctPortion', 'BallotType'] as const;
/** Arlo checks Container against its counting groups when that feature is on; a polling-place scanner's ballots are this one. */
export const COUNTING_GROUP = 'Election Day';
/** Arlo refuses a manifest row with a value that looks like a total (csv_parse.py TOTAL_REGEX). */
const TOTAL_REGEX = /(^|[^a-zA-Z])(sub)?totals?($|[^a-zA-Z])/i;

export interface ManifestBatch {
  readonly batch: number;
  readonly ballots: number;
}

/** Cast ballots per batch, batches with none left out (Arlo refuses a batch of 0 ballots). */
export function manifestBatches(ledger: CountyLedger): ManifestBatch[] {
  const counts = new Map<number, number>();
  for (const b of ledger.ballots) counts.set(b.batch, (counts.get(b.batch) ?? 0) + 1);
  const rows = [...counts.entries()].sort(([a], [b]) => a - b).map(([batch, ballots]) => ({ batch, ballots }));
  // Arlo takes a last row equal to the sum of the rows above it for a total row and refuses the file
  // (csv_parse.py reject_final_total_row, from 3 rows on): that batch, the largest, goes first instead
  const last = rows[rows.length - 1];
  if (rows.length > 2 && last !== undefined && rows.slice(0, -1).reduce((s, r) => s + r.ballots, 0) === last.ballots) {
    rows.pop();
    rows.unshift(last);
  }
  return rows;
}

export function ballotManifestCsv(ledger: CountyLedger): string {
  const station = ledger.genesis.station.id;
  if (TOTAL_REGEX.test(station)) throw new CountyExportError(ledger.file, `the station id "${station}" reads as a total row to Arlo, which would refuse the manifest; give the station another id`);
  return [csvLine(MANIFEST_HEADER), ...manifestBatches(ledger).map((r) => csvLine([COUNTING_GROUP, station, String(r.batch), String(r.ballots)]))].join('');
}

interface ChoiceColumn {
  readonly contest: number;
  readonly option: number;
}

/** Arlo keys contests by name and choices by name within a contest: both must be unique. */
function choiceColumns(model: ElectionModel, file: string): { columns: ChoiceColumn[]; contestRow: string[]; choiceRow: string[]; partyRow: string[] } {
  const titles = new Set<string>();
  const columns: ChoiceColumn[] = [];
  const contestRow: string[] = [];
  const choiceRow: string[] = [];
  const partyRow: string[] = [];
  for (const m of model.contests) {
    const title = m.contest.title.split(/\r?\n/).join(' ');
    if (titles.has(title)) throw new CountyExportError(file, `two contests are titled "${title}": Arlo tells contests apart by name only`);
    titles.add(title);
    const names = new Set<string>();
    m.options.forEach((o, k) => {
      const name = o.writeIn ? `Write-in ${o.id.replace(/^write-in-/, '')}` : o.label;
      if (names.has(name)) throw new CountyExportError(file, `contest "${title}" has two choices named "${name}": Arlo tells choices apart by name only`);
      names.add(name);
      columns.push({ contest: m.index, option: k });
      contestRow.push(`${title} (Vote For=${m.seats})`);
      choiceRow.push(name);
      partyRow.push(m.contest.type === 'candidate' && !o.writeIn ? partyName(model.definition, m.contest.candidates.find((c) => c.id === o.id)?.party) : '');
    });
  }
  return { columns, contestRow, choiceRow, partyRow };
}

/**
 * Four header rows (election; contest "Title (Vote For=N)" over each choice column; choice names; column
 * headers and party), then one row per cast ballot in publishing order: 1 for a marked choice, 0 for an
 * unmarked one, empty for a contest not on the ballot's style. An overvoted contest lists every mark, as the
 * record does; Arlo counts no votes for it, as the tally does. RecordId numbers the ballots 1, 2, 3… within
 * each batch in leaf-hash order: not a place in the ballot box (a precinct box is not a stack in casting
 * order); auditors find the sheet by ImprintedId.
 */
export function writeArloCvrs(out: AtomicStreamFile, model: ElectionModel, ledger: CountyLedger): number {
  const { columns, contestRow, choiceRow, partyRow } = choiceColumns(model, ledger.file);
  const pad = DOMINION_HEADERS.map(() => '');
  const g = ledger.genesis;
  out.write('\uFEFF');
  out.write(csvLine([model.definition.election.title, `Tallyproof ${g.station.id} ${g.mode}`, ...pad.slice(2), ...columns.map(() => '')]));
  out.write(csvLine([...pad, ...contestRow]));
  out.write(csvLine([...pad, ...choiceRow]));
  out.write(csvLine([...DOMINION_HEADERS, ...partyRow]));
  let n = 0;
  let batch = -1;
  let inBatch = 0;
  for (const b of ledger.ballots) {
    const r = recordOf(b);
    if (b.batch !== batch) {
      batch = b.batch;
      inBatch = 0;
    }
    inBatch += 1;
    n += 1;
    const place = placeOf(b.votingId, ledger.file);
    // the marks after the signed decisions: Arlo compares the paper with the CVRs the county certifies
    const decisions = ledger.adjudication?.byBallot.get(r.ballotId.toUpperCase())?.decisions ?? [];
    const byContest = new Map(
      r.contests.map((c) => {
        const m = model.contests[c.contest];
        const mine = decisions.filter((d) => d.statement.contest === m?.contest.id).map((d) => d.statement);
        if (m === undefined || mine.length === 0) return [c.contest, c];
        return [c.contest, { ...c, options: applyDecisions(c, m.seats, m.options.map((o) => o.id), mine).options }];
      }),
    );
    const marks = columns.map(({ contest, option }) => {
      const c = byContest.get(contest);
      if (c === undefined) return '';
      return c.options.includes(option) ? '1' : '0';
    });
    out.write(csvLine([String(n), g.station.id, String(b.batch), String(inBatch), r.ballotId, COUNTING_GROUP, place.precinctId, place.styleId, ...marks]));
  }
  return n;
}
