/**
 * Arlo's own rules for the two files it imports, re-implemented from its Python sources so the test does not
 * check the export with the code that wrote it. Source: github.com/votingworks/arlo at commit
 * 8d86156c72aad7ab2bdf896fae0357eedbed2b5b:
 *   server/util/csv_parse.py      parse_csv and its steps (manifest), column_value, decode_csv
 *   server/api/ballot_manifest.py process_ballot_manifest_file (columns; 0-ballot rows refused)
 *   server/api/cvrs.py            csv_reader_for_cvr, parse_dominion_cvrs, process_cvr_file (vote counting)
 * Only the ballot-comparison path is followed (Tabulator required, (Tabulator, Batch Name) unique).
 */
export class ArloError extends Error {}

/** Python's csv.reader on a decoded text (RFC 4180 quoting, any of CRLF / LF / CR line ends). */
export function pyCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  let any = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cell += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      any = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
      any = true;
    } else if (ch === '\r' || ch === '\n') {
      row.push(cell);
      rows.push(any || cell !== '' ? row : []);
      row = [];
      cell = '';
      any = false;
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
    } else {
      cell += ch;
      any = true;
    }
    i += 1;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** decode_csv: UTF-8 (chardet's "UTF-8-SIG" for a byte-order mark strips it; "ascii" is read as UTF-8). */
export function decodeCsv(bytes: Buffer): string {
  if (bytes.length === 0) throw new ArloError('CSV cannot be empty.');
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  return text.replace(/^\uFEFF/, '');
}

/** validate_comma_delimited: the Sniffer must find ',' as the first line's delimiter (a line with no comma has none). */
export function validateCommaDelimited(text: string): void {
  const first = text.split(/\r\n|\n|\r/)[0] ?? '';
  if (!first.includes(',')) throw new ArloError('Please submit a valid CSV file with columns separated by commas.');
}

const TOTAL_REGEX = /(^|[^a-zA-Z])(sub)?totals?($|[^a-zA-Z])/i;

export interface ManifestRow {
  readonly container: string | undefined;
  readonly tabulator: string;
  readonly batchName: string;
  readonly ballots: number;
}

/** parse_csv with ballot_manifest.py's columns for a ballot-comparison audit, then its 0-ballot check. */
export function parseArloManifest(bytes: Buffer): ManifestRow[] {
  const text = decodeCsv(bytes);
  validateCommaDelimited(text);
  const columns = [
    { name: 'Container', number: false, required: false, unique: false },
    { name: 'Tabulator', number: false, required: true, unique: true },
    { name: 'Batch Name', number: false, required: true, unique: true },
    { name: 'Number of Ballots', number: true, required: true, unique: false },
  ];
  let rows = pyCsvRows(text).map((r) => r.map((c) => c.trim()));
  if (rows.length < 2) throw new ArloError('CSV must contain at least one row after headers.');
  // skip_empty_trailing_columns
  let headers = rows[0] as string[];
  let trailing = 0;
  for (let k = headers.length - 1; k >= 0 && headers[k] === ''; k--) trailing++;
  if (trailing > 0) {
    headers = headers.slice(0, -trailing);
    rows = [headers, ...rows.slice(1).map((r, ri) => {
      r.slice(-trailing).forEach((c) => {
        if (c.length > 0) throw new ArloError(`Empty trailing column expected to have no values, but row ${ri + 2} has a value: ${c}.`);
      });
      return r.slice(0, -trailing);
    })];
  }
  // validate_and_normalize_headers
  const normalized = headers.map((h) => columns.find((c) => c.name.toLowerCase() === h.toLowerCase())?.name ?? h);
  if (new Set(normalized).size !== normalized.length) throw new ArloError('Column headers must be unique.');
  const missing = columns.filter((c) => c.required && !normalized.includes(c.name)).map((c) => c.name);
  if (missing.length > 0) throw new ArloError(`Missing required column(s): ${missing.sort().join(', ')}.`);
  if (normalized.some((h) => !columns.some((c) => c.name === h))) throw new ArloError('Found unexpected columns.');
  // convert_rows_to_dicts, reject_empty_cells, reject_total_rows, validate_and_parse_values, reject_duplicate_values
  const out: ManifestRow[] = [];
  const seen = new Set<string>();
  const numbers: number[] = [];
  rows.slice(1).forEach((raw, r) => {
    const row = raw.length === 0 ? normalized.map(() => '') : raw;
    if (row.length !== normalized.length) throw new ArloError(`Wrong number of cells in row ${r + 2}. Expected ${normalized.length}, got ${row.length}.`);
    const d = Object.fromEntries(normalized.map((h, k) => [h, row[k] as string]));
    if (Object.values(d).every((v) => v === '')) return;
    for (const [h, v] of Object.entries(d)) if (v === '') throw new ArloError(`A value is required for the cell at column ${h}, row ${r + 2}.`);
    for (const v of Object.values(d)) if (TOTAL_REGEX.test(v)) throw new ArloError(`It looks like you might have a total row (row ${r + 2}).`);
    const nText = d['Number of Ballots'] as string;
    // locale.atoi in en_US.UTF-8: digits with optional thousands separators
    if (!/^-?\d{1,3}(,\d{3})*$|^-?\d+$/.test(nText)) throw new ArloError(`Expected a number in column Number of Ballots, row ${r + 2}. Got: ${nText}.`);
    const n = Number(nText.replace(/,/g, ''));
    if (n < 0) throw new ArloError(`Expected a number greater than or equal to 0 in column Number of Ballots, row ${r + 2}.`);
    const key = JSON.stringify([d['Batch Name'], d['Tabulator']]);
    if (seen.has(key)) throw new ArloError(`Each row must be uniquely identified by ('Batch Name', 'Tabulator'). Found duplicate: ${key}.`);
    seen.add(key);
    numbers.push(n);
    out.push({ container: d['Container'], tabulator: d['Tabulator'] as string, batchName: d['Batch Name'] as string, ballots: n });
  });
  // reject_final_total_row
  const last = numbers[numbers.length - 1];
  if (numbers.length > 2 && last !== undefined && last !== 0 && numbers.slice(0, -1).reduce((s, v) => s + v, 0) === last) {
    throw new ArloError('It looks like the last row in the CSV might be a total row. Please remove this row from the CSV.');
  }
  const zero = out.filter((r) => r.ballots === 0);
  if (zero.length > 0) throw new ArloError(`Found ${zero.length} batch(es) with 0 ballots in column "Number of Ballots".`);
  return out;
}

export interface ArloCvrBallot {
  readonly tabulator: string;
  readonly batch: string;
  readonly recordId: number;
  readonly imprintedId: string;
  readonly interpretations: readonly string[];
}

export interface ArloContestMetadata {
  votesAllowed: number;
  choices: Map<string, { column: number; numVotes: number }>;
  totalBallotsCast: number;
}

/** parse_dominion_cvrs, then process_cvr_file's counting, against a parsed manifest. */
export function parseArloDominionCvrs(bytes: Buffer, manifest: readonly ManifestRow[]): { contests: Map<string, ArloContestMetadata>; ballots: ArloCvrBallot[] } {
  const text = decodeCsv(bytes);
  validateCommaDelimited(text);
  const rows = pyCsvRows(text);
  const [, contestRowRaw, choiceRowRaw, headersRow, ...data] = rows;
  if (contestRowRaw === undefined || choiceRowRaw === undefined || headersRow === undefined) throw new ArloError('StopIteration: too few header rows');
  const contestRow = contestRowRaw.map((c) => c.split(/\r\n|\n|\r/).join(' '));
  const first = contestRow.findIndex((v) => v !== '');
  if (first < 0) throw new ArloError('StopIteration: no contest column');
  const contestHeaders = contestRow.slice(first);
  const choices = choiceRowRaw.slice(first);
  const names: string[] = [];
  const allowed: number[] = [];
  for (const h of contestHeaders) {
    const m = /^(.+) \(Vote For=(\d+)\)$/s.exec(h);
    if (!m) throw new ArloError(`Invalid contest name: ${h}. Contest names should have this format: Contest Name (Vote For=1).`);
    names.push(m[1] as string);
    allowed.push(Number(m[2]));
  }
  const contests = new Map<string, ArloContestMetadata>();
  // zip() stops at the shortest of the three
  const n = Math.min(names.length, allowed.length, choices.length);
  for (let column = 0; column < n; column++) {
    const name = names[column] as string;
    let c = contests.get(name);
    if (c === undefined) {
      c = { votesAllowed: 0, choices: new Map(), totalBallotsCast: 0 };
      contests.set(name, c);
    }
    c.votesAllowed = allowed[column] as number;
    c.choices.set(choices[column] as string, { column, numVotes: 0 });
  }
  const headerIndices = new Map(headersRow.slice(0, first).map((h, k) => [h, k]));
  const manifestKeys = new Set(manifest.map((m) => JSON.stringify([m.tabulator, m.batchName])));
  const value = (row: string[], header: string, rowNumber: string | number, required = true): string | undefined => {
    const k = headerIndices.get(header);
    if (k === undefined) {
      if (required) throw new ArloError(`Missing required column ${header}.`);
      return undefined;
    }
    let v = k < row.length ? row[k] : undefined;
    if (required && (v === undefined || v === '')) throw new ArloError(`Missing required column ${header} in row ${rowNumber}.`);
    if (v !== undefined && v.startsWith('="') && v.endsWith('"')) v = v.slice(2, -1);
    return v;
  };
  const ballots: ArloCvrBallot[] = [];
  const positions = new Set<string>();
  data.forEach((row, r) => {
    const cvrNumber = value(row, 'CvrNumber', r + 1) as string;
    const tabulator = value(row, 'TabulatorNum', cvrNumber) as string;
    const batch = value(row, 'BatchId', cvrNumber) as string;
    const recordText = value(row, 'RecordId', cvrNumber) as string;
    const imprinted = value(row, 'ImprintedId', cvrNumber, !headerIndices.has('UniqueVotingIdentifier')) || value(row, 'UniqueVotingIdentifier', cvrNumber);
    if (!manifestKeys.has(JSON.stringify([tabulator, batch]))) throw new ArloError(`Couldn't find a matching batch for TabulatorNum: ${tabulator}, BatchId: ${batch} (CvrNumber: ${cvrNumber}).`);
    // int(record_id) in Python: an integer literal, surrounding blanks allowed
    if (!/^\s*[+-]?\d+\s*$/.test(recordText)) throw new ArloError(`ValueError: invalid literal for int(): '${recordText}'`);
    const recordId = Number(recordText);
    // the COPY into cvr_ballot keys (batch, record_id) when it numbers ballot positions
    const pos = JSON.stringify([tabulator, batch, recordId]);
    if (positions.has(pos)) throw new ArloError(`two CVRs with RecordId ${recordId} in batch ${batch}`);
    positions.add(pos);
    const interpretations = row.slice(first);
    ballots.push({ tabulator, batch, recordId, imprintedId: imprinted as string, interpretations });
    // process_cvr_file's running totals
    for (const c of contests.values()) {
      for (const m of c.choices.values()) if (m.column >= interpretations.length) throw new ArloError(`IndexError: row ${r + 5} has ${interpretations.length} interpretation cells`);
      const got = [...c.choices.entries()].map(([choice, m]) => [choice, interpretations[m.column]] as const);
      if (got.some(([, v]) => v === '' || v === undefined)) continue;
      if (got.some(([, v]) => v === 'o' || v === 'u')) continue;
      const parsed = got.map(([choice, v]) => {
        if (!/^\s*[+-]?\d+\s*$/.test(v as string)) throw new ArloError(`Unable to parse '${v}' as an integer.`);
        return [choice, Number(v)] as const;
      });
      const votes = parsed.reduce((s, [, v]) => s + v, 0);
      if (votes <= c.votesAllowed) for (const [choice, v] of parsed) (c.choices.get(choice) as { numVotes: number }).numVotes += v;
    }
    for (const c of contests.values()) {
      const onBallot = [...c.choices.values()].every((m) => interpretations[m.column] !== '' && interpretations[m.column] !== undefined);
      if (onBallot) c.totalBallotsCast += 1;
    }
  });
  return { contests, ballots };
}
