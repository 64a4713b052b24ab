import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { formatProblems } from '../../../ballots/election';
import type { CalibrationProfile } from '../../../calibration/profile';
import { DEFAULT_PROFILE, loadProfile } from '../../../calibration/profile';
import { toHex } from '../../../lib/bytes';
import { LedgerError } from '../../ledger/errors';
import { dataLayout } from '../../ledger/layout';
import type { LedgerMode } from '../../ledger/record';
import { readStationPublicKey } from '../../ledger/station-key';
import { TallyCollector } from '../../ledger/tally';
import type { VerifyOptions } from '../../ledger/verify';
import { appendHeadsFileLine } from '../../ledger/heads-file';
import { readHeadsFile, verifyLedgerFile } from '../../ledger/verify';
import { writeAuditReport } from '../../reports/audit-report';
import { ReportError } from '../../reports/errors';
import { PAPERS } from '../../reports/paper';
import type { Paper } from '../../reports/tapes';
import { buildTapeInput } from '../../reports/tape-input';
import { LedgerEventTimes, ledgerTimeSource } from '../../reports/ledger-time';
import { bothVisitors } from '../../reports/tape-facts';
import { isoSeconds } from '../../ledger/events';
import { signedTxsForTape, writeSignedTape } from '../../reports/signed-tape';
import { publishLayout } from '../../chain/layout';
import { SignedFileSchema } from '../../chain/publish';
import { SignedQrError, encodeSignedTxParts, reassembleSignedTxs } from '../../chain/signed-qr';
import { checkpointDigest } from '../../ledger/checkpoint';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import { requireElection } from '../inputs';
import { intOption } from '../args';
import { loadChainsConfig } from '../../chain/chains-config';
import { parsePrinterArg } from '../../print/config';
import { openPrinter } from '../../print/printers';
import { readLedgerForTape } from '../../reports/ledger-tape';
import type { CheckpointQr } from '../../reports/checkpoint-qr';
import { renderTape } from '../../reports/tapes';
import { writePdfFile } from '../../reports/render';

type Kind = 'zero' | 'results';

interface TapeOptions {
  data: string;
  out: string;
  paper: Paper;
  mode: LedgerMode;
  precinct?: string;
  election?: string;
  calibration?: string;
  printedAt?: string;
  chains?: string;
  printer?: string;
  copies: number;
}

/** Where the station keeps the election package it loaded (`<data>/election/`). */
export function electionPackage(dataDir: string): { election: string; calibration: string } {
  return { election: path.join(dataDir, 'election', 'election.json'), calibration: path.join(dataDir, 'election', 'calibration.json') };
}

export function registerTape(program: Command, ctx: CliContext): void {
  const tape = program.command('tape').description("print the zero tape, the results tape or the auditor's ledger report");
  for (const kind of ['zero', 'results'] as const) {
    tape
      .command(kind)
      .description(kind === 'zero' ? 'print the zero tape (polls open): every contest at zero, from a verified empty ledger' : 'print the results tape (polls closed) from the verified ledger')
      .requiredOption('--data <dir>', 'station data directory')
      .requiredOption('--out <file>', 'PDF to write')
      .addOption(new Option('--paper <paper>', 'paper: an 80 mm roll or letter pages').choices(PAPERS).default('roll80'))
      .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
      .option('--precinct <id>', "the station's precinct (default: the one the station recorded when it loaded the election, or the election's only precinct)")
      .option('--election <file>', 'election definition (default: <data>/election/election.json)')
      .option('--calibration <file>', 'calibration profile whose thresholds are printed (default: <data>/election/calibration.json, else the built-in default)')
      .option('--chains <file>', "chains.json: the results tape's checkpoint code names its networks (default: none named)")
      .option('--printer <spec>', 'also print it: escpos:<device>, cups[:queue], cups-roll:<queue>, simulated:<dir>, simulated-letter:<dir>')
      .option('--copies <n>', 'copies to print with --printer', intOption('--copies', 1, 5), 1)
      // refused: a results tape's time is the ledger's close of polls, a zero tape's the time it is printed
      .addOption(new Option('--printed-at <iso>').hideHelp())
      .action(action(ctx, (opts: TapeOptions) => printTape(ctx, kind, opts)));
  }
  tape
    .command('audit')
    .description("print the auditor's ledger report: verdict (or the first bad entry), counts, heads, every batch's root and signature")
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--out <file>', 'PDF to write')
    .addOption(new Option('--paper <paper>', 'paper').choices(PAPERS).default('letter'))
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    // refused: the report is dated by the ledger's last event
    .addOption(new Option('--printed-at <iso>').hideHelp())
    .action(action(ctx, (opts: Omit<TapeOptions, 'precinct' | 'election' | 'calibration'>) => printAudit(ctx, opts)));
  tape
    .command('signed')
    .description('print a signed batch (publish --offline) as QR codes, for broadcast from elsewhere with publish --broadcast-qr')
    .requiredOption('--data <dir>', 'station data directory')
    .option('--batch <n>', 'which signed batch (default: the last one signed)')
    .option('--out <file>', 'PDF to write (default: <data>/publish/signed/batch-<N>.pdf)')
    .addOption(new Option('--paper <paper>', 'paper: an 80 mm roll or letter pages').choices(PAPERS).default('roll80'))
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    // refused: the tape is dated by the last ledger event its batch's checkpoint covers
    .addOption(new Option('--printed-at <iso>').hideHelp())
    .action(action(ctx, (opts: SignedTapeOptions) => printSignedTape(ctx, opts)));
}

interface SignedTapeOptions {
  data: string;
  batch?: string;
  out?: string;
  paper: Paper;
  mode: LedgerMode;
  printedAt?: string;
}

/**
 * The signed batch's transactions as codes. The codes are read back (reassembled and checked: txids,
 * roles) before anything is printed, and the records must name the ledger's checkpoint of that batch.
 */
async function printSignedTape(ctx: CliContext, opts: SignedTapeOptions): Promise<number> {
  if (opts.printedAt !== undefined) {
    throw new UsageError("--printed-at is no longer accepted: the printed time comes from the ledger's own events (the last one the batch's checkpoint covers: the close of polls for the batch written then)");
  }
  const dir = path.resolve(ctx.cwd, opts.data);
  if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such station data directory`);
  const pub = publishLayout(dir, opts.mode);
  const signedBatches = fs.existsSync(pub.signedDir)
    ? fs
        .readdirSync(pub.signedDir)
        .flatMap((f) => /^batch-([1-9]\d*)\.json$/.exec(f)?.[1] ?? [])
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  let batch: number;
  if (opts.batch !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(opts.batch)) throw new UsageError(`--batch must be a batch number (1, 2, ...), got "${opts.batch}"`);
    batch = Number(opts.batch);
    if (!signedBatches.includes(batch)) {
      throw new CommandFailure(`${pub.signedFile(batch)}: batch ${batch} of the ${opts.mode} ledger has no signed transactions (${signedBatches.length > 0 ? `signed: batch ${signedBatches.join(', ')}` : 'none is signed'}); sign with \`tallyproof publish --offline\``);
    }
  } else {
    const last = signedBatches[signedBatches.length - 1];
    if (last === undefined) throw new CommandFailure(`${pub.signedDir}: no signed transactions of the ${opts.mode} ledger; sign a closed batch first with \`tallyproof publish --offline\``);
    batch = last;
  }
  const signedFile = pub.signedFile(batch);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(signedFile, 'utf8'));
  } catch (e) {
    throw new CommandFailure(`${signedFile}: cannot read the signed file: ${(e as Error).message}`);
  }
  const parsed = SignedFileSchema.safeParse(json);
  if (!parsed.success) throw new CommandFailure(`${signedFile}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  const signed = parsed.data;

  const file = dataLayout(dir).ledger(opts.mode);
  if (!fs.existsSync(file)) throw new CommandFailure(`${file}: no ${opts.mode} ledger in this data directory`);
  const times = new LedgerEventTimes();
  const report = withLedgerErrors(() => verifyLedgerFile(file, verifyOptions(dir, opts.mode), times.visitor));
  if (!report.ok || report.summary === undefined) {
    const p = report.problem;
    throw new CommandFailure(`${file}: the ledger does not verify, so no tape is printed: entry ${p?.seq}: ${p?.kind}: ${p?.message}`);
  }
  const g = report.summary.genesis;
  const closed = report.summary.batches.find((b) => b.checkpoint.batch === batch);
  if (closed === undefined) throw new CommandFailure(`${signedFile}: the ${opts.mode} ledger has no closed batch ${batch}`);
  const when = times.lastAtOrBefore(closed.checkpoint.headSeq);
  if (when === undefined) throw new CommandFailure(`${file}: the ${opts.mode} ledger records no event up to batch ${batch}'s checkpoint (entry ${closed.checkpoint.headSeq}), so the tape has no time to print`);
  const digest = toHex(checkpointDigest(closed.body));

  let txs;
  let codes: string[];
  try {
    codes = signedTxsForTape(signed).flatMap((t) => encodeSignedTxParts(t));
    txs = reassembleSignedTxs(codes.join('\n'));
  } catch (e) {
    if (e instanceof SignedQrError || e instanceof ReportError) throw new CommandFailure(`${signedFile}: ${e.message}`);
    throw e;
  }
  const foreign = txs.filter((t) => t.checkpointPrefix !== null && !digest.startsWith(t.checkpointPrefix));
  if (foreign.length > 0) {
    throw new CommandFailure(`${signedFile}: records chunk ${foreign.map((t) => t.chunk).join(', ')} name checkpoint ${foreign[0]?.checkpointPrefix}…, the ledger's batch ${batch} is ${digest}: the signed file is not of this ledger`);
  }
  const out = opts.out !== undefined ? path.resolve(ctx.cwd, opts.out) : path.join(pub.signedDir, `batch-${batch}.pdf`);
  try {
    await writeSignedTape(
      { stationId: g.station.id, electionTitle: g.election.title, electionHash: g.election.hash, mode: g.mode, batch, checkpointDigest: digest, signed, printedAt: when.at, printedSource: ledgerTimeSource(when) },
      out,
      opts.paper,
    );
  } catch (e) {
    if (e instanceof ReportError) throw new CommandFailure(e.message);
    throw e;
  }
  ctx.io.stdout(`${JSON.stringify({ file: out, tape: 'signed', paper: opts.paper, mode: g.mode, station: g.station.id, batch, checkpointDigest: digest, transactions: txs.length, codes: codes.length })}\n`);
  return EXIT_OK;
}

/** The report is written whether or not the ledger verifies (that is what an auditor needs to see); exit 1 when it does not. */
async function printAudit(ctx: CliContext, opts: Omit<TapeOptions, 'precinct' | 'election' | 'calibration'>): Promise<number> {
  if (opts.printedAt !== undefined) {
    throw new UsageError("--printed-at is no longer accepted: the printed time comes from the ledger's own events (the report is dated by the last event it replays; a ledger with none, by the ledger file's last write)");
  }
  const dir = path.resolve(ctx.cwd, opts.data);
  if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such station data directory`);
  const file = dataLayout(dir).ledger(opts.mode);
  if (!fs.existsSync(file)) throw new CommandFailure(`${file}: no ${opts.mode} ledger in this data directory`);
  const vopts = verifyOptions(dir, opts.mode);
  const tally = new TallyCollector();
  const times = new LedgerEventTimes();
  const report = withLedgerErrors(() => verifyLedgerFile(file, vopts, bothVisitors(tally.visitor, times.visitor)));
  // the ledger's own last event; a ledger with none (cut at its start) is dated by its file's last write
  const last = times.last();
  const dated = last !== undefined ? { generatedAt: last.at, generatedSource: ledgerTimeSource(last) } : { generatedAt: isoSeconds(fs.statSync(file).mtime), generatedSource: 'no event in the ledger: the time the ledger file was last written' };
  const out = path.resolve(ctx.cwd, opts.out);
  try {
    await writeAuditReport(
      { verify: report, expectedHeads: vopts.expectedHeads ?? [], ...(report.ok && report.summary !== undefined ? { tally: tally.result(report.summary.pending) } : {}), ...dated },
      out,
      opts.paper,
    );
  } catch (e) {
    if (e instanceof ReportError) throw new CommandFailure(e.message);
    throw e;
  }
  ctx.io.stdout(`${JSON.stringify({ file: out, report: 'audit', ok: report.ok, problem: report.problem ?? null })}\n`);
  if (!report.ok) {
    const p = report.problem;
    ctx.io.stderr(`tallyproof: ${file}: entry ${p?.seq}: ${p?.kind}: ${p?.message}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

async function printTape(ctx: CliContext, kind: Kind, opts: TapeOptions): Promise<number> {
  if (opts.printedAt !== undefined) {
    throw new UsageError(`--printed-at is no longer accepted: the printed time comes from the ledger's own events (a results tape prints the time of the ledger's polls-closed entry), a zero tape the time it is printed`);
  }
  const dir = path.resolve(ctx.cwd, opts.data);
  if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such station data directory`);
  const pkg = electionPackage(dir);
  const electionFile = opts.election !== undefined ? path.resolve(ctx.cwd, opts.election) : pkg.election;
  if (opts.election === undefined && !fs.existsSync(electionFile)) throw new CommandFailure(`${electionFile}: the station has no election package here; give --election <file>`);
  const election = requireElection(ctx, electionFile);
  const profile = calibrationFor(ctx, opts.calibration, pkg.calibration);
  let printer;
  try {
    printer = opts.printer === undefined ? undefined : openPrinter(parsePrinterArg(opts.printer));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (printer !== undefined && printer.paper !== opts.paper) throw new UsageError(`--printer ${opts.printer} prints on ${printer.paper} paper: give --paper ${printer.paper}`);
  let network: CheckpointQr['network'] = null;
  if (opts.chains !== undefined) {
    try {
      const chains = loadChainsConfig(path.resolve(ctx.cwd, opts.chains));
      network = { records: chains.records.network, anchor: chains.anchor.network };
    } catch (e) {
      throw new CommandFailure((e as Error).message);
    }
  }

  const layout = dataLayout(dir);
  const file = layout.ledger(opts.mode);
  if (!fs.existsSync(file)) throw new CommandFailure(`${file}: no ${opts.mode} ledger in this data directory`);
  if (opts.mode === 'test' && !fs.existsSync(layout.ledger('official'))) throw new CommandFailure(`${layout.ledger('official')}: no official ledger, whose events say when the test began`);
  const read = withLedgerErrors(() => readLedgerForTape(layout, opts.mode, (m) => verifyOptions(dir, m), network));
  if (!read.ok) {
    const p = read.problem;
    throw new CommandFailure(`${read.file}: the ledger does not verify, so no tape is printed: entry ${p.seq}: ${p.kind}: ${p.message}`);
  }
  const d = read.value;
  const g = d.genesis;
  const fileHash = crypto.createHash('sha256').update(fs.readFileSync(electionFile)).digest('hex');
  if (g.election.hash !== election.hash && g.election.hash !== fileHash) {
    throw new CommandFailure(`${electionFile} is not this ledger's election: the ledger is for election ${g.election.hash} ("${g.election.title}"), the file hashes to ${election.hash}`);
  }

  const precinct = opts.precinct ?? d.recordedPrecinct ?? (election.definition.precincts.length === 1 ? election.definition.precincts[0]?.id : undefined);
  if (precinct === undefined) {
    throw new UsageError(`the election has ${election.definition.precincts.length} precincts and the ledger records none for this station: give --precinct (one of ${election.definition.precincts.map((p) => p.id).join(', ')})`);
  }
  const { input, printedAt, headNote } = buildTapeInput(kind, d, { election: election.definition, precinct, profile }, new Date());
  const out = path.resolve(ctx.cwd, opts.out);
  let pdf: Buffer;
  try {
    pdf = await renderTape(kind, input, opts.paper);
    writePdfFile(out, pdf);
  } catch (e) {
    if (e instanceof ReportError) throw new CommandFailure(e.message);
    throw e;
  }
  // the printed head joins the heads `ledger verify` checks, so a ledger cut back below it is caught
  const headsFile = layout.heads(opts.mode);
  try {
    appendHeadsFileLine(headsFile, { seq: d.head.seq, hash: d.head.hash, what: headNote });
  } catch (e) {
    throw new CommandFailure(`the tape ${out} was written but its head could not be recorded in ${headsFile}: ${(e as Error).message}`);
  }
  let printed: string | null = null;
  if (printer !== undefined) {
    const r = await printer.print({ pdf, title: `${kind}-tape-${g.mode}-${g.station.id}`, copies: opts.copies });
    if (!r.ok) throw new CommandFailure(`the tape ${out} was written but not printed: ${r.error.message}`);
    printed = r.value.printer;
  }
  const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
  ctx.io.stdout(
    `${JSON.stringify({ file: out, tape: kind, paper: opts.paper, mode: g.mode, precinct, station: g.station.id, head: d.head, batchRoot: input.checkpoint?.root ?? null, cast: d.tally.ballots.cast, printedAt, sha256, printed })}\n`,
  );
  return EXIT_OK;
}

function calibrationFor(ctx: CliContext, given: string | undefined, packaged: string): CalibrationProfile {
  const file = given !== undefined ? path.resolve(ctx.cwd, given) : fs.existsSync(packaged) ? packaged : undefined;
  if (file === undefined) return DEFAULT_PROFILE;
  const r = loadProfile(file);
  if (!r.ok) throw new CommandFailure(`${file} is not a valid calibration profile:\n${formatProblems(r.error)}`);
  return r.value;
}

/** The printed heads and the station key `ledger verify` checks against, so a tape trusts no less. */
function verifyOptions(dir: string, mode: LedgerMode): VerifyOptions {
  const layout = dataLayout(dir);
  const heads = withLedgerErrors(() => readHeadsFile(layout.heads(mode)));
  if (!fs.existsSync(layout.stationKey)) return { expectedHeads: heads };
  return { expectedHeads: heads, stationPublicKey: withLedgerErrors(() => readStationPublicKey(layout.stationKey)).publicKey };
}

function withLedgerErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LedgerError) throw new CommandFailure(e.message);
    throw e;
  }
}
