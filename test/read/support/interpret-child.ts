/**
 * Child process for scan-file.test.ts: runs `tallyproof interpret` in this process on one harmless missing
 * file (the baseline) and then on the files named on the command line, and prints the high-water mark of its
 * resident memory after each, so the parent can tell whether reading a bad input grew it.
 */
import { run } from '../../../app/cli/main';

async function main(): Promise<void> {
  const [election, keys, ...files] = process.argv.slice(2);
  if (election === undefined || keys === undefined) throw new Error('usage: interpret-child <election> <keys> <file...>');
  const lines: string[] = [];
  const io = { stdout: (s: string) => void lines.push(s), stderr: (s: string) => void lines.push(s) };
  const interpret = (file: string) => run(['interpret', '--election', election, '--keys', keys, '--json', file], io);
  await interpret(`${election}.missing`);
  const baselineKb = process.resourceUsage().maxRSS;
  const codes: number[] = [];
  for (const f of files) codes.push(await interpret(f));
  process.stdout.write(`${JSON.stringify({ baselineKb, afterKb: process.resourceUsage().maxRSS, codes, output: lines.join('') })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
