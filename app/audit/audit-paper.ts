import type { ValidElection } from '../../ballots/election';
import type { BallotCodes, ElectionPublicKeys, IdentityError, Mode } from '../../ballots/identity';
import { encodeVotingId, parseBallotId, parseVotingId, verifyBallotCodes } from '../../ballots/identity';
import type { BallotRecord } from '../ledger/record';
import { votingIdDigest } from '../ledger/record';
import type { PaperScan } from './audit-paper-scan';

/**
 * A paper ballot against the bundle: is the paper genuine (issued by the election office under these
 * keys, for this election), are these keys the election's, and is it the ballot whose record the bundle
 * holds (serial, voting ID digest, mode, and for a scan the marks)? Each question is one check line.
 */

export type PaperCheckName = 'ballot-codes' | 'election-keys' | 'ballot-record' | 'ballot-marks';

export interface PaperBallot {
  /** where the codes came from: the codes file or the scan */
  readonly source: string;
  readonly codes: BallotCodes;
  readonly keys: ElectionPublicKeys;
  readonly keysFile: string;
  /** the fingerprint the election office published, if the auditor has it (compared with the keys file's) */
  readonly keyFingerprint?: string;
  /** the election definition (from the bundle or --election): lets the style be checked against the precinct */
  readonly election?: ValidElection;
  readonly scan?: PaperScan;
}

/** What the report shows of the paper: the three texts as read, and the keys they were checked with. */
export interface PaperSummary {
  readonly source: string;
  readonly located?: PaperScan['located'];
  readonly address: string;
  readonly ballotId: string;
  readonly votingId: string;
  readonly serial?: string;
  readonly keysFile: string;
  readonly keysFingerprint: string;
  readonly network: string;
}

export interface PaperContext {
  readonly electionHash: string;
  readonly mode: Mode;
  readonly contests: readonly { id: string; options: readonly string[] }[];
  readonly batches: readonly { readonly batch: number; readonly decoded: readonly (BallotRecord | undefined)[] }[];
}

type Report = (check: PaperCheckName, detail: string, where?: { ballot?: string }) => void;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function describeIdentityError(e: IdentityError): string {
  const extra = [e.expected !== undefined ? `expected ${e.expected}` : '', e.found !== undefined ? `found ${e.found}` : ''].filter((x) => x !== '').join(', ');
  return `${e.code}: ${e.message}${extra !== '' ? ` (${e.where !== undefined ? `${e.where}: ` : ''}${extra})` : ''}`;
}

/** Normalises a fingerprint as a person may type it: case, spaces, with or without the dashes. */
function fingerprintKey(fp: string): string {
  return fp.toUpperCase().replace(/[^0-9A-F]/g, '');
}

/** Runs the paper's checks; returns the serial to look the record up by, if the ballot ID names one. */
export function checkPaper(paper: PaperBallot, ctx: PaperContext, pass: Report, fail: Report): { serial?: string; summary: PaperSummary } {
  const { codes, keys } = paper;
  const parsedId = parseBallotId(codes.ballotId);
  const serial = parsedId.ok ? parsedId.value.serial : undefined;
  const where = serial !== undefined ? { ballot: serial } : {};
  const summary: PaperSummary = {
    source: paper.source,
    ...(paper.scan !== undefined ? { located: paper.scan.located } : {}),
    ...codes,
    ...(serial !== undefined ? { serial } : {}),
    keysFile: paper.keysFile,
    keysFingerprint: keys.fingerprint,
    network: keys.network,
  };

  // 1. genuine: issued by the office (signature), its address derived from the serial, this election's voting ID
  const validStyles = paper.election !== undefined ? stylesByPrecinct(paper.election) : undefined;
  const verified = verifyBallotCodes(codes, keys, { electionHash: ctx.electionHash, mode: ctx.mode, ...(validStyles !== undefined ? { validStyles } : {}) });
  if (verified.ok) {
    const v = verified.value.votingId;
    pass(
      'ballot-codes',
      `issued by the election office: the ballot ID's BIP340 signature verifies under the issuing key of ${keys.fingerprint}; ` +
        `address ${codes.address} is serial ${verified.value.serial}'s under the election xpub; ` +
        `the voting ID names this bundle's election (${v.electionHashPrefix}), precinct ${v.precinctId}, style ${v.styleId}${validStyles !== undefined ? ' (one of the precinct\'s styles)' : ''}, ${v.side} side, ${v.mode}`,
      where,
    );
  } else fail('ballot-codes', describeIdentityError(verified.error), where);

  // 2. are these keys the election's? Nothing in the bundle or the ledger genesis names the keys.
  if (paper.keyFingerprint !== undefined) {
    if (fingerprintKey(paper.keyFingerprint) === fingerprintKey(keys.fingerprint)) {
      pass('election-keys', `${paper.keysFile} has fingerprint ${keys.fingerprint}, the one given with --key-fingerprint (the bundle names no key fingerprint)`, where);
    } else {
      fail('election-keys', `${paper.keysFile} has fingerprint ${keys.fingerprint}, not ${paper.keyFingerprint} given with --key-fingerprint: these are not the election's keys`, where);
    }
  } else {
    pass(
      'election-keys',
      `unchecked: the bundle names no key fingerprint; ${paper.keysFile} (${keys.network}) has fingerprint ${keys.fingerprint}, consistent with its keys: compare it with the election office's copy (or give --key-fingerprint)`,
      where,
    );
  }

  // 3. the bundle's record of this serial: same voting ID (by digest) and mode
  if (serial === undefined) {
    fail('ballot-record', 'no record can be looked up: the ballot ID code does not parse, so the paper names no serial');
    return { summary };
  }
  let found: { batch: number; record: BallotRecord } | undefined;
  for (const b of ctx.batches) {
    const d = b.decoded.find((r) => r?.ballotId === serial);
    if (d !== undefined) {
      found = { batch: b.batch, record: d };
      break;
    }
  }
  if (found === undefined) {
    fail('ballot-record', `ballot ${serial} is not in any batch of this bundle: no record of this paper was published`, where);
    return { serial, summary };
  }
  const rec = found.record;
  const problems: string[] = [];
  const notes: string[] = [];
  const paperDigest = hex(votingIdDigest(codes.votingId));
  const recDigest = hex(rec.votingIdDigest);
  const voting = parseVotingId(codes.votingId);
  if (paperDigest !== recDigest) {
    // one sheet, two sides: the record carries whichever side's voting ID the station read first
    const other = voting.ok ? encodeVotingId({ ...voting.value, side: voting.value.side === 'front' ? 'back' : 'front' }) : undefined;
    if (other !== undefined && hex(votingIdDigest(other)) === recDigest) notes.push(`the record's voting-ID digest is of the sheet's other side (${other})`);
    else problems.push(`its voting-ID digest ${recDigest} is not the digest of the paper's voting ID ${codes.votingId} (${paperDigest}): the record was made from another voting ID than this paper's`);
  }
  if (voting.ok && voting.value.mode !== rec.mode) problems.push(`the paper is a ${voting.value.mode} ballot, its record is ${rec.mode}`);
  if (rec.mode !== ctx.mode) problems.push(`the record is ${rec.mode} in a ${ctx.mode} bundle`);
  if (problems.length > 0) fail('ballot-record', `batch ${found.batch}: ${problems.join('; ')}`, where);
  else pass('ballot-record', `batch ${found.batch}: the record of serial ${serial} has the paper's voting-ID digest ${recDigest} and mode ${rec.mode}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`, where);

  // 4. a scan: do the marks the reader sees equal the record's selections?
  if (paper.scan !== undefined) checkMarks(paper.scan, rec, ctx.contests, pass, fail, where);
  return { serial, summary };
}

function stylesByPrecinct(e: ValidElection): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const st of e.definition.ballotStyles) for (const p of st.precincts) m.set(p, [...(m.get(p) ?? []), st.id]);
  return m;
}

function checkMarks(scan: PaperScan, rec: BallotRecord, contests: PaperContext['contests'], pass: Report, fail: Report, where: { ballot?: string }): void {
  const r = scan.reading;
  if (r.status === 'rejected') {
    // what the reader refuses about the paper itself (counterfeit, other election, mode) failed above; what is
    // left is the image (alignment, scale, streaks): the marks are then not compared, and the line says so
    pass('ballot-marks', `unchecked: the reader rejected the scan (${r.reasons.join(', ')}${r.detail !== undefined ? `: ${r.detail}` : ''}), so its marks are not compared with the record: compare the paper with the record below by eye`, where);
    return;
  }
  const problems: string[] = [];
  const notes: string[] = [];
  const ids = Object.keys(r.contests);
  for (const id of ids) {
    const read = r.contests[id];
    const ci = contests.findIndex((c) => c.id === id);
    const def = contests[ci];
    if (read === undefined || def === undefined) {
      problems.push(`contest ${id} of the scan is not among the bundle's contests`);
      continue;
    }
    const recorded = rec.contests.find((c) => c.contest === ci);
    const want = [...read.selections].sort();
    const have = recorded === undefined ? undefined : recorded.options.map((o) => def.options[o] ?? `#${o}`).sort();
    if (have === undefined) problems.push(`contest ${id}: the scan reads ${list(want)}, the record has no entry for it`);
    else if (want.join('\u0000') !== have.join('\u0000')) problems.push(`contest ${id}: the scan reads ${list(want)}, the record has ${list(have)}`);
    if (read.marginal.length > 0) notes.push(`contest ${id}: marginal mark${read.marginal.length > 1 ? 's' : ''} on ${read.marginal.join(', ')}, the record ${recorded?.marginal === true ? 'notes one too' : 'notes none'}: look at the paper`);
  }
  const side = r.side !== undefined ? `${r.side} side` : 'the scan';
  if (problems.length > 0) fail('ballot-marks', `${side}: ${problems.join('; ')}`, where);
  else pass('ballot-marks', `${side}: the marks read in ${ids.length} contest(s) equal the record's selections (reader with the default calibration profile)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`, where);
}

function list(xs: readonly string[]): string {
  return xs.length > 0 ? `[${xs.join(', ')}]` : '(none)';
}
