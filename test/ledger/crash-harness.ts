import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ScannerReport } from '../../app/ledger/ledger';
import { Ledger } from '../../app/ledger/ledger';
import type { ExternalHead } from '../../app/ledger/verify';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { mulberry32 } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');

export interface CrashRunReport {
  readonly kills: number;
  readonly cleanExits: number;
  readonly acknowledged: number;
  readonly entries: number;
  readonly cast: number;
  readonly returned: number;
  readonly reconciledAfterKill: number;
  readonly killedBeforeStart: number;
  readonly failures: readonly string[];
}

interface ChildRun {
  acks: ExternalHead[];
  started: number | undefined;
  killed: boolean;
  stderr: string;
}

/** Runs the child once and SIGKILLs it at a random point (or lets it finish if it is quicker). */
function runChild(file: string, seed: number, rand: () => number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-ts.js'), path.join(ROOT, 'test/ledger/crash-child.ts'), file, String(seed), '100000'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { acks: [], started: undefined, killed: false, stderr: '' };
    let buf = '';
    const kill = (): void => {
      if (child.exitCode === null && !run.killed) {
        run.killed = true;
        child.kill('SIGKILL');
      }
    };
    // a quarter of the kills land anywhere from spawn (startup, open, reconcile); the rest while appending
    const early = rand() < 0.25;
    const delay = early ? rand() * 900 : rand() * 250;
    if (early) setTimeout(kill, delay);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, a, b] = line.split(' ');
        if (tag === 'START') {
          run.started = Number(a);
          if (!early) setTimeout(kill, delay);
        } else if (tag === 'ACK') {
          run.acks.push({ seq: Number(a), hash: b as string, what: `the entry the child acknowledged` });
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      run.stderr += d.toString('utf8');
    });
    child.on('exit', () => resolve(run));
  });
}

/** `kills` rounds of: start the child, kill it, then check the ledger from outside. */
export async function crashRun(dir: string, kills: number, seed: number, log: (s: string) => void = () => {}): Promise<CrashRunReport> {
  const file = path.join(dir, 'official.sqlite');
  const rand = mulberry32(seed);
  const acked: ExternalHead[] = [];
  const failures: string[] = [];
  let pendingAfterLastKill = 0;
  let reconciled = 0;
  let killedBeforeStart = 0;
  let cleanExits = 0;
  let done = 0;
  while (done < kills && failures.length === 0) {
    const run = await runChild(file, Math.floor(rand() * 2 ** 31), rand);
    if (!run.killed) {
      cleanExits += 1;
      if (run.stderr !== '') failures.push(`child failed: ${run.stderr.slice(0, 2000)}`);
      continue;
    }
    done += 1;
    if (run.started === undefined) killedBeforeStart += 1;
    else {
      if (run.started !== pendingAfterLastKill) failures.push(`round ${done}: the child found ${run.started} pending ballots, the ledger had ${pendingAfterLastKill}`);
      reconciled += run.started;
    }
    if (run.stderr.trim() !== '') failures.push(`round ${done}: child wrote to stderr: ${run.stderr.slice(0, 2000)}`);
    acked.push(...run.acks);
    // every entry ever acknowledged must still be there with the same hash; verify also rejects duplicates
    let report;
    try {
      report = verifyLedgerFile(file, { expectedHeads: acked, signedHeadsDir: `${file}.heads` });
    } catch (e) {
      if (run.started === undefined && acked.length === 0) continue; // killed before the ledger existed
      failures.push(`round ${done}: verify could not read the ledger: ${(e as Error).message}`);
      break;
    }
    if (!report.ok) failures.push(`round ${done}: entry ${report.problem?.seq}: ${report.problem?.message}`);
    pendingAfterLastKill = report.summary?.pending ?? 0;
    if (done % 10 === 0) log(`${done} kills, ${acked.length} acknowledged entries, ${report.summary?.entries} in the ledger`);
  }
  // the last restart: reconcile what the last kill left, as the station does, and check the end state
  const ledger = Ledger.open(file);
  const left = ledger.unreconciledBallots();
  if (left.length !== pendingAfterLastKill) failures.push(`final restart found ${left.length} pending, expected ${pendingAfterLastKill}`);
  const r = ledger.reconcile(new Map(left.map((b) => [b.pendingSeq, 'dropped' as ScannerReport])));
  if (!r.ok) failures.push(`final reconcile refused: ${JSON.stringify(r.error)}`);
  reconciled += left.length;
  ledger.close();
  const final = verifyLedgerFile(file, { expectedHeads: acked, signedHeadsDir: `${file}.heads` });
  if (!final.ok) failures.push(`final verify: entry ${final.problem?.seq}: ${final.problem?.message}`);
  if (!(final.checked ?? []).some((c) => c.includes(`signed head(s) in ${file}.heads`))) failures.push(`final verify did not check the signed heads: ${JSON.stringify(final.unchecked)}`);
  if ((final.summary?.pending ?? -1) !== 0) failures.push(`final verify: ${final.summary?.pending} ballots still pending`);
  return {
    kills: done,
    cleanExits,
    acknowledged: acked.length,
    entries: final.summary?.entries ?? 0,
    cast: final.summary?.cast ?? 0,
    returned: final.summary?.returned ?? 0,
    reconciledAfterKill: reconciled,
    killedBeforeStart,
    failures,
  };
}
