import type { Command } from 'commander';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** Exit codes of the `tallyproof` contract. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called (exit 2), as opposed to a failure of the work (exit 1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user must read, already worded for them (exit 1, message only, no stack). */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export interface CliContext {
  readonly io: CliIo;
  readonly cwd: string;
  exitCode: number;
  /**
   * Runs another `tallyproof` command in-process (the demo's steps): handed down by main.ts, so a command
   * never imports main.ts, which imports every command (no import cycle).
   */
  readonly run: (argv: readonly string[], io: CliIo, cwd: string) => Promise<number>;
}

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** Wraps an action so its returned exit code lands in the context and its errors map to exit codes. */
export function action<A extends unknown[]>(
  ctx: CliContext,
  body: (...args: A) => Promise<number> | number,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = await body(...args);
  };
}
