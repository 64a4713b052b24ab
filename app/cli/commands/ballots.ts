import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ValidElection } from '../../../ballots/election';
import { findStyle } from '../../../ballots/election';
import type { Mode } from '../../../ballots/identity';
import { deterministicRng, issueBallotCodes, randomSerials, secureRandom } from '../../../ballots/identity';
import type { BallotLayout } from '../../../ballots/layout';
import { layoutBallot } from '../../../ballots/layout';
import { renderBallotsPdf } from '../../../ballots/print/pdf';
import { intOption } from '../args';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';
import { requireElection, requireElectionKeys } from '../inputs';
import { writeFileAtomic } from '../write-file';

interface PrintOptions {
  election: string;
  keys: string;
  style: string;
  precinct?: string;
  mode: Mode;
  count: number;
  out: string;
  seed?: string;
  passphraseFile?: string;
}

interface LayoutOptions {
  election: string;
  style: string;
  json?: boolean;
}

export function registerBallots(program: Command, ctx: CliContext): void {
  const ballots = program.command('ballots').description('print ballots and show their layout');
  ballots
    .command('print')
    .description('print a run of ballots of one style to a PDF, each with its own serial and codes')
    .requiredOption('--election <file>', 'election definition JSON')
    .requiredOption('--keys <dir>', 'election key directory (election-public.json, election-private.json)')
    .requiredOption('--style <id>', 'ballot style')
    .option('--precinct <id>', 'precinct the ballots are for (default: the style’s first precinct)')
    .addOption(new Option('--mode <mode>', 'official ballots or test ballots for logic-and-accuracy testing').choices(['official', 'test']).default('official'))
    .requiredOption('--count <n>', 'number of ballots', intOption('--count', 1, 100000))
    .requiredOption('--out <file>', 'PDF to write')
    .option('--seed <seed>', 'derive serials from a seed (reproducible test prints only; real runs use the system RNG)')
    .option('--passphrase-file <file>', 'passphrase of the private key file (default: $TALLYPROOF_KEY_PASSPHRASE)')
    .action(action(ctx, (opts: PrintOptions) => printBallots(ctx, opts)));
  ballots
    .command('layout')
    .description('every target and code box of a ballot style, in mm from the top-left')
    .requiredOption('--election <file>', 'election definition JSON')
    .requiredOption('--style <id>', 'ballot style')
    .option('--json', 'print the geometry as JSON')
    .action(action(ctx, (opts: LayoutOptions) => showLayout(ctx, opts)));
}

function requireLayout(election: ValidElection, styleId: string, precinctId?: string, mode?: Mode): BallotLayout {
  const style = findStyle(election.definition, styleId);
  if (!style) {
    throw new UsageError(`the election has no ballot style "${styleId}"; it has ${election.definition.ballotStyles.map((s) => `"${s.id}"`).join(', ')}`);
  }
  const r = layoutBallot(election.definition, styleId, { ...(precinctId === undefined ? {} : { precinctId }), ...(mode === undefined ? {} : { mode }) });
  if (!r.ok) throw new CommandFailure(r.error.message);
  return r.value;
}

async function printBallots(ctx: CliContext, opts: PrintOptions): Promise<number> {
  const election = requireElection(ctx, opts.election);
  const style = findStyle(election.definition, opts.style);
  const precinctId = opts.precinct ?? style?.precincts[0];
  if (style && precinctId !== undefined && !style.precincts.includes(precinctId)) {
    throw new UsageError(`ballot style "${style.id}" is not used in precinct "${precinctId}"; it is used in ${style.precincts.map((p) => `"${p}"`).join(', ')}`);
  }
  const layout = requireLayout(election, opts.style, precinctId, opts.mode);
  const keys = requireElectionKeys(ctx, opts.keys, opts.passphraseFile);
  const serials = randomSerials(opts.count, opts.seed === undefined ? secureRandom : deterministicRng(opts.seed));
  const sheets = serials.map((serial) => ({
    layout,
    codes: layout.sides.map((s) => {
      const c = issueBallotCodes(keys.private, keys.public, { electionHashPrefix: election.hash.slice(0, 16), precinctId: precinctId!, styleId: opts.style, side: s.side, mode: opts.mode }, serial);
      return { address: c.address, ballotId: c.ballotId, votingId: c.votingId };
    }),
  }));
  const pdf = await renderBallotsPdf(sheets, {
    title: `${election.definition.election.title} – ${opts.mode === 'test' ? 'test ballots' : 'ballots'} – style ${opts.style}`,
    creationDate: new Date(`${election.definition.election.date}T00:00:00Z`),
  });
  if (!pdf.ok) throw new CommandFailure(pdf.error.message);
  const out = path.resolve(ctx.cwd, opts.out);
  writeFileAtomic(out, pdf.value);
  ctx.io.stdout(
    `printed ${opts.count} ${opts.mode} ballot${opts.count === 1 ? '' : 's'} of style ${opts.style} for precinct ${precinctId} ` +
      `(${layout.sides.length === 2 ? 'two-sided, ' : ''}${layout.page.size}) to ${out}\n`,
  );
  return EXIT_OK;
}

function showLayout(ctx: CliContext, opts: LayoutOptions): number {
  const election = requireElection(ctx, opts.election);
  const layout = requireLayout(election, opts.style);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const box = (r: { x: number; y: number; width: number; height: number }) => ({ x: round(r.x), y: round(r.y), width: round(r.width), height: round(r.height) });
  if (opts.json) {
    const json = {
      election: { id: election.definition.election.id, hash: election.hash },
      style: layout.styleId,
      page: { width: layout.page.width, height: layout.page.height, size: layout.page.size, sides: layout.sides.length },
      targets: layout.sides.flatMap((s) =>
        s.targets.map((t) => ({ side: t.side, contestId: t.contestId, optionId: t.optionId, writeIn: t.writeIn, ...box(t), ...(t.writeInArea === undefined ? {} : { writeInArea: box(t.writeInArea) }) })),
      ),
      codes: layout.sides.flatMap((s) => s.codes.map((c) => ({ side: c.side, kind: c.kind, ...box(c) }))),
      marks: layout.sides.flatMap((s) => s.marks.map((m) => ({ side: s.side, kind: m.kind, ...box(m) }))),
      contests: layout.sides.flatMap((s) => s.contests.map((c) => ({ side: c.side, contestId: c.contestId, ...box(c) }))),
    };
    ctx.io.stdout(`${JSON.stringify(json, null, 2)}\n`);
    return EXIT_OK;
  }
  const lines = [`${layout.page.size} ${layout.page.width} × ${layout.page.height} mm, ${layout.sides.length} side(s)`];
  for (const s of layout.sides) {
    lines.push(`${s.side}: ${s.targets.length} targets in ${s.contests.length} contests, ${s.marks.length} registration marks`);
    for (const t of s.targets) lines.push(`  ${t.contestId}/${t.optionId}`.padEnd(48) + `x ${t.x.toFixed(1)}  y ${t.y.toFixed(1)}`);
    for (const c of s.codes) lines.push(`  QR ${c.kind}`.padEnd(48) + `x ${c.x.toFixed(1)}  y ${c.y.toFixed(1)}  ${c.width} mm`);
  }
  ctx.io.stdout(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
