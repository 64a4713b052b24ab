import fs from 'node:fs';
import path from 'node:path';
import { BundleError } from '../formats/bundle-files';
import type { PaperBallot, PaperSummary } from './audit-paper';
import { checkPaper } from './audit-paper';
import { lookupBallot } from './ballot-lookup';
import { checkBatches, checkConsistency, checkManifest, readStatements } from './bundle-checks';
import { checkChains } from './node-checks';
import { checkCountyProofs, requireCountyProof, type CountyTrust } from './county-proof-checks';
import { checkPublications } from './publication-checks';
import type { AuditReport, BallotLookup, Findings } from './report';
import { newFindings } from './report';
import { checkResultsTape, checkTally } from './tally-check';

/**
 * `tallyproof audit verify`: everything an auditor can check from the bundle alone, and with --rpc against
 * nodes. Each check lands in the report with what it covered; a failure names its batch, ballot and cause.
 * Nothing stops at the first failure: the report lists every one found.
 */

export type { AuditCheck, AuditReport, BallotLookup, CheckName, NotChecked } from './report';

export interface AuditOptions {
  readonly rpc?: readonly string[];
  readonly ballotId?: string;
  /** a tally JSON file from the results tape, compared with the bundle's tally */
  readonly resultsTapeTally?: string;
  /** a paper ballot's codes and the election keys: checked, then its record looked up as for ballotId */
  readonly paper?: PaperBallot;
  /** county proofs of the bundle's checkpoints (`county proof`'s files) and the county log's trust policy */
  readonly countyProof?: { readonly dir: string; readonly trust: CountyTrust };
}

/**
 * The steps, in the order the report lists their checks: 1 the manifest, 2 the bundle's own statements
 * (without them nothing further can be checked), 3 checkpoints, batch files and inclusion proofs, 4
 * consistency between checkpoints, 5 each batch's publication or pending statement, 6 the tally and a
 * results tape, 7 the nodes given (or a note that the chain was not checked), 8 a paper ballot.
 */
export async function auditBundle(bundleDir: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const dir = path.resolve(bundleDir);
  const findings = newFindings();
  const finish = (ballot?: BallotLookup, paper?: PaperSummary): AuditReport => report(dir, findings, ballot, paper);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    findings.fail('bundle', `${dir} is not a bundle directory`);
    return finish();
  }
  const manifest = checkManifest(dir, findings);
  const statements = readStatements(dir, findings);
  if (statements === undefined) return finish();
  const { stationKey, election, cpList, bundleTally, status } = statements;
  const batches = checkBatches(dir, cpList, manifest, stationKey, findings);
  checkConsistency(dir, batches, findings);
  // 9 (before 5, which it stands in for): county proofs of the bundle's checkpoints
  if (opts.countyProof !== undefined) await checkCountyProofs(opts.countyProof.dir, opts.countyProof.trust, batches, Buffer.from(stationKey.publicKey, 'hex'), opts.rpc, findings);
  checkPublications(dir, batches, findings);
  if (bundleTally !== undefined && status !== undefined) checkTally(election, stationKey, manifest?.mode ?? 'official', batches, bundleTally, status, findings.pass, findings.fail);
  if (opts.resultsTapeTally !== undefined && bundleTally !== undefined) checkResultsTape(opts.resultsTapeTally, bundleTally, findings);
  await checkChains(opts.rpc, batches, findings);
  // a ballot asked about with --county-proof: its batch's county proof must have checked out
  const county = (ballot: BallotLookup | undefined): BallotLookup | undefined => {
    if (opts.countyProof === undefined || ballot?.batch === undefined) return ballot;
    const b = ballot.batch;
    const missing = requireCountyProof(opts.countyProof.dir, batches.find((lb) => lb.checkpoint.batch === b), b, findings);
    return missing === undefined ? ballot : { ...ballot, ok: false, problems: [...ballot.problems, `county-proof batch ${b}: ${missing}`] };
  };

  // 8. a paper ballot: genuine, of these keys, and the ballot whose record the bundle holds
  if (opts.paper !== undefined) {
    const paper = checkPaper(
      opts.paper,
      { electionHash: election.hash, mode: manifest?.mode ?? batches[0]?.checkpoint.mode ?? 'official', contests: election.contests, batches: batches.map((lb) => ({ batch: lb.checkpoint.batch, decoded: lb.decoded })) },
      findings.pass,
      findings.fail,
    );
    return finish(county(paper.serial !== undefined ? lookupBallot(paper.serial, batches, election, findings.checks) : undefined), paper.summary);
  }
  return finish(county(opts.ballotId !== undefined ? lookupBallot(opts.ballotId, batches, election, findings.checks) : undefined));
}

function report(dir: string, { checks, notChecked }: Findings, ballot?: BallotLookup, paper?: PaperSummary): AuditReport {
  const failures = checks.filter((c) => !c.ok);
  return { ok: failures.length === 0 && (ballot === undefined || ballot.ok), bundle: dir, checks, failures, notChecked, ...(ballot !== undefined ? { ballot } : {}), ...(paper !== undefined ? { paper } : {}) };
}

export { firstDifference } from './tally-check';
export { BundleError };
