import { CROCKFORD_ALPHABET } from '../../ballots/identity/serial';
import path from 'node:path';
import fc from 'fast-check';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture } from '../../app/ledger/record';
import { TallyCollector } from '../../app/ledger/tally';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { CONTESTS, genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

type Outcome = 'cast' | 'returned' | 'left-pending';

function uniqueSerial(n: number): string {
  const B32 = CROCKFORD_ALPHABET;
  let s = '';
  for (let i = 0; i < 12; i++, n = Math.floor(n / 32)) s = B32[n % 32] + s;
  return s;
}

/** The tally written the obvious way, straight from the captures the test cast. */
function expectedTally(cast: readonly BallotCapture[], returned: number, pending: number): unknown {
  return {
    ballots: {
      cast: cast.length,
      returned,
      castAsIs: cast.filter((c) => c.castAsIs).length,
      marginal: cast.filter((c) => c.contests.some((x) => x.marginal)).length,
      pending,
    },
    contests: CONTESTS.map((def, i) => {
      const sels = cast.flatMap((c) => c.contests.filter((x) => x.contest === i));
      const votes: Record<string, number> = Object.fromEntries(def.options.map((o) => [o, 0]));
      for (const s of sels) if (!s.overvote) for (const o of s.options) votes[def.options[o] as string] = (votes[def.options[o] as string] ?? 0) + 1;
      return {
        id: def.id,
        seats: def.seats,
        ballots: sels.length,
        votes,
        overvotedBallots: sels.filter((s) => s.overvote).length,
        undervotedBallots: sels.filter((s) => s.undervote).length,
        undervotes: sels.filter((s) => s.undervote).reduce((n, s) => n + def.seats - s.options.length, 0),
        writeInBallots: sels.filter((s) => s.writeIn).length,
        marginalBallots: sels.filter((s) => s.marginal).length,
      };
    }),
  };
}

describe('ledger tally', () => {
  it('equals the sum of the cast records, for random ballots, outcomes and batch closes (property)', () => {
    const op = fc.record({
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      outcome: fc.constantFrom<Outcome>('cast', 'cast', 'cast', 'returned', 'left-pending'),
      refeed: fc.boolean(),
      closeAfter: fc.boolean(),
    });
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const file = path.join(tempDir('tally-'), `run-${run++}.sqlite`);
        const signer = testSigner();
        const l = Ledger.create(file, genesisFor('official', signer));
        const cast: BallotCapture[] = [];
        let returned = 0;
        let lastReturned: BallotCapture | undefined;
        const pending: number[] = [];
        let opIndex = 0;
        for (const o of ops) {
          const rand = mulberry32(o.seed);
          // feeding a returned ballot again (same ID) is allowed; cast-as-is is how voters do it
          // fresh ballots get a serial unique to the op (equal seeds must not make the same ballot twice)
          const capture = { ...randomCapture(rand), ballotId: o.refeed && lastReturned ? lastReturned.ballotId : uniqueSerial(opIndex) };
          opIndex += 1;
          const p = l.appendPending(capture);
          if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
          if (o.outcome === 'cast') {
            if (!l.confirmCast(p.value.seq).ok) throw new Error('cast refused');
            cast.push(capture);
            if (lastReturned?.ballotId === capture.ballotId) lastReturned = undefined;
          } else if (o.outcome === 'returned') {
            if (!l.markReturned(p.value.seq, 'voter-request').ok) throw new Error('return refused');
            returned += 1;
            lastReturned = capture;
          } else {
            pending.push(p.value.seq);
            if (lastReturned?.ballotId === capture.ballotId) lastReturned = undefined;
          }
          if (o.closeAfter && pending.length === 0) {
            if (!l.closeBatch(signer).ok) throw new Error('close refused');
          }
        }
        l.close();
        const tally = new TallyCollector();
        const report = verifyLedgerFile(file, {}, tally.visitor);
        expect(report.problem).toBeUndefined();
        const got = tally.result(report.summary?.pending ?? -1);
        expect({ ballots: got.ballots, contests: got.contests }).toEqual(expectedTally(cast, returned, pending.length));
      }),
      { numRuns: 40 },
    );
  });
});
