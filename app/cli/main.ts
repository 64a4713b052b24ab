import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CliContext, CliIo } from './context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, processIo } from './context';
import { COMMANDS } from './commands';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tallyproof')
    .description('Tallyproof polling-station ballot scanner')
    .version(readVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

function readVersion(): string {
  // The same file serves from app/cli (tests) and dist/app/cli (built): walk up to the package root.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

/** Runs the CLI in-process and returns its exit code (0 ok, 1 failure, 2 usage). */
export async function run(argv: readonly string[], io: CliIo = processIo, cwd = process.cwd()): Promise<number> {
  const ctx: CliContext = { io, cwd, exitCode: EXIT_OK, run };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return EXIT_OK;
      }
      // commander already wrote its message (and the help) to stderr
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.stderr(`tallyproof: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CommandFailure) {
      io.stderr(`tallyproof: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr(`tallyproof: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
}

/** Entry point of the `tallyproof` bin. */
export function main(): void {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tallyproof: ${String(e)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}

if (require.main === module) main();
