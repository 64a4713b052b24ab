/** The demo's last lines: what happened on election day, in words a precinct captain uses. */
import path from 'node:path';
import type { DayResult } from './demo-day';

const REASON_WORDS: Readonly<Record<string, string>> = {
  overvote: 'overvote',
  'blank-ballot': 'blank ballot',
  'marginal-marks': 'faint marks',
  undervote: 'undervote',
  'wrong-election': 'wrong election',
  'wrong-precinct': 'wrong precinct',
  counterfeit: 'counterfeit',
  duplicate: 'copy of a counted ballot',
  'scanner-streaks': 'scanner streaks',
  'double-sheet': 'two sheets at once',
  'scanner-stopped': 'scanner jammed',
  'scanner-returned': 'scanner gave it back',
  'test-ballot-in-official-mode': 'test ballot',
};

function byReason(outcomes: readonly (readonly string[])[]): string {
  const n = new Map<string, number>();
  for (const codes of outcomes) {
    const words = REASON_WORDS[codes[0] ?? ''] ?? codes[0] ?? 'no reason given';
    n.set(words, (n.get(words) ?? 0) + 1);
  }
  return [...n.entries()].map(([w, k]) => `${k} ${w}`).join(', ');
}

export interface SummaryFacts {
  readonly seed: string;
  /** the offline signing step left signed transactions */
  readonly signed: boolean;
  /** `audit verify`'s exit code */
  readonly audit: number;
}

export function daySummary(day: DayResult, facts: SummaryFacts): string[] {
  const got = day.feeds.flatMap((f) => (f.got === null ? [] : [f.got]));
  const returned = got.filter((g) => g.outcome === 'returned').map((g) => g.reasons.map((r) => r.code));
  const rejected = got.filter((g) => g.outcome === 'rejected').map((g) => g.reasons.map((r) => r.code));
  const tapes = day.tapes.map((t) => (path.basename(t).startsWith('zero') ? 'zero tape' : path.basename(t).startsWith('results') ? 'results tape' : path.basename(t)));
  const lines = [
    `\n== the day in brief (seed ${facts.seed})`,
    `  counted          ${day.counts.public} ballot(s)${day.counts.castAsIs > 0 ? `, ${day.counts.castAsIs} of them cast as is by a voter shown the problem` : ''}`,
    `  returned         ${returned.length} to the voter${returned.length ? `: ${byReason(returned)}` : ''}`,
    `  rejected         ${rejected.length}${rejected.length ? `: ${byReason(rejected)}` : ''}`,
    `  alarms cleared   ${day.alarmsCleared.length}${day.alarmsCleared.length ? `: ${day.alarmsCleared.join('; ')}` : ''}`,
    `  tapes printed    ${tapes.length ? tapes.join(', ') : 'none'}`,
    `  publication      ${facts.signed ? 'batch signed offline, not broadcast (demo coins: never mined)' : 'nothing signed'}`,
    `  audit            ${facts.audit === 0 ? "the auditor's bundle verifies (offline: what needs a chain is listed as not checked)" : `the auditor's bundle does NOT verify (audit verify exit ${facts.audit}; see above)`}`,
    day.disagreements.length === 0
      ? `  result           every one of the ${day.feeds.length} sheets the scanner took ended as the deck says`
      : `  result           ${day.disagreements.length} thing(s) not as the deck says:`,
  ];
  for (const d of day.disagreements) lines.push(`                   - ${d}`);
  return lines;
}
