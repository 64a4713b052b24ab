import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import type { AdjudicatorRole, Decision } from '../../ledger/adjudication';
import { ADJUDICATOR_ROLES, normalizeWriteInName, writeInNameProblem } from '../../ledger/adjudication';
import type { AdjudicationItem } from '../../ledger/adjudicated-tally';
import { adjudicationState } from '../../ledger/adjudicated-tally';
import { LedgerError } from '../../ledger/errors';
import { dataLayout } from '../../ledger/layout';
import { Ledger } from '../../ledger/ledger';
import { readStationPassphrase } from '../../ledger/passphrase';
import type { LedgerMode } from '../../ledger/record';
import { unlockStationKey } from '../../ledger/station-key';
import { verifyLedgerFile } from '../../ledger/verify';
import { scanAfterCrash } from '../../ledger/wal-scan';
import { ledgerFileFor, resolveData, resolveHeadsDir, verifyOptionsFor } from './ledger';
import { writeAdjudicationClips } from './adjudicate-clips';
import type { KeptImage } from '../../station/adjudication-clips';
import { keptFromStore } from '../../station/adjudication-clips';
import { IMAGE_KEY_INFO, ImageStore } from '../../ledger/image-store';

const MODES = ['official', 'test'] as const;

interface ListOpts {
  data: string;
  passphraseFile?: string;
  mode: LedgerMode;
  clips?: string;
  election?: string;
  all?: boolean;
  json?: boolean;
}

interface DecideOpts {
  data: string;
  mode: LedgerMode;
  ballot: string;
  contest: string;
  option?: string;
  wholeContest?: boolean;
  counts?: boolean;
  notCounted?: boolean;
  notAVote?: boolean;
  writeIn?: string;
  marks?: string;
  role: AdjudicatorRole;
  passphraseFile?: string;
  heads?: string;
  withoutSecondLocation?: boolean;
}

/** Storage and key errors are failures of the work (exit 1), already worded with the file. */
function failures<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LedgerError) throw new CommandFailure(e.message);
    throw e;
  }
}

/** The one decision the flags give, or a usage error naming what is wrong. */
export function decisionFromFlags(o: Pick<DecideOpts, 'counts' | 'notCounted' | 'notAVote' | 'writeIn' | 'marks'>): Decision {
  const given: Decision[] = [];
  if (o.counts === true) given.push({ kind: 'counts' });
  if (o.notCounted === true) given.push({ kind: 'not-counted' });
  if (o.notAVote === true) given.push({ kind: 'no-vote' });
  if (o.writeIn !== undefined) {
    const name = normalizeWriteInName(o.writeIn);
    const problem = writeInNameProblem(name);
    if (problem !== undefined) throw new UsageError(`--write-in: ${problem}`);
    given.push({ kind: 'write-in', name });
  }
  if (o.marks !== undefined) {
    const list = o.marks.trim();
    const options = list === '-' ? [] : list.split(',').map((s) => s.trim());
    if (options.some((s) => s.length === 0)) throw new UsageError(`--marks: give option ids separated by commas, or - for none (got "${o.marks}")`);
    given.push({ kind: 'marks', options });
  }
  if (given.length !== 1) {
    throw new UsageError(`give exactly one decision: --counts, --not-counted (a marginal mark), --write-in <name>, --not-a-vote (a write-in line), or --marks <options|-> (a contest as a whole); got ${given.length}`);
  }
  return given[0] as Decision;
}

function describe(i: AdjudicationItem): string {
  const what = i.option === null ? `${i.contest} (marginal mark, option not recorded)` : `${i.contest}/${i.option} (${i.kind})`;
  const d = i.decision;
  const decided = d === undefined ? 'undecided' : `decided at entry ${d.seq} by ${d.adjudicator.role}: ${d.decision.kind === 'write-in' ? `write-in "${d.decision.name}"` : d.decision.kind === 'marks' ? `marks ${d.decision.options.length === 0 ? 'none' : d.decision.options.join(',')}` : d.decision.kind}`;
  return `${i.ballotId}  ${what}  counted: ${i.counted.length === 0 ? 'none' : i.counted.join(',')}  ${decided}`;
}

export function registerAdjudicate(program: Command, ctx: CliContext): void {
  const adj = program.command('adjudicate').description('marginal marks and write-ins after the polls close: list them, record decisions');

  adj
    .command('list')
    .description('the items waiting for a decision (with --all, decided ones too), with image clips if asked')
    .requiredOption('--data <dir>', 'station data directory')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(MODES).default('official'))
    .option('--clips <dir>', 'write a clip of each item (the oval or the write-in line) from the kept scan into this directory')
    .option('--election <file>', 'the election definition (for --clips: where each oval and write-in line is)')
    .option('--passphrase-file <file>', 'for --clips: station key passphrase, to decrypt the kept scans (default: $TALLYPROOF_STATION_PASSPHRASE)')
    .option('--all', 'list decided items too')
    .option('--json', 'print JSON')
    .action(
      action(ctx, async (opts: ListOpts) => {
        const dir = resolveData(ctx, opts.data);
        const file = failures(() => ledgerFileFor(dir, opts.mode));
        const state = failures(() => adjudicationState(file, verifyOptionsFor(dir, opts.mode, [])));
        if (state.items === undefined || state.tally === undefined) {
          const p = state.report.problem;
          throw new CommandFailure(`${file}: the ledger does not verify, so nothing in it is adjudicated: entry ${p?.seq}: ${p?.message}`);
        }
        if (opts.clips !== undefined && opts.election === undefined) throw new UsageError('--clips needs --election <file>: the layout says where each oval and write-in line is');
        const items = state.items.filter((i) => opts.all === true || i.decision === undefined);
        const clips = opts.clips === undefined ? undefined : await writeAdjudicationClips({ ledgerFile: file, electionFile: path.resolve(ctx.cwd, opts.election as string), out: path.resolve(ctx.cwd, opts.clips), items, kept: keptImages(ctx, dir, opts.passphraseFile) });
        if (opts.json === true) {
          ctx.io.stdout(`${JSON.stringify({ ledger: file, sealed: state.report.summary?.sealedAt ?? null, decisions: state.tally.decisions, undecided: state.tally.undecided, items: items.map((i, k) => ({ ...i, ...(clips === undefined ? {} : { clip: clips[k] }) })) }, null, 2)}\n`);
          return EXIT_OK;
        }
        if (state.report.summary?.sealedAt === undefined) ctx.io.stdout('the polls have not closed (the ledger is not sealed): decisions are recorded after the close\n');
        ctx.io.stdout(`${state.tally.undecided} item(s) waiting for a decision, ${state.tally.decisions} decided\n`);
        for (const [k, i] of items.entries()) {
          const c = clips?.[k];
          ctx.io.stdout(`${describe(i)}${c === undefined ? '' : c.file !== undefined ? `  clip: ${c.file}` : `  no clip: ${c.why}`}\n`);
        }
        return EXIT_OK;
      }),
    );

  adj
    .command('decide')
    .description('record one decision, signed with the station key, as a ledger entry (the station must be stopped: at the station, use the auditor screen)')
    .requiredOption('--data <dir>', 'station data directory')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(MODES).default('official'))
    .requiredOption('--ballot <id>', 'the ballot ID (its 12-character serial)')
    .requiredOption('--contest <id>', 'the contest id')
    .option('--option <id>', 'the option whose mark or write-in line is decided')
    .option('--whole-contest', 'decide the contest as a whole (a ballot recorded without the marginal option)')
    .option('--counts', 'the marginal mark is a vote')
    .option('--not-counted', 'the marginal mark is not a vote')
    .option('--write-in <name>', 'the name written on the write-in line, as read')
    .option('--not-a-vote', 'the write-in line does not count (no name, or not a vote)')
    .option('--marks <options>', 'for --whole-contest: the options, comma-separated, whose marks count (- for none)')
    .addOption(new Option('--role <role>', 'who decides').choices(ADJUDICATOR_ROLES).default('auditor'))
    .option('--passphrase-file <file>', 'station key passphrase (default: $TALLYPROOF_STATION_PASSPHRASE)')
    .option('--heads <dir>', "the second location of the station's signed heads (its signedHeadsDir): the signed head after the decision goes there too, so a decision cut off the end of the ledger is caught")
    .option('--without-second-location', 'decide on a station that has no second location for its signed heads (a decision cut off the end, with its head, then goes unnoticed)')
    .action(
      action(ctx, (opts: DecideOpts) => {
        if ((opts.option === undefined) === (opts.wholeContest !== true)) throw new UsageError('give --option <id> or --whole-contest (one of them)');
        const decision = decisionFromFlags(opts);
        if (opts.heads === undefined && opts.withoutSecondLocation !== true) {
          throw new UsageError("adjudicate decide needs --heads <dir>, the second location of the station's signed heads: only there is a decision cut off the end of the ledger (with its signed head) seen as missing; on a station with none, say so with --without-second-location");
        }
        if (opts.heads !== undefined && opts.withoutSecondLocation === true) throw new UsageError('give --heads <dir> or --without-second-location, not both');
        const dir = resolveData(ctx, opts.data);
        const headsDir = resolveHeadsDir(ctx, opts.heads);
        return failures(() => {
          const file = ledgerFileFor(dir, opts.mode);
          const running = scanAfterCrash(file);
          if (running.kind === 'writer-running') throw new CommandFailure(`${file}: the station (process ${running.pid}) has this ledger open: decide on its auditor screen, or stop it first`);
          // a decision is signed onto the chain as it stands: never onto a ledger that does not verify
          const report = verifyLedgerFile(file, verifyOptionsFor(dir, opts.mode, [], headsDir));
          if (!report.ok) throw new CommandFailure(`${file}: the ledger does not verify, so no decision is added to it: entry ${report.problem?.seq}: ${report.problem?.message}`);
          if (report.summary?.sealedAt === undefined) throw new CommandFailure(`${file}: the polls have not closed (the ledger is not sealed): decisions are recorded after the close`);
          const key = unlockStationKey(dataLayout(dir).stationKey, readStationPassphrase(opts.passphraseFile === undefined ? undefined : path.resolve(ctx.cwd, opts.passphraseFile)));
          const ledger = Ledger.open(file);
          try {
            ledger.useHeadSigning({ signer: key, every: Number.MAX_SAFE_INTEGER, ...(headsDir === undefined ? {} : { dir: headsDir }) });
            // the command line signs in as the role for this one decision: the decision names this sign-in
            const login = ledger.recordEvent({ type: 'login', role: opts.role, detail: { via: 'command-line' } });
            const r = ledger.adjudicate({ ballotId: opts.ballot, contest: opts.contest, option: opts.option ?? null, decision, adjudicator: { role: opts.role, session: login.seq } }, key);
            ledger.recordEvent({ type: 'logout', role: opts.role, detail: { via: 'command-line' } });
            if (!r.ok) {
              ctx.io.stderr(`tallyproof: ${file}: not recorded (${r.error.kind}): ${r.error.message}\n`);
              return EXIT_FAILURE;
            }
            const s = r.value.statement;
            ctx.io.stdout(`${JSON.stringify({ entry: r.value.seq, ballot: s.ballotId, contest: s.contest, option: s.option, decision: s.decision, adjudicator: s.adjudicator, signedHead: r.value.signedHead?.seq ?? null, secondLocationError: r.value.signedHead?.secondLocationError ?? null })}\n`);
            return EXIT_OK;
          } finally {
            ledger.close();
          }
        });
      }),
    );
}

/** The station's kept scans, decrypted with the station key (the image store), for clips. */
function keptImages(ctx: CliContext, dataDir: string, passphraseFile: string | undefined): KeptImage {
  const layout = dataLayout(dataDir);
  const key = failures(() => unlockStationKey(layout.stationKey, readStationPassphrase(passphraseFile === undefined ? undefined : path.resolve(ctx.cwd, passphraseFile))));
  let store: ImageStore | undefined;
  return keptFromStore(() => (store ??= ImageStore.open(layout.images, key.deriveKey(IMAGE_KEY_INFO))));
}
