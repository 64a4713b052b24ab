import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { PRIVATE_FILE_NAME, PUBLIC_FILE_NAME, generateElectionKeys, writeElectionKeys } from '../../../ballots/identity';
import { intOption } from '../args';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';
import { requireElection, requireElectionKeys } from '../inputs';
import { electionDay } from './demo-day';
import { minimumFeeds, writeDemoDeck } from './demo-deck';
import { daySummary } from './demo-summary';
import { COUNTY_EXPORT_KINDS } from '../../county-export/export';

interface DemoOptions {
  data: string;
  ballots?: number;
  seed?: string;
  setupOnly: boolean;
  scanner: string;
}

/** Where the examples live next to this file, in the sources and in dist/ alike. */
const EXAMPLES = path.join(__dirname, '..', '..', '..', 'ballots', 'examples');
const DEMO_PASSPHRASE = 'demo only - never use for an election';
const PRECINCT = 'p-101';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('an unattended election day on the embedded defaults: keys, ballots, a deck with every kind of sheet through the station, tapes, offline publishing, the auditor bundle')
    .option('--data <dir>', 'where to leave everything (npm start keeps its own station in ./tallyproof-demo)', 'tallyproof-demo-day')
    .option('--ballots <n>', `sheets the voters feed (at least ${minimumFeeds(true)}, which hold every kind once; more are ordinary voters)`, intOption('--ballots', 1, 100000))
    .option('--seed <seed>', 'same seed, same deck and order (default: a new one each run, printed)')
    .option('--setup-only', "election, keys, ballots and a deck without the jam (a person feeds it at npm start's screen), no election day", false)
    .addOption(new Option('--scanner <kind>', 'scanner for the station: the firmware simulator on a serial link (a SANE or folder scanner needs its own `tallyproof station`)').choices(['simulated-serial', 'sane', 'folder']).default('simulated-serial'))
    .action(action(ctx, (opts: DemoOptions) => demo(ctx, opts)));
}

async function demo(ctx: CliContext, opts: DemoOptions): Promise<number> {
  if (opts.scanner !== 'simulated-serial') throw new UsageError(`the demo feeds its deck through the simulated serial scanner; run \`tallyproof station --${opts.scanner === 'sane' ? 'sane <device>' : 'simulate <dir>'}\` for a ${opts.scanner} scanner`);
  const withJam = !opts.setupOnly;
  const feeds = opts.ballots ?? minimumFeeds(withJam);
  if (feeds < minimumFeeds(withJam)) throw new UsageError(`--ballots: the demo's deck needs at least ${minimumFeeds(withJam)} sheets to hold every kind of sheet once, got ${feeds}`);
  const seed = opts.seed ?? randomBytes(4).toString('hex');
  const data = path.resolve(ctx.cwd, opts.data);
  fs.mkdirSync(data, { recursive: true });
  const electionFile = path.join(data, 'election.json');
  fs.copyFileSync(path.join(EXAMPLES, 'municipal.json'), electionFile);
  const say = (line: string) => ctx.io.stdout(`${line}\n`);
  const step = async (title: string, argv: string[]) => {
    say(`\n== ${title}`);
    const code = await ctx.run(argv, ctx.io, data);
    if (code !== 0) throw new CommandFailure(`demo step "${title}" failed (tallyproof ${argv.join(' ')})`);
  };

  say(`Tallyproof demo: the sample municipal election, in ${data} (seed ${seed})`);
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

  const deckDir = path.join(data, 'deck');
  say(`\n== make the deck: ${feeds} sheets the voters feed, every kind of sheet among them (seed ${seed})`);
  const election = requireElection(ctx, electionFile);
  const keyPair = requireElectionKeys(ctx, keys, passFile);
  const { pile } = await writeDemoDeck(deckDir, { election, publicKeys: keyPair.public, privateKeys: keyPair.private, precinctId: PRECINCT, seed, feeds, jobs: Math.max(1, Math.min(os.availableParallelism(), 4)), jam: withJam });
  say(`wrote ${deckDir}: the ballots' images and truth.json; pile/ holds them in feeding order, pile.json says what each is`);
  if (opts.setupOnly) return EXIT_OK;

  // the export USB stick, a plain directory here: every cast ballot's CVR and encrypted scans, signed manifest
  const exportDir = path.join(data, 'export-device');
  fs.rmSync(exportDir, { recursive: true, force: true });
  fs.mkdirSync(exportDir, { recursive: true });
  const day = await electionDay({
    exportDir,
    dataDir: path.join(data, 'election-day'),
    electionFile,
    publicKeysFile: path.join(keys, PUBLIC_FILE_NAME),
    precinct: PRECINCT,
    pileDir: path.join(deckDir, 'pile'),
    pile,
    say,
    log: (m: string) => ctx.io.stderr(`  station: ${m}\n`),
    safetyLimitMs: (300 + 30 * pile.feeds.length) * 1000,
  });

  await step('sign the batch for publishing, offline (demo coins: never broadcast)', ['publish', '--data', day.dataDir, '--chains', day.chainsFile, '--offline', '--funding', day.fundingFile, '--passphrase-file', day.passphraseFile]);
  const bundle = path.join(data, 'auditor-bundle');
  fs.rmSync(bundle, { recursive: true, force: true });
  await step("export the auditor's bundle", ['ledger', 'export', '--data', day.dataDir, '--out', bundle, '--election', electionFile]);
  say('\n== verify the bundle as an auditor (offline)');
  const audit = await ctx.run(['audit', 'verify', '--bundle', bundle], ctx.io, data);
  say(audit === 0 ? 'the bundle verifies offline: the batch is signed, not broadcast, so nothing is on a chain yet (see "not checked" above)' : `audit verify exit ${audit}: the bundle does not verify (see the FAIL lines above)`);

  // the county's formats (NIST CVRs, event log, results; Arlo's audit inputs), counts from the same verified ledger
  const county = path.join(data, 'county-export');
  for (const kind of COUNTY_EXPORT_KINDS) await step(`export for the county: ${kind}`, ['export', kind, '--data', day.dataDir, '--election', electionFile, '--out', county]);
  await step('verify the continuous export on the stick against the ledger', ['export', 'verify', exportDir, '--data', day.dataDir]);

  say('\n== where things are');
  say(`  election        ${electionFile}`);
  say(`  keys            ${keys}`);
  say(`  ballots (PDF)   ${ballots}`);
  say(`  test deck       ${deckDir} (images, truth.json, the pile in feeding order and pile.json)`);
  say(`  station data    ${day.dataDir} (ledger, tapes, outbox, signed transactions under publish/signed)`);
  say(`  auditor bundle  ${bundle}`);
  say(`  county export   ${county} (NIST CVRs, event logs, results JSON and CSV; Arlo manifest and CVRs)`);
  say(`  export stick    ${exportDir} (written after every cast ballot: CVRs, encrypted scans, signed manifest)`);
  for (const line of daySummary(day, { seed, signed: fs.existsSync(path.join(day.dataDir, 'publish', 'signed')), audit })) say(line);
  if (day.disagreements.length > 0) throw new CommandFailure(`the station did not do what the deck says (seed ${seed}; rerun with --seed ${seed}): ${day.disagreements.join('; ')}`);
  if (audit !== 0) throw new CommandFailure(`the auditor's bundle does not verify (audit verify exit ${audit}; seed ${seed})`);
  return EXIT_OK;
}
