import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import type { ValidElection } from '../../../ballots/election';
import type { PaperBallot, PaperSummary } from '../../audit/audit-paper';
import { PaperInputError, bundleElectionDefinition, readBallotCodesFile, readElectionDefinition, readElectionKeys } from '../../audit/audit-paper-input';
import { readPaperScan } from '../../audit/audit-paper-scan';
import { readScanFile } from '../../../ballots/read/scan-file';
import type { AuditReport, BallotLookup } from '../../audit/audit-verify';
import { auditBundle } from '../../audit/audit-verify';
import { ManifestSchema, readJson } from '../../formats/bundle-files';
import type { CountyTrust } from '../../audit/county-proof-checks';
import { ConfigError, loadTrustConfig } from '../../county/config';

interface AuditOpts {
  bundle: string;
  rpc: string[];
  ballotId?: string;
  ballotCodes?: string;
  ballotImage?: string;
  electionKeys?: string;
  keyFingerprint?: string;
  election?: string;
  resultsTapeTally?: string;
  countyProof?: string;
  countyTrust?: string;
  json?: boolean;
}

function describePaper(p: PaperSummary): string[] {
  return [
    `paper ${p.serial ?? '(no serial)'}: codes from ${p.source}${p.located === 'whole-page' ? ' (found over the whole page: it did not align)' : ''}, checked with ${p.keysFile} (${p.keysFingerprint})`,
    `  address:   ${p.address}`,
    `  ballot ID: ${p.ballotId}`,
    `  voting ID: ${p.votingId}`,
  ];
}

/** Reads what the auditor gave about one paper ballot; a file that cannot serve is a CommandFailure naming it. */
async function paperBallot(ctx: CliContext, opts: AuditOpts, bundleDir: string): Promise<PaperBallot | undefined> {
  const given = [opts.ballotCodes !== undefined ? '--ballot-codes' : '', opts.ballotImage !== undefined ? '--ballot-image' : ''].filter((x) => x !== '');
  if (given.length === 0) {
    if (opts.electionKeys !== undefined || opts.keyFingerprint !== undefined || opts.election !== undefined) {
      throw new UsageError('--election-keys, --key-fingerprint and --election go with a paper ballot: give --ballot-codes <file> or --ballot-image <scan>');
    }
    return undefined;
  }
  if (given.length > 1) throw new UsageError('give either --ballot-codes or --ballot-image, not both');
  if (opts.ballotId !== undefined) throw new UsageError(`give either --ballot-id or ${given[0]}: the paper's codes name its serial`);
  if (opts.electionKeys === undefined) throw new UsageError(`${given[0]} needs --election-keys <election-public.json>: the paper is checked against the election's public keys`);
  const abs = (f: string): string => path.resolve(ctx.cwd, f);
  try {
    let election: ValidElection | undefined = bundleElectionDefinition(bundleDir);
    if (opts.election !== undefined) {
      const mine = readElectionDefinition(abs(opts.election));
      if (election !== undefined && election.hash !== mine.hash) {
        throw new CommandFailure(`${abs(opts.election)}: election hash ${mine.hash}, but the bundle carries its own definition with hash ${election.hash}`);
      }
      election = mine;
    }
    if (opts.ballotImage !== undefined && election === undefined) {
      throw new UsageError('--ballot-image needs the election definition to read the scan: the bundle carries none (it was exported without --election), so give --election <election.json>');
    }
    const bundleElection = bundleElectionHash(bundleDir);
    if (election !== undefined && bundleElection !== undefined && election.hash !== bundleElection.hash) {
      throw new CommandFailure(`${opts.election !== undefined ? abs(opts.election) : "the bundle's election-definition.json"}: election hash ${election.hash}, the bundle is for election ${bundleElection.hash}`);
    }
    const keysFile = abs(opts.electionKeys);
    const keys = readElectionKeys(keysFile);
    const base = { keys, keysFile, ...(opts.keyFingerprint !== undefined ? { keyFingerprint: opts.keyFingerprint } : {}), ...(election !== undefined ? { election } : {}) };
    if (opts.ballotCodes !== undefined) {
      const file = abs(opts.ballotCodes);
      return { ...base, source: file, codes: readBallotCodesFile(file) };
    }
    const file = abs(opts.ballotImage as string);
    if (election === undefined) throw new Error('unreachable: the election was required above');
    if (bundleElection === undefined) throw new CommandFailure(`${bundleDir}: the bundle's manifest.json does not read, so its mode is unknown; run audit verify without the paper to see why`);
    const bytes = readScanFile(file);
    if (!bytes.ok) throw new PaperInputError('unreadable', file, `cannot read the ballot image: ${bytes.error.message}`);
    const scan = await readPaperScan(bytes.value, file, { election, keys, mode: bundleElection.mode });
    return { ...base, source: file, codes: scan.codes, scan };
  } catch (e) {
    if (e instanceof PaperInputError) throw new CommandFailure(e.message);
    throw e;
  }
}

function bundleElectionHash(dir: string): { hash: string; mode: 'official' | 'test' } | undefined {
  try {
    const m = readJson(dir, 'manifest.json', ManifestSchema);
    return { hash: m.election, mode: m.mode };
  } catch {
    return undefined;
  }
}

function describeBallot(b: BallotLookup): string[] {
  const okText = b.notPublished === undefined ? 'ok: recorded, published, anchored and proven' : 'ok: recorded and proven in its signed batch; NOT YET ON CHAIN';
  const lines = [`ballot ${b.ballotId}: ${b.found ? (b.ok ? okText : 'FAILS') : 'NOT FOUND'}`];
  if (b.record !== undefined) {
    lines.push(`  record: batch ${b.batch}, leaf ${b.leafIndex}, ${b.record.mode}${b.record.castAsIs ? ', cast as is' : ''}, station ${b.record.station}`);
    for (const c of b.record.contests) {
      const flags = [c.overvote ? 'overvote' : '', c.undervote ? 'undervote' : '', c.marginal ? 'marginal' : '', c.writeIn ? 'write-in' : ''].filter((x) => x !== '');
      lines.push(`    ${c.contest}: ${c.selections.length > 0 ? c.selections.join(', ') : '(none)'}${flags.length > 0 ? ` [${flags.join(', ')}]` : ''}`);
    }
    lines.push(`  record bytes: ${b.recordHex}`);
  }
  if (b.recordsTx !== undefined) lines.push(`  records tx: ${b.recordsTx.chain} ${b.recordsTx.txid} (chunk ${b.recordsTx.chunk}, block ${b.recordsTx.height} ${b.recordsTx.blockHash})`);
  if (b.anchorTx !== undefined) lines.push(`  anchor tx:  ${b.anchorTx.chain} ${b.anchorTx.txid} (block ${b.anchorTx.height} ${b.anchorTx.blockHash})`);
  if (b.ots !== undefined) lines.push(`  proof: ${b.ots}`);
  if (b.countyAnchor !== undefined) lines.push(`  county anchor: round ${b.countyAnchor.round}, tx ${b.countyAnchor.txid} (block ${b.countyAnchor.height}); each link from record to block: the county-proof line above`);
  if (b.notPublished !== undefined) lines.push(`  not on chain: ${b.notPublished}`);
  for (const p of b.problems) lines.push(`  problem: ${p}`);
  return lines;
}

export function formatReport(r: AuditReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    const where = [c.batch !== undefined ? `batch ${c.batch}` : '', c.ballot !== undefined ? `ballot ${c.ballot}` : ''].filter((x) => x !== '').join(' ');
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${where !== '' ? ` ${where}` : ''}: ${c.detail}`);
  }
  for (const n of r.notChecked) lines.push(`not checked${n.batch !== undefined ? ` batch ${n.batch}` : ''}: ${n.detail}`);
  if (r.paper !== undefined) lines.push(...describePaper(r.paper));
  if (r.ballot !== undefined) lines.push(...describeBallot(r.ballot));
  const unchecked = r.notChecked.length === 0 ? '' : `; ${r.notChecked.length} thing(s) not checked, listed above`;
  lines.push(r.ok ? `audit: ok (${r.checks.length} checks passed${unchecked})` : `audit: FAILED: ${r.failures.length} of ${r.checks.length} checks failed${r.ballot !== undefined && !r.ballot.ok ? ', and the ballot does not check' : ''}${unchecked}`);
  return `${lines.join('\n')}\n`;
}

/** --county-proof with --county-trust: the directory and the trust policy, or nothing. */
function countyProofOption(ctx: CliContext, opts: AuditOpts): { dir: string; trust: CountyTrust } | undefined {
  if (opts.countyProof === undefined && opts.countyTrust === undefined) return undefined;
  if (opts.countyProof === undefined || opts.countyTrust === undefined) throw new UsageError('--county-proof and --county-trust go together: the proofs, and the keys that decide whom to trust');
  try {
    return { dir: path.resolve(ctx.cwd, opts.countyProof), trust: loadTrustConfig(path.resolve(ctx.cwd, opts.countyTrust)) };
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandFailure(e.message);
    throw e;
  }
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description("check an auditor's bundle without trusting the station");
  audit
    .command('verify')
    .description('verify every proof, signature, anchor and the tally in a bundle')
    .requiredOption('--bundle <dir>', 'bundle directory written by `ledger export`')
    .option('--rpc <url>', 'also check against a chain node (http://user:pass@host:port/); repeat for each chain', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--ballot-id <id>', 'look up one paper ballot (its serial or the TPB1 ballot ID code)')
    .option('--ballot-codes <file>', "a paper ballot's three QR texts (JSON {address, ballotId, votingId} or three lines): check the paper and its record")
    .option('--ballot-image <scan>', 'a scan of a paper ballot (PNG, JPEG, TIFF, PNM): its codes and marks read and checked like --ballot-codes')
    .option('--election-keys <file>', "the election's election-public.json, against which the paper's codes are checked")
    .option('--key-fingerprint <fp>', "the election office's published key fingerprint, compared with the keys file's")
    .option('--election <file>', 'the election definition, for --ballot-image when the bundle carries none')
    .option('--results-tape-tally <file>', "the results tape's tally JSON, compared with the bundle's")
    .option('--county-proof <dir>', "county proofs of the bundle's checkpoints (`county proof` files): station checkpoint → county log → anchor → block header")
    .option('--county-trust <file>', "the county log's trust policy (tallyproof-county-trust/1: log key, witness keys, quorum), with --county-proof")
    .option('--json', 'print the report as one JSON object')
    .action(
      action(ctx, async (opts: AuditOpts) => {
        const dir = path.resolve(ctx.cwd, opts.bundle);
        if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such bundle directory`);
        const paper = await paperBallot(ctx, opts, dir);
        const countyProof = countyProofOption(ctx, opts);
        const report = await auditBundle(dir, {
          rpc: opts.rpc,
          ...(paper !== undefined ? { paper } : {}),
          ...(opts.ballotId !== undefined ? { ballotId: opts.ballotId } : {}),
          ...(countyProof !== undefined ? { countyProof } : {}),
          ...(opts.resultsTapeTally !== undefined ? { resultsTapeTally: path.resolve(ctx.cwd, opts.resultsTapeTally) } : {}),
        });
        if (opts.json) ctx.io.stdout(`${JSON.stringify(report)}\n`);
        else ctx.io.stdout(formatReport(report));
        if (!report.ok) {
          const first = report.failures[0] ?? (report.ballot !== undefined ? { check: 'ballot', detail: report.ballot.problems[0] ?? 'does not check' } : undefined);
          ctx.io.stderr(`tallyproof: audit failed: ${first !== undefined ? `${first.check}: ${first.detail}` : 'see the report'}\n`);
        }
        return report.ok ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}
