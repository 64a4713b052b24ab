import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_PROFILE } from '../../../calibration/profile';
import { PRIVATE_FILE_NAME, PUBLIC_FILE_NAME, generateElectionKeys, loadElectionPublicKeys, writeElectionKeys } from '../../../ballots/identity';
import { BallotReader } from '../../../ballots/read/interpret';
import { combineSheet } from '../../../ballots/read/sheet';
import type { DeckTruth } from '../../../ballots/testdeck';
import { requireElection } from '../inputs';
import { intOption } from '../args';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, action } from '../context';
import { run } from '../main';

interface DemoOptions {
  data: string;
  ballots: number;
  scanner: string;
}

/** Where the examples live next to this file, in the sources and in dist/ alike. */
const EXAMPLES = path.join(__dirname, '..', '..', '..', 'ballots', 'examples');
const DEMO_PASSPHRASE = 'demo only - never use for an election';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('an unattended run of what exists of election day on the embedded defaults')
    .option('--data <dir>', 'where to leave everything', 'tallyproof-demo')
    .option('--ballots <n>', 'sheets in the test deck', intOption('--ballots', 1, 100000), 40)
    .addOption(new Option('--scanner <kind>', 'scanner for the station (scanning arrives with the station)').choices(['simulated-serial', 'sane', 'folder']).default('simulated-serial'))
    .action(action(ctx, (opts: DemoOptions) => demo(ctx, opts)));
}

async function demo(ctx: CliContext, opts: DemoOptions): Promise<number> {
  const data = path.resolve(ctx.cwd, opts.data);
  fs.mkdirSync(data, { recursive: true });
  const electionFile = path.join(data, 'election.json');
  fs.copyFileSync(path.join(EXAMPLES, 'municipal.json'), electionFile);
  const say = (line: string) => ctx.io.stdout(`${line}\n`);
  const step = async (title: string, argv: string[]) => {
    say(`\n== ${title}`);
    const code = await run(argv, ctx.io, data);
    if (code !== 0) throw new CommandFailure(`demo step "${title}" failed (tallyproof ${argv.join(' ')})`);
  };

  say(`Tallyproof demo: the sample municipal election, in ${data}`);
  await step('validate the election definition', ['election', 'validate', electionFile]);

  // Demo keys are sealed with a published passphrase, written beside them so every step can open them.
  const keys = path.join(data, 'keys');
  const passFile = path.join(keys, 'DEMO-PASSPHRASE.txt');
  say('\n== election keys');
  if (!fs.existsSync(path.join(keys, PUBLIC_FILE_NAME)) || !fs.existsSync(path.join(keys, PRIVATE_FILE_NAME))) {
    fs.mkdirSync(keys, { recursive: true });
    writeElectionKeys(keys, generateElectionKeys('florincoin-regtest'), DEMO_PASSPHRASE);
    fs.writeFileSync(passFile, `${DEMO_PASSPHRASE}\n`, { mode: 0o600 });
    say(`made demo keys in ${keys} (passphrase in ${path.basename(passFile)}: demo only)`);
  } else say(`reusing the keys in ${keys}`);

  const ballots = path.join(data, 'ballots');
  for (const [style, precinct] of [
    ['ward-1', 'p-101'],
    ['ward-2', 'p-201'],
  ] as const) {
    await step(`print official ballots, style ${style}`, ['ballots', 'print', '--election', electionFile, '--keys', keys, '--passphrase-file', passFile, '--style', style, '--precinct', precinct, '--count', '10', '--out', path.join(ballots, `official-${style}.pdf`)]);
  }
  await step('print test ballots for logic-and-accuracy testing', ['ballots', 'print', '--election', electionFile, '--keys', keys, '--passphrase-file', passFile, '--style', 'ward-1', '--precinct', 'p-101', '--count', '5', '--mode', 'test', '--out', path.join(ballots, 'test-ward-1.pdf')]);
  await step(`make a test deck of ${opts.ballots} scanned sheets`, ['testdeck', '--election', electionFile, '--keys', keys, '--passphrase-file', passFile, '--count', String(opts.ballots), '--precinct', 'p-101', '--mode', 'official', '--out', path.join(data, 'deck'), '--jobs', String(Math.max(1, Math.min(os.availableParallelism(), 4)))]);

  say('\n== read the deck as a station would');
  const deckDir = path.join(data, 'deck');
  const truth = JSON.parse(fs.readFileSync(path.join(deckDir, 'truth.json'), 'utf8')) as DeckTruth;
  const election = requireElection(ctx, electionFile);
  const publicKeys = loadElectionPublicKeys(path.join(keys, PUBLIC_FILE_NAME));
  if (!publicKeys.ok) throw new CommandFailure(publicKeys.error.message);
  const reader = new BallotReader({ election, publicKeys: publicKeys.value, profile: DEFAULT_PROFILE, station: truth.station.precinctId === undefined ? { mode: truth.station.mode } : { mode: truth.station.mode, precinctId: truth.station.precinctId } });
  const counts: Record<string, number> = {};
  let agree = 0;
  for (const sheet of truth.sheets) {
    const pages = [];
    for (const im of sheet.images) pages.push(await reader.readFile(fs.readFileSync(path.join(deckDir, im.file))));
    const read = combineSheet(pages);
    counts[read.status] = (counts[read.status] ?? 0) + 1;
    if (read.status === sheet.expected.status) agree++;
    else say(`  sheet ${sheet.index + 1}: read ${read.status} [${read.reasons.join(', ')}], the deck says ${sheet.expected.status} [${sheet.expected.reasons.join(', ')}]`);
  }
  say(`read ${truth.sheets.length} sheets: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; the outcome agrees with the deck's truth on ${agree} of ${truth.sheets.length}`);

  say('\n== where things are');
  say(`  election       ${electionFile}`);
  say(`  keys           ${keys}`);
  say(`  ballots (PDF)  ${ballots}`);
  say(`  test deck      ${path.join(data, 'deck')} (images and truth.json)`);
  say(`\nScanning (--scanner ${opts.scanner}), the ledger, tapes and publishing join this run as the station lands.`);
  return EXIT_OK;
}
