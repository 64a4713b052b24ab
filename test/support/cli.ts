import { run } from '../../app/cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tallyproof` in-process with captured output. */
export async function runCli(argv: readonly string[], cwd?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }, cwd);
  return { code, stdout, stderr };
}
