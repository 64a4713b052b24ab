import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { Mode } from '../../../ballots/identity';
import type { DeckTruth, DistortionProfile, ImageFormat, MarkKind, SheetKind, TruthSheet } from '../../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, SHEET_KINDS, TestDeck, renderDeck } from '../../../ballots/testdeck';
import { intOption } from '../args';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, action } from '../context';
import { requireElection, requireElectionKeys } from '../inputs';
import { writeFileAtomic } from '../write-file';

interface DeckCliOptions {
  election: string;
  keys: string;
  count: number;
  out: string;
  dpi: number;
  seed: string;
  precinct?: string;
  mode: Mode;
  kinds: Partial<Record<SheetKind, number>>;
  marks: MarkKind[];
  distortion: DistortionProfile;
  format: ImageFormat;
  streaks: number;
  stray: boolean;
  passphraseFile?: string;
  jobs: number;
}

export function registerTestdeck(program: Command, ctx: CliContext): void {
  program
    .command('testdeck')
    .description('scanner-like images of marked ballots with a truth.json of every intended mark')
    .requiredOption('--election <file>', 'election definition JSON')
    .requiredOption('--keys <dir>', 'election key directory')
    .requiredOption('--count <n>', 'number of sheets', intOption('--count', 1, 10_000_000))
    .requiredOption('--out <dir>', 'directory for the images and truth.json')
    .option('--dpi <n>', 'scan resolution', intOption('--dpi', 100, 600), 200)
    .option('--seed <seed>', 'same seed, same deck', '1')
    .option('--precinct <id>', "the station's precinct (default: central count, every precinct)")
    .addOption(new Option('--mode <mode>', "the station's mode").choices(['official', 'test']).default('test'))
    .option('--kinds <list>', `sheet kinds with weights, e.g. normal=80,overvote=10; kinds: ${SHEET_KINDS.join(', ')}`, parseKinds, { ...DEFAULT_KIND_WEIGHTS })
    .option('--marks <list>', `mark kinds to use: ${MARK_KINDS.join(', ')}`, parseMarks, [...MARK_KINDS])
    .addOption(new Option('--distortion <profile>', 'scan distortions').choices(['none', 'mild', 'full']).default('full'))
    .addOption(new Option('--format <format>', 'image format').choices(['png', 'jpeg', 'tiff']).default('png'))
    .option('--streaks <rate>', 'share of sheets with vertical scanner streaks (0-1)', parseRate, 0.02)
    .option('--no-stray', 'no stray marks outside targets')
    .option('--jobs <n>', 'worker threads (default: one per core)', intOption('--jobs', 1, 64), os.availableParallelism())
    .option('--passphrase-file <file>', 'passphrase of the private key file (default: $TALLYPROOF_KEY_PASSPHRASE)')
    .action(action(ctx, (opts: DeckCliOptions) => makeDeck(ctx, opts)));
}

function parseKinds(raw: string): Partial<Record<SheetKind, number>> {
  const out: Partial<Record<SheetKind, number>> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, weight = '1'] = part.split('=');
    if (!(SHEET_KINDS as readonly string[]).includes(name ?? '')) throw new InvalidArgumentError(`unknown sheet kind "${name}"; kinds are ${SHEET_KINDS.join(', ')}`);
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) throw new InvalidArgumentError(`the weight of ${name} must be a non-negative number, got "${weight}"`);
    out[name as SheetKind] = w;
  }
  return out;
}

function parseMarks(raw: string): MarkKind[] {
  const kinds = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) if (!(MARK_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`unknown mark kind "${k}"; kinds are ${MARK_KINDS.join(', ')}`);
  if (kinds.length === 0) throw new InvalidArgumentError('give at least one mark kind');
  return kinds as MarkKind[];
}

function parseRate(raw: string): number {
  const r = Number(raw);
  if (!Number.isFinite(r) || r < 0 || r > 1) throw new InvalidArgumentError(`a rate between 0 and 1, got "${raw}"`);
  return r;
}

async function makeDeck(ctx: CliContext, opts: DeckCliOptions): Promise<number> {
  const election = requireElection(ctx, opts.election);
  if (opts.precinct !== undefined && !election.definition.precincts.some((p) => p.id === opts.precinct)) {
    throw new CommandFailure(`the election has no precinct "${opts.precinct}"`);
  }
  const keys = requireElectionKeys(ctx, opts.keys, opts.passphraseFile);
  const deck = new TestDeck({
    election,
    publicKeys: keys.public,
    privateKeys: keys.private,
    seed: opts.seed,
    dpi: opts.dpi,
    mode: opts.mode,
    ...(opts.precinct === undefined ? {} : { precinctId: opts.precinct }),
    kinds: opts.kinds,
    markKinds: opts.marks,
    distortion: opts.distortion,
    streakRate: opts.streaks,
    strayMarks: opts.stray,
    marginalRate: 0.04,
    erasureRate: 0.1,
    format: opts.format,
  });
  const out = path.resolve(ctx.cwd, opts.out);
  fs.mkdirSync(out, { recursive: true });
  const sheets: TruthSheet[] = new Array<TruthSheet>(opts.count);
  const started = process.hrtime.bigint();
  await renderDeck(deck.options, opts.count, opts.jobs, (sheet) => {
    for (const img of sheet.images) fs.writeFileSync(path.join(out, img.file), img.bytes);
    sheets[sheet.index] = sheet.truth;
  });
  const truth: DeckTruth = { ...deck.truthHeader, sheets };
  writeFileAtomic(path.join(out, 'truth.json'), `${JSON.stringify(truth)}\n`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const byStatus = countBy(sheets, (s) => s.expected.status);
  ctx.io.stdout(
    `wrote ${opts.count} sheet${opts.count === 1 ? '' : 's'} (${sheets.reduce((n, s) => n + s.images.length, 0)} images, ${opts.dpi} dpi ${opts.format}) and truth.json to ${out}\n` +
      `  expected: ${Object.entries(byStatus).map(([k, v]) => `${v} ${k}`).join(', ')}; ${(opts.count / seconds).toFixed(1)} sheets/s\n`,
  );
  return EXIT_OK;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}
