import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { PRIVATE_FILE_NAME, PUBLIC_FILE_NAME, generateElectionKeys, writeElectionKeys } from '../../../ballots/identity';
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
  const election = path.join(data, 'election.json');
  fs.copyFileSync(path.join(EXAMPLES, 'municipal.json'), election);
  const say = (line: string) => ctx.io.stdout(`${line}\n`);
  const step = async (title: string, argv: string[]) => {
    say(`\n== ${title}`);
    const code = await run(argv, ctx.io, data);
    if (code !== 0) throw new CommandFailure(`demo step "${title}" failed (tallyproof ${argv.join(' ')})`);
  };

  say(`Tallyproof demo: the sample municipal election, in ${data}`);
  await step('validate the election definition', ['election', 'validate', election]);

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
    await step(`print official ballots, style ${style}`, ['ballots', 'print', '--election', election, '--keys', keys, '--passphrase-file', passFile, '--style', style, '--precinct', precinct, '--count', '10', '--out', path.join(ballots, `official-${style}.pdf`)]);
  }
  await step('print test ballots for logic-and-accuracy testing', ['ballots', 'print', '--election', election, '--keys', keys, '--passphrase-file', passFile, '--style', 'ward-1', '--precinct', 'p-101', '--count', '5', '--mode', 'test', '--out', path.join(ballots, 'test-ward-1.pdf')]);
  await step(`make a test deck of ${opts.ballots} scanned sheets`, ['testdeck', '--election', election, '--keys', keys, '--passphrase-file', passFile, '--count', String(opts.ballots), '--precinct', 'p-101', '--mode', 'official', '--out', path.join(data, 'deck'), '--jobs', String(Math.max(1, Math.min(os.availableParallelism(), 4)))]);

  say('\n== where things are');
  say(`  election       ${election}`);
  say(`  keys           ${keys}`);
  say(`  ballots (PDF)  ${ballots}`);
  say(`  test deck      ${path.join(data, 'deck')} (images and truth.json)`);
  say(`\nScanning (--scanner ${opts.scanner}), the ledger, tapes and publishing join this run as the station lands.`);
  return EXIT_OK;
}
