import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, action } from '../context';
import type { AuditReport, BallotLookup } from '../../chain/audit-verify';
import { auditBundle } from '../../chain/audit-verify';

interface AuditOpts {
  bundle: string;
  rpc: string[];
  ballotId?: string;
  resultsTapeTally?: string;
  json?: boolean;
}

function describeBallot(b: BallotLookup): string[] {
  const lines = [`ballot ${b.ballotId}: ${b.found ? (b.ok ? 'ok: recorded, published, anchored and proven' : 'FAILS') : 'NOT FOUND'}`];
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
  for (const p of b.problems) lines.push(`  problem: ${p}`);
  return lines;
}

export function formatReport(r: AuditReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    const where = [c.batch !== undefined ? `batch ${c.batch}` : '', c.ballot !== undefined ? `ballot ${c.ballot}` : ''].filter((x) => x !== '').join(' ');
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${where !== '' ? ` ${where}` : ''}: ${c.detail}`);
  }
  if (r.ballot !== undefined) lines.push(...describeBallot(r.ballot));
  lines.push(r.ok ? `audit: ok (${r.checks.length} checks)` : `audit: FAILED: ${r.failures.length} of ${r.checks.length} checks failed${r.ballot !== undefined && !r.ballot.ok ? ', and the ballot does not check' : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description("check an auditor's bundle without trusting the station");
  audit
    .command('verify')
    .description('verify every proof, signature, anchor and the tally in a bundle')
    .requiredOption('--bundle <dir>', 'bundle directory written by `ledger export`')
    .option('--rpc <url>', 'also check against a chain node (http://user:pass@host:port/); repeat for each chain', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--ballot-id <id>', 'look up one paper ballot (its serial or the TPB1 ballot ID code)')
    .option('--results-tape-tally <file>', "the results tape's tally JSON, compared with the bundle's")
    .option('--json', 'print the report as one JSON object')
    .action(
      action(ctx, async (opts: AuditOpts) => {
        const dir = path.resolve(ctx.cwd, opts.bundle);
        if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such bundle directory`);
        const report = await auditBundle(dir, {
          rpc: opts.rpc,
          ...(opts.ballotId !== undefined ? { ballotId: opts.ballotId } : {}),
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
