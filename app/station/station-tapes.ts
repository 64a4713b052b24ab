import type { Ledger } from '../ledger/ledger';
import type { ApiResult, CommandOutcome, Role } from './api';
import type { LedgerMode } from './polls';
import type { TapeDesk } from './tape-desk';

/** What the staff's tape commands need from the station. */
export interface TapeCommandDeps {
  readonly desk: Pick<TapeDesk, 'printTape' | 'reprint'>;
  /** the ledger mode of the polls state now */
  mode(): LedgerMode;
  ledgerFor(mode: LedgerMode): Ledger;
  /** the official zero tape is in the ledger now: the polls may open (polls.ts) */
  officialZeroTapePrinted(): void;
}

export type TapeCommand = 'print-zero-tape' | 'print-results-tape' | 'reprint-tape';

/** 'print-zero-tape', 'print-results-tape' and 'reprint-tape', `copies` times (tape-desk.ts does the printing). */
export async function runTapeCommand(d: TapeCommandDeps, command: TapeCommand, role: Role, copies: number): Promise<ApiResult<CommandOutcome>> {
  if (command === 'reprint-tape') return d.desk.reprint(role, copies);
  const mode = d.mode();
  const printed = await d.desk.printTape(command === 'print-zero-tape' ? 'zero' : 'results', mode, d.ledgerFor(mode), role, copies);
  // the official zero tape, now in the ledger, is what lets the polls open (polls.ts)
  if (printed.ok && command === 'print-zero-tape' && mode === 'official') d.officialZeroTapePrinted();
  return printed;
}
