import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CalibrationProfile } from '../../../calibration/profile';
import { DEFAULT_PROFILE, loadProfile } from '../../../calibration/profile';
import { formatProblems } from '../../../ballots/election';
import type { ElectionPublicKeys, Mode } from '../../../ballots/identity';
import { PUBLIC_FILE_NAME, loadElectionPublicKeys } from '../../../ballots/identity';
import type { PageReading } from '../../../ballots/read/interpret';
import { BallotReader } from '../../../ballots/read/interpret';
import { REASON_TEXT } from '../../../ballots/read/reasons';
import { readScanFile } from '../../../ballots/read/scan-file';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, action } from '../context';
import { requireElection } from '../inputs';
import { deriveProfile } from '../../../calibration/calibrate';
import { describeThresholds } from '../../../calibration/profile';
import { writeFileAtomic } from '../write-file';

interface InterpretOptions {
  election: string;
  calibration?: string;
  keys?: string;
  mode: Mode;
  precinct?: string;
  undervotes?: boolean;
  json?: boolean;
  debug?: string;
}

export function registerInterpret(program: Command, ctx: CliContext): void {
  program
    .command('interpret')
    .description('read scanned ballot images: codes, alignment, marks; one JSON object per line')
    .requiredOption('--election <file>', 'election definition JSON')
    .option('--calibration <file>', 'scanner calibration profile JSON (default: built-in thresholds)')
    .option('--keys <path>', `election public keys (${PUBLIC_FILE_NAME}, or its directory; default: beside the election file)`)
    .addOption(new Option('--mode <mode>', "the station's mode").choices(['official', 'test']).default('official'))
    .option('--precinct <id>', "the station's precinct (default: central count, any precinct)")
    .option('--undervotes', 'return ballots with undervotes for review')
    .option('--json', 'print one JSON object per image')
    .option('--debug <dir>', 'write a scoring report per image: the scan with every target’s score drawn on it')
    .argument('<image...>', 'scanned ballot images')
    .action(action(ctx, (images: string[], opts: InterpretOptions) => interpret(ctx, images, opts)));
  program
    .command('calibrate')
    .description('derive mark thresholds from scans of blank and fully marked calibration sheets')
    .requiredOption('--election <file>', 'election definition JSON')
    .requiredOption('--out <file>', 'calibration profile to write')
    .option('--keys <path>', `election public keys (${PUBLIC_FILE_NAME}, or its directory; default: beside the election file)`)
    .option('--name <name>', 'profile name printed on tapes', `calibrated ${new Date().toISOString().slice(0, 10)}`)
    .addOption(new Option('--mode <mode>', 'mode of the calibration sheets').choices(['official', 'test']).default('test'))
    .argument('<image...>', 'calibration sheet scans: blank ballots and ballots with every target filled')
    .action(action(ctx, (images: string[], opts: CalibrateOptions) => calibrate(ctx, images, opts)));
}

interface CalibrateOptions {
  election: string;
  out: string;
  keys?: string;
  name: string;
  mode: Mode;
}

async function calibrate(ctx: CliContext, images: string[], opts: CalibrateOptions): Promise<number> {
  const election = requireElection(ctx, opts.election);
  const reader = new BallotReader({ election, publicKeys: requirePublicKeys(ctx, opts.election, opts.keys), profile: DEFAULT_PROFILE, station: { mode: opts.mode } });
  const pages: PageReading[] = [];
  for (const image of images) {
    const bytes = readScanFile(path.resolve(ctx.cwd, image));
    if (!bytes.ok) throw new CommandFailure(`cannot read calibration scan ${image}: ${bytes.error.message}`);
    pages.push(await reader.readFile(bytes.value));
  }
  const dpis = pages.flatMap((p) => (p.alignment ? [p.alignment.dpi] : [])).sort((a, b) => a - b);
  const r = deriveProfile(pages, { name: opts.name, ...(dpis.length > 0 ? { dpi: Math.round(dpis[Math.floor(dpis.length / 2)]!) } : {}) });
  for (const rej of r.ok ? r.value.rejectedImages : pages.flatMap((p, index) => (p.status === 'rejected' ? [{ index, reasons: p.reasons }] : []))) {
    ctx.io.stderr(`skipped ${images[rej.index]}: ${rej.reasons.join(', ')}\n`);
  }
  if (!r.ok) throw new CommandFailure(`cannot calibrate: ${r.error.message}`);
  const rep = r.value;
  const out = path.resolve(ctx.cwd, opts.out);
  writeFileAtomic(out, `${JSON.stringify(rep.profile, null, 2)}\n`);
  const d = (x: { count: number; mean: number; min: number; p01: number; p99: number; max: number }) =>
    `n ${x.count}, mean ${x.mean.toFixed(3)}, min ${x.min.toFixed(3)}, p1 ${x.p01.toFixed(3)}, p99 ${x.p99.toFixed(3)}, max ${x.max.toFixed(3)}`;
  ctx.io.stdout(
    `calibration from ${rep.blankSheets} blank and ${rep.markedSheets} marked sheet images\n` +
      `  blank targets   ${d(rep.blank)}\n` +
      `  marked targets  ${d(rep.marked)}\n` +
      `  separation      gap ${rep.gap.toFixed(3)}, d' ${rep.dPrime.toFixed(1)}\n` +
      `  ${describeThresholds(rep.profile)}\n` +
      `wrote ${out}\n`,
  );
  return EXIT_OK;
}

export function requirePublicKeys(ctx: CliContext, electionFile: string, keys: string | undefined): ElectionPublicKeys {
  let file = keys === undefined ? path.join(path.dirname(path.resolve(ctx.cwd, electionFile)), PUBLIC_FILE_NAME) : path.resolve(ctx.cwd, keys);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, PUBLIC_FILE_NAME);
  if (!fs.existsSync(file)) {
    throw new CommandFailure(`no election public keys at ${file}: pass --keys <election-public.json or its directory> so ballot IDs can be authenticated`);
  }
  const r = loadElectionPublicKeys(file);
  if (!r.ok) throw new CommandFailure(r.error.message);
  return r.value;
}

export function requireProfile(ctx: CliContext, file: string | undefined): CalibrationProfile {
  if (file === undefined) return DEFAULT_PROFILE;
  const r = loadProfile(path.resolve(ctx.cwd, file));
  if (!r.ok) throw new CommandFailure(`${file} is not a valid calibration profile:\n${formatProblems(r.error)}`);
  return r.value;
}

async function interpret(ctx: CliContext, images: string[], opts: InterpretOptions): Promise<number> {
  const election = requireElection(ctx, opts.election);
  if (opts.precinct !== undefined && !election.definition.precincts.some((p) => p.id === opts.precinct)) {
    throw new CommandFailure(`the election has no precinct "${opts.precinct}"`);
  }
  const reader = new BallotReader({
    election,
    publicKeys: requirePublicKeys(ctx, opts.election, opts.keys),
    profile: requireProfile(ctx, opts.calibration),
    station: opts.precinct === undefined ? { mode: opts.mode } : { mode: opts.mode, precinctId: opts.precinct },
    returnUndervotes: opts.undervotes ?? false,
  });
  let missing = 0;
  for (const image of images) {
    const file = path.resolve(ctx.cwd, image);
    const bytes = readScanFile(file);
    if (!bytes.ok) {
      missing++;
      print(ctx, opts, image, { status: 'rejected', reasons: [bytes.error.code === 'too-large' ? 'image-too-large' : 'unreadable-image'], detail: `${file}: ${bytes.error.message}`, contests: {}, marks: [], ms: 0 });
      continue;
    }
    let scoring: Buffer | undefined;
    const reading = await reader.readFile(bytes.value, opts.debug === undefined ? {} : { onScoring: (png) => void (scoring = png) });
    if (opts.debug !== undefined && scoring) {
      const out = path.join(path.resolve(ctx.cwd, opts.debug), `${path.basename(image).replace(/\.[^.]+$/, '')}.scores.png`);
      writeFileAtomic(out, scoring);
    }
    print(ctx, opts, image, reading);
  }
  return missing > 0 ? EXIT_FAILURE : EXIT_OK;
}

function print(ctx: CliContext, opts: InterpretOptions, file: string, r: PageReading): void {
  if (opts.json) {
    const { status, reasons, ballotId, votingId, address, contests, marks, ms, ...rest } = r;
    ctx.io.stdout(`${JSON.stringify({ file, status, reasons, ballotId: ballotId ?? null, votingId: votingId ?? null, address: address ?? null, contests, marks, ms, ...rest })}\n`);
    return;
  }
  const why = r.reasons.map((reason) => `${reason}: ${REASON_TEXT[reason].pollWorker}`).join(' ');
  const votes = Object.entries(r.contests)
    .map(([id, c]) => `${id}=${c.overvote ? 'OVERVOTE' : c.selections.join('+') || '-'}`)
    .join(' ');
  ctx.io.stdout(`${file}: ${r.status.toUpperCase()}${r.ballotId ? ` ballot ${r.ballotId}` : ''}${why ? ` — ${why}` : ''}${r.detail ? ` (${r.detail})` : ''}${votes ? `\n  ${votes}` : ''}\n`);
}
