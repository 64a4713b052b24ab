import fs from 'node:fs';
import type { Genesis } from '../ledger/entries';
import type { Tally } from '../ledger/tally';
import { TallyCollector } from '../ledger/tally';
import type { BundleStatus, ElectionFile, StationKeyFile } from './bundle-checks';
import type { Findings, LoadedBatch, Pass } from './report';
import { errMsg } from './report';

/** Step 6 of `audit verify`: the tally recomputed from the records, and a results tape's against the bundle's. */

/** 6. The tally recomputed from the bundle's records against its tally.json. */
export function checkTally(
  election: ElectionFile,
  key: StationKeyFile,
  mode: Genesis['mode'],
  batches: readonly LoadedBatch[],
  tally: Tally,
  status: BundleStatus,
  pass: Pass,
  fail: Pass,
): void {
  const genesis: Genesis = {
    format: 'tallyproof-ledger/1',
    mode,
    election: { hash: election.hash, title: election.title, contests: election.contests },
    station: { id: key.stationId, number: key.stationNumber, publicKey: key.publicKey },
  };
  try {
    const c = new TallyCollector(genesis);
    for (const lb of batches) for (const d of lb.decoded) if (d !== undefined) c.addCast(d);
    const mine = c.result(tally.ballots?.pending ?? 0);
    const problems: string[] = [];
    if (status.castNotYetBatched > 0) problems.push(`${status.castNotYetBatched} cast ballots are in no closed batch, so the public records cannot account for them`);
    const theirs = { ...tally, ballots: { ...tally.ballots, returned: 0 } };
    const ours = { ...mine, ballots: { ...mine.ballots, returned: 0 } };
    const diff = firstDifference(ours, theirs, '');
    if (diff !== undefined) problems.push(`the tally recomputed from the records differs from tally.json at ${diff}`);
    if (problems.length > 0) fail('tally', problems.join('; '));
    else pass('tally', `recomputed from ${mine.ballots.cast} records: equals tally.json (returned ballots, ${tally.ballots.returned}, are not in public records and are taken as stated)`);
  } catch (e) {
    fail('tally', `the records do not tally: ${errMsg(e)}`);
  }
}

/** The JSON path of the first place two values differ, or undefined if equal. */
export function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return at || '(top)';
  if (typeof a !== 'object' || a === null) return a === b ? undefined : `${at || '(top)'} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    const d = firstDifference(ao[k], bo[k], Array.isArray(a) ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** 6. A tally JSON file from the results tape (--results-tape-tally) equals the bundle's tally. */
export function checkResultsTape(file: string, bundleTally: Tally, { pass, fail }: Findings): void {
  try {
    const tape = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    const diff = firstDifference(tape, bundleTally, '');
    if (diff === undefined) pass('results-tape', `${file} equals the bundle's tally`);
    else fail('results-tape', `${file} differs from the bundle's tally at ${diff}`);
  } catch (e) {
    fail('results-tape', `${file}: ${errMsg(e)}`);
  }
}
