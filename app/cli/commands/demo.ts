import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { PRIVATE_FILE_NAME, PUBLIC_FILE_NAME, generateElectionKeys, writeElectionKeys } from '../../../ballots/identity';
import type { DeckTruth } from '../../../ballots/testdeck';
import { intOption } from '../args';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';
import { run } from '../main';
import { openScanner } from '../../../firmware-bridge/config';
import type { ApiResult, CommandOutcome, SheetFeedback, StationCommand } from '../../station/api';
import type { Station } from '../../station/station';
import { startStation } from '../../station/station';

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
    .description('an unattended election day on the embedded defaults: keys, ballots, a mixed deck through the station, tapes, offline publishing, the auditor bundle')
    .option('--data <dir>', 'where to leave everything', 'tallyproof-demo')
    .option('--ballots <n>', 'sheets in the test deck', intOption('--ballots', 1, 100000), 40)
    .addOption(new Option('--scanner <kind>', 'scanner for the station: the firmware simulator on a serial link (a SANE or folder scanner needs its own `tallyproof station`)').choices(['simulated-serial', 'sane', 'folder']).default('simulated-serial'))
    .action(action(ctx, (opts: DemoOptions) => demo(ctx, opts)));
}

async function demo(ctx: CliContext, opts: DemoOptions): Promise<number> {
  if (opts.scanner !== 'simulated-serial') throw new UsageError(`the demo feeds its deck through the simulated serial scanner; run \`tallyproof station --${opts.scanner === 'sane' ? 'sane <device>' : 'simulate <dir>'}\` for a ${opts.scanner} scanner`);
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

  const deckDir = path.join(data, 'deck');
  const truth = JSON.parse(fs.readFileSync(path.join(deckDir, 'truth.json'), 'utf8')) as DeckTruth;
  const day = await electionDay(ctx, { data, electionFile, publicKeysFile: path.join(keys, PUBLIC_FILE_NAME), deckDir, truth, say });

  await step('sign the batch for publishing, offline (demo coins: never broadcast)', ['publish', '--data', day.dataDir, '--chains', day.chainsFile, '--offline', '--funding', day.fundingFile, '--passphrase-file', day.passphraseFile]);
  const bundle = path.join(data, 'auditor-bundle');
  fs.rmSync(bundle, { recursive: true, force: true });
  await step("export the auditor's bundle", ['ledger', 'export', '--data', day.dataDir, '--out', bundle, '--election', electionFile]);
  say('\n== verify the bundle as an auditor (offline)');
  const audit = await run(['audit', 'verify', '--bundle', bundle], ctx.io, data);
  say(audit === 0 ? 'the bundle verifies offline: the batch is signed, not broadcast, so nothing is on a chain yet (see "not checked" above)' : `audit verify exit ${audit}: the bundle does not verify (see the FAIL lines above)`);

  say('\n== where things are');
  say(`  election        ${electionFile}`);
  say(`  keys            ${keys}`);
  say(`  ballots (PDF)   ${ballots}`);
  say(`  test deck       ${deckDir} (images and truth.json)`);
  say(`  station data    ${day.dataDir} (ledger, tapes, outbox, signed transactions under publish/signed)`);
  say(`  tapes           ${day.tapes.join(', ')}`);
  say(`  auditor bundle  ${bundle}`);
  if (!day.agrees) throw new CommandFailure('the station\'s counts disagree with the deck\'s truth (see above)');
  return EXIT_OK;
}

const DEMO_PINS = { 'poll-worker': '1111', captain: '2222', auditor: '3333' } as const;
const DEMO_STATION_PASSPHRASE = 'demo station only - never use for an election';
/** Offline signing needs coins to spend; these are made up, so the signed transactions can never be mined. */
const DEMO_COIN_TXID = 'de'.repeat(32);

interface DayInput {
  readonly data: string;
  readonly electionFile: string;
  readonly publicKeysFile: string;
  readonly deckDir: string;
  readonly truth: DeckTruth;
  readonly say: (line: string) => void;
}

interface DayResult {
  readonly dataDir: string;
  readonly chainsFile: string;
  readonly fundingFile: string;
  readonly passphraseFile: string;
  readonly tapes: readonly string[];
  readonly agrees: boolean;
}

/**
 * Election day on the real station service: the deck goes through the firmware simulator and the serial
 * driver, each sheet through the reader, the policy and the ledger; a voter who gets a ballot back casts
 * every other one as is. The station's counts are then held against the deck's truth.
 */
async function electionDay(ctx: CliContext, d: DayInput): Promise<DayResult> {
  const { say } = d;
  const dataDir = path.join(d.data, 'election-day');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const passphraseFile = path.join(dataDir, 'DEMO-STATION-PASSPHRASE.txt');
  fs.writeFileSync(passphraseFile, `${DEMO_STATION_PASSPHRASE}\n`, { mode: 0o600 });
  const chainsFile = path.join(dataDir, 'chains.json');
  fs.writeFileSync(
    chainsFile,
    `${JSON.stringify(
      {
        format: 'tallyproof-chains/1',
        records: { name: 'florincoin-regtest', network: 'florincoin-regtest', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh', feeFloorSatPerVb: 1, confTarget: 6, confirmations: 1 },
        anchor: { name: 'bitcoin-regtest', network: 'bitcoin-regtest', address: 'p2wpkh', feeFloorSatPerVb: 2, confTarget: 6, confirmations: 1, rbf: { bumpAfterBlocks: 3, factor: 1.5, maxSatPerVb: 500 } },
      },
      null,
      2,
    )}\n`,
  );
  const fundingFile = path.join(dataDir, 'demo-coins.json');
  fs.writeFileSync(
    fundingFile,
    `${JSON.stringify({ format: 'tallyproof-funding/1', coins: [{ role: 'records', txid: DEMO_COIN_TXID, vout: 0, valueSat: '100000000' }, { role: 'anchor', txid: DEMO_COIN_TXID, vout: 1, valueSat: '100000000' }] }, null, 2)}\n`,
  );

  say(`\n== election day: the station, a simulated scanner fed ${d.truth.sheets.length} sheets, a ledger in ${dataDir}`);
  const log = (m: string) => ctx.io.stderr(`  station: ${m}\n`);
  const opened = await openScanner({ kind: 'simulated', deckDir: d.deckDir, timings: 'zero' });
  const tapes: string[] = [];
  let agrees = true;
  let station: Station | undefined;
  try {
    station = await startStation({
      dataDir,
      election: d.electionFile,
      electionKeys: d.publicKeysFile,
      precinct: d.truth.station.precinctId ?? 'p-101',
      scanner: opened.driver,
      stationPassphrase: DEMO_STATION_PASSPHRASE,
      pins: { ...DEMO_PINS },
      chains: chainsFile,
      publishOffline: true,
      readerWorkers: 0,
      log,
    });
    const st = station;
    const must = async <T>(what: string, r: Promise<ApiResult<T>>): Promise<T> => {
      const out = await r;
      if (!out.ok) throw new CommandFailure(`demo: ${what} was refused: ${out.error.message}`);
      return out.value;
    };
    const command = async (c: StationCommand): Promise<CommandOutcome> => {
      const out = await must(c, st.command({ command: c, confirm: true }));
      say(`  ${c}: ${out.message}${out.file ? ` (${out.file})` : ''}`);
      if (out.file !== undefined && out.file.endsWith('.pdf')) tapes.push(out.file);
      return out;
    };

    await must('captain login', st.login({ role: 'captain', pin: DEMO_PINS.captain }));
    await command('print-zero-tape');

    // every sheet ends counted, returned or rejected; a held one waits for the voter's choice
    const outcomes = new Map<string, SheetFeedback>();
    let holds = 0;
    const done = new Promise<void>((resolve) => {
      const unsubscribe = st.subscribe((e) => {
        if (e.type !== 'sheet') return;
        const f = e.feedback;
        if (f.outcome === 'awaiting-voter') {
          holds += 1;
          void st.voterDecision({ sheetId: f.sheetId, decision: holds % 2 === 1 ? 'cast-as-is' : 'return' });
          return;
        }
        outcomes.set(f.sheetId, f);
        if (outcomes.size >= d.truth.sheets.length) {
          unsubscribe();
          resolve();
        }
      });
    });
    await command('open-polls');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000 + 3_000 * d.truth.sheets.length).unref());
    if ((await Promise.race([done, timeout])) === 'timeout') say(`  only ${outcomes.size} of ${d.truth.sheets.length} sheets finished in time`);

    const byOutcome: Record<string, number> = {};
    for (const f of outcomes.values()) byOutcome[f.outcome] = (byOutcome[f.outcome] ?? 0) + 1;
    say(`  sheets: ${Object.entries(byOutcome).map(([k, v]) => `${v} ${k}`).join(', ')}; the voter was asked ${holds} time(s) and cast every other one as is`);
    await command('close-polls');
    await command('print-results-tape');
    const s = st.status();
    say(`  counts: public ${s.counts.public}, returned ${s.counts.returned}, rejected ${s.counts.rejected}, cast as is ${s.counts.castAsIs}`);

    // the deck's truth: accepted sheets always count; returned ones count when the voter cast them as is
    const accepted = d.truth.sheets.filter((x) => x.expected.status === 'accepted').length;
    const returned = d.truth.sheets.filter((x) => x.expected.status === 'returned').length;
    const castAsIs = Math.ceil(returned / 2);
    const wanted = accepted + castAsIs;
    agrees = s.counts.public === wanted && s.counts.castAsIs === castAsIs;
    say(`  the deck's truth: ${accepted} accepted + ${castAsIs} of ${returned} returned cast as is = ${wanted} counted: ${agrees ? 'the station agrees' : 'THE STATION DISAGREES'}`);
    await must('logout', st.logout());
  } finally {
    await station?.close();
    await opened.close();
  }
  return { dataDir, chainsFile, fundingFile, passphraseFile, tapes, agrees };
}
