/** Runs one injected fault on the second of three sheets through simulator + serial driver and returns the report. */
import type { SheetOutcome } from '../../../firmware-bridge/lifecycle';
import type { DeckSheet } from '../../../firmware-bridge/simulator/deck';
import type { SheetFault } from '../../../firmware-bridge/simulator/faults';
import { runSession, type SessionOptions, type SessionReport } from '../../../firmware-bridge/simulator/harness';

export const FAULTED = 'SIM0001-000002';

export async function runFault(deck: readonly DeckSheet[], fault: SheetFault, transport: 'mock' | 'pty', extra: Partial<SessionOptions> = {}): Promise<SessionReport> {
  const returnsFaulted = (fault.kind === 'jam' || fault.kind === 'cover-open') && fault.stage === 'returning';
  const breaksOnReturn = (fault.kind === 'disconnect' || fault.kind === 'power-cycle') && fault.at === 'returning';
  return runSession({
    deck,
    count: 3,
    transport,
    faults: (i) => (i === 1 ? fault : undefined),
    decide: (id) => (id === FAULTED ? (returnsFaulted || breaksOnReturn ? 'return' : 'accept') : 'accept'),
    timeoutMs: 20_000,
    ...(process.env.BRIDGE_LOG ? { log: (m: string) => process.stderr.write(`${Date.now() % 100000} ${m}\n`) } : {}),
    ...extra,
  });
}

/** Every sheet fed has exactly one report that matches where the paper really is. */
export function expectAllAccounted(r: SessionReport, sheets = 3): void {
  expect(r.problems).toEqual([]);
  expect(r.timedOut).toBe(false);
  expect(r.sheetIds).toBe(sheets);
  expect(Object.keys(r.outcomes)).toHaveLength(sheets);
}

export function outcomeOf(r: SessionReport, id = FAULTED): SheetOutcome | undefined {
  return r.outcomes[id];
}
