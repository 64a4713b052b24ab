import type { Genesis } from './entries';
import type { BallotRecord } from './record';
import type { ReplayVisitor } from './replay';

/** Totals recomputed from the chain's cast records; nothing is read from counters the station keeps. */
export interface ContestTally {
  readonly id: string;
  readonly seats: number;
  /** ballots cast on which this contest appears */
  readonly ballots: number;
  /** votes per option id, in definition order; an overvoted contest gives no votes */
  readonly votes: Record<string, number>;
  readonly overvotedBallots: number;
  readonly undervotedBallots: number;
  /** votes not used on undervoted ballots (seats minus marks) */
  readonly undervotes: number;
  readonly writeInBallots: number;
  readonly marginalBallots: number;
}

export interface Tally {
  readonly format: 'tallyproof-tally/1';
  readonly mode: Genesis['mode'];
  readonly election: { readonly hash: string; readonly title: string };
  readonly station: string;
  readonly ballots: {
    readonly cast: number;
    /** ballots handed back to the voter (each return counts, a ballot fed twice may count twice) */
    readonly returned: number;
    readonly castAsIs: number;
    /** cast ballots with a marginal mark in any contest */
    readonly marginal: number;
    /** still pending when the tally was taken: not counted */
    readonly pending: number;
  };
  readonly contests: readonly ContestTally[];
}

interface MutableContest {
  ballots: number;
  votes: number[];
  overvotedBallots: number;
  undervotedBallots: number;
  undervotes: number;
  writeInBallots: number;
  marginalBallots: number;
}

/** Collects a tally during a replay: `visitor` goes to replayLedger, `result` is read after it. */
export class TallyCollector {
  private cast = 0;
  private returned = 0;
  private castAsIs = 0;
  private marginal = 0;
  private contests: MutableContest[] | undefined;
  private genesis: Genesis | undefined;

  readonly visitor: ReplayVisitor = {
    onGenesis: (g) => this.setGenesis(g),
    onCast: (r) => this.addCast(r),
    onReturned: () => {
      this.returned += 1;
    },
  };

  constructor(genesis?: Genesis) {
    if (genesis !== undefined) this.init(genesis);
  }

  private init(g: Genesis): MutableContest[] {
    this.genesis = g;
    this.contests = g.election.contests.map((c) => ({
      ballots: 0,
      votes: c.options.map(() => 0),
      overvotedBallots: 0,
      undervotedBallots: 0,
      undervotes: 0,
      writeInBallots: 0,
      marginalBallots: 0,
    }));
    return this.contests;
  }

  /** The genesis is known only once the replay read entry 1; record indexes were checked against it. */
  setGenesis(g: Genesis): void {
    if (this.genesis === undefined) this.init(g);
  }

  addCast(r: BallotRecord): void {
    this.count(r, 1);
  }

  /** Takes a ballot back out (the after-adjudication tally replaces a ballot's reading with its decided one). */
  removeCast(r: BallotRecord): void {
    this.count(r, -1);
  }

  private count(r: BallotRecord, n: 1 | -1): void {
    const contests = this.contests;
    if (contests === undefined || this.genesis === undefined) throw new Error('tally: genesis not set before the first ballot');
    this.cast += n;
    if (r.castAsIs) this.castAsIs += n;
    if (r.contests.some((c) => c.marginal)) this.marginal += n;
    for (const sel of r.contests) {
      const t = contests[sel.contest];
      const def = this.genesis.election.contests[sel.contest];
      if (t === undefined || def === undefined) throw new Error(`tally: contest index ${sel.contest} is not in the election`);
      // a version-2 record's selections are a bitmap over the targets it names: they must be the election's options
      if (sel.targets !== undefined && sel.targets !== def.options.length) throw new Error(`tally: ballot ${r.ballotId} gives contest ${def.id} ${sel.targets} targets, the election has ${def.options.length} options`);
      t.ballots += n;
      if (sel.overvote) t.overvotedBallots += n;
      else for (const o of sel.options) t.votes[o] = (t.votes[o] ?? 0) + n;
      if (sel.undervote) {
        t.undervotedBallots += n;
        t.undervotes += n * (def.seats - sel.options.length);
      }
      if (sel.writeIn) t.writeInBallots += n;
      if (sel.marginal) t.marginalBallots += n;
    }
  }

  result(pending: number): Tally {
    const g = this.genesis;
    const contests = this.contests;
    if (g === undefined || contests === undefined) throw new Error('tally: no genesis');
    return {
      format: 'tallyproof-tally/1',
      mode: g.mode,
      election: { hash: g.election.hash, title: g.election.title },
      station: g.station.id,
      ballots: { cast: this.cast, returned: this.returned, castAsIs: this.castAsIs, marginal: this.marginal, pending },
      contests: g.election.contests.map((def, i) => {
        const t = contests[i] as MutableContest;
        return {
          id: def.id,
          seats: def.seats,
          ballots: t.ballots,
          votes: Object.fromEntries(def.options.map((o, k) => [o, t.votes[k] ?? 0])),
          overvotedBallots: t.overvotedBallots,
          undervotedBallots: t.undervotedBallots,
          undervotes: t.undervotes,
          writeInBallots: t.writeInBallots,
          marginalBallots: t.marginalBallots,
        };
      }),
    };
  }
}
