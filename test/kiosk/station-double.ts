/**
 * A small in-memory StationApi for the HTTP and UI unit tests only: it keeps the polls state, the role
 * and the counters, and lets a test put a sheet in front of the voter. The end-to-end test uses the real
 * station with the firmware simulator instead.
 */
import type {
  AdjudicateArgs,
  AdjudicationList,
  AdjudicationListArgs,
  ApiResult,
  BallotLookup,
  CommandArgs,
  CommandOutcome,
  LoginArgs,
  LookupArgs,
  Role,
  ScannerAlarm,
  SheetFeedback,
  StationApi,
  StationEvent,
  StationStatus,
  VoterDecisionArgs,
} from '../../app/station/api';
import { IRREVERSIBLE } from '../../app/station/polls';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

export const DOUBLE_PINS: Record<Role, string> = { 'poll-worker': '1111', captain: '2222', auditor: '3333' };

export class StationDouble implements StationApi {
  readonly calls: { method: string; args: unknown }[] = [];
  private readonly listeners = new Set<(e: StationEvent) => void>();
  private state: Mutable<StationStatus> = {
    polls: 'configured',
    mode: 'official',
    role: null,
    stationId: 'station-test-1',
    election: {
      title: 'Municipal General Election',
      hash: 'ab'.repeat(32),
      precinct: 'p-101',
      precinctName: 'Precinct 101 – Old Town',
      contestTitles: { mayor: 'Mayor', 'council-ward-1': 'City Council, Ward 1' },
      // a partial translation, as an election may give one: what it leaves out is shown in the default language
      translations: { es: { title: 'Elección Municipal General', contestTitles: { mayor: 'Alcaldía' } } },
    },
    counts: { public: 0, lifetime: 0, returned: 0, rejected: 0, castAsIs: 0 },
    scanner: { connected: true, state: 'idle', alarms: [] },
    sheet: null,
    attention: null,
    lockedOut: {},
  };
  private sheetNo = 0;

  status(): StationStatus {
    this.calls.push({ method: 'status', args: undefined });
    return structuredClone(this.state) as StationStatus;
  }

  subscribe(listener: (e: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(e: StationEvent): void {
    for (const l of this.listeners) l(e);
  }

  private changed(): void {
    this.emit({ type: 'status', status: structuredClone(this.state) as StationStatus });
  }

  async login(args: LoginArgs): Promise<ApiResult<{ role: Role }>> {
    this.calls.push({ method: 'login', args });
    if (DOUBLE_PINS[args.role] !== args.pin) return { ok: false, error: { code: 'wrong-pin', message: 'That PIN is not right.' } };
    this.state.role = args.role;
    this.changed();
    return { ok: true, value: { role: args.role } };
  }

  async logout(): Promise<ApiResult<null>> {
    this.calls.push({ method: 'logout', args: undefined });
    this.state.role = null;
    this.changed();
    return { ok: true, value: null };
  }

  async command(args: CommandArgs): Promise<ApiResult<CommandOutcome>> {
    this.calls.push({ method: 'command', args });
    const refuse = (message: string): ApiResult<CommandOutcome> => ({ ok: false, error: { code: 'refused', message } });
    const captainOnly = ['open-polls', 'close-polls', 'print-zero-tape', 'print-results-tape', 'publish', 'enter-test-mode', 'leave-test-mode'];
    if (captainOnly.includes(args.command) && this.state.role !== 'captain') return refuse('Only the precinct captain may do that.');
    // the station's own list and refusal: the page must ask the person and send the yes
    const question = IRREVERSIBLE[args.command];
    if (question !== undefined && args.confirm !== true) return { ok: false, error: { code: 'confirmation-required', message: `${question} Confirm to go on.` } };
    switch (args.command) {
      case 'open-polls':
        if (this.state.polls !== 'configured' && this.state.polls !== 'testing') return refuse(`Polls cannot open from ${this.state.polls}.`);
        this.state.polls = 'open';
        break;
      case 'pause-polls':
        if (this.state.polls !== 'open') return refuse('Polls are not open.');
        this.state.polls = 'paused';
        break;
      case 'resume-polls':
        if (this.state.polls !== 'paused') return refuse('Polls are not paused.');
        this.state.polls = 'open';
        break;
      case 'close-polls':
        this.state.polls = 'closed';
        break;
      case 'clear-alarm':
        this.state.scanner.alarms = [];
        this.state.scanner.connected = true;
        break;
      case 'print-zero-tape':
        this.changed();
        return { ok: true, value: { message: 'Zero tape written.', file: '/tmp/zero-tape.pdf' } };
      default:
        break;
    }
    this.changed();
    return { ok: true, value: { message: `Done: ${args.command}` } };
  }

  async voterDecision(args: VoterDecisionArgs): Promise<ApiResult<SheetFeedback>> {
    this.calls.push({ method: 'voterDecision', args });
    const sheet = this.state.sheet;
    if (sheet === null || sheet.sheetId !== args.sheetId || sheet.outcome !== 'awaiting-voter') {
      return { ok: false, error: { code: 'no-such-sheet', message: 'That ballot is no longer waiting.' } };
    }
    if (args.decision === 'cast-as-is' && this.dropsWait) {
      // recorded, but the scanner cannot drop it yet: the station says so and counts it only on the drop
      const waiting: SheetFeedback = { sheetId: sheet.sheetId, outcome: 'dropping', reasons: [], canCastAsIs: false };
      this.present(waiting);
      return { ok: true, value: waiting };
    }
    const next: SheetFeedback =
      args.decision === 'cast-as-is' ? { ...sheet, outcome: 'counted', canCastAsIs: false } : { ...sheet, outcome: 'returned', canCastAsIs: false };
    if (args.decision === 'cast-as-is') {
      this.state.counts.public += 1;
      this.state.counts.lifetime += 1;
      this.state.counts.castAsIs += 1;
    } else this.state.counts.returned += 1;
    this.state.sheet = structuredClone(next) as Mutable<SheetFeedback>;
    this.emit({ type: 'sheet', feedback: next });
    this.emit({ type: 'cue', cue: args.decision === 'cast-as-is' ? 'counted' : 'returned' });
    this.changed();
    return { ok: true, value: next };
  }

  async adjudicationList(args: AdjudicationListArgs): Promise<ApiResult<AdjudicationList>> {
    this.calls.push({ method: 'adjudicationList', args });
    if (this.state.role !== 'auditor') return { ok: false, error: { code: 'forbidden', message: 'Adjudication needs an auditor or captain sign-in.' } };
    return { ok: true, value: { undecided: 0, decided: 0, items: [] } };
  }

  async adjudicate(args: AdjudicateArgs): Promise<ApiResult<CommandOutcome>> {
    this.calls.push({ method: 'adjudicate', args });
    if (this.state.role !== 'auditor') return { ok: false, error: { code: 'forbidden', message: 'Adjudication needs an auditor or captain sign-in.' } };
    return { ok: true, value: { message: 'Recorded.' } };
  }

  async lookupBallot(args: LookupArgs): Promise<ApiResult<BallotLookup>> {
    this.calls.push({ method: 'lookupBallot', args });
    if (this.state.role !== 'auditor') return { ok: false, error: { code: 'not-allowed', message: 'Log in as auditor first.' } };
    return { ok: true, value: { ballotId: args.ballotId, state: args.ballotId === 'KNOWN' ? 'cast' : 'not-found', batch: args.ballotId === 'KNOWN' ? 1 : null, record: null } };
  }

  /** The scanner cannot drop a sheet now (disconnected, cover open): a cast ballot waits as 'dropping'. */
  dropsWait = false;

  /** The scanner is back and drops the waiting ballot: counted. */
  dropWaiting(): SheetFeedback {
    const sheet = this.state.sheet;
    if (sheet === null || sheet.outcome !== 'dropping') throw new Error('no ballot waits to drop');
    this.dropsWait = false;
    this.state.counts.public += 1;
    this.state.counts.lifetime += 1;
    this.state.counts.castAsIs += 1;
    const fb: SheetFeedback = { sheetId: sheet.sheetId, outcome: 'counted', reasons: [], canCastAsIs: false };
    this.present(fb, 'counted');
    return fb;
  }

  /** Puts a counted ballot through, as the pipeline would. */
  feedCounted(): SheetFeedback {
    const fb: SheetFeedback = { sheetId: `s-${++this.sheetNo}`, outcome: 'counted', reasons: [], canCastAsIs: false };
    this.state.counts.public += 1;
    this.state.counts.lifetime += 1;
    this.present(fb, 'counted');
    return fb;
  }

  /** Holds an overvoted ballot for the voter's decision. */
  feedOvervote(...named: string[]): SheetFeedback {
    const contests = named.length === 0 ? ['mayor'] : named;
    const fb: SheetFeedback = {
      sheetId: `s-${++this.sheetNo}`,
      outcome: 'awaiting-voter',
      reasons: [{ code: 'overvote', contests, voter: 'You marked too many choices in a contest. You may get a new ballot or cast this one as it is; those contests will not count.', pollWorker: `Overvote in ${contests.join(', ')}.` }],
      canCastAsIs: true,
    };
    this.present(fb, 'returned');
    return fb;
  }

  feedRejected(): SheetFeedback {
    const fb: SheetFeedback = {
      sheetId: `s-${++this.sheetNo}`,
      outcome: 'rejected',
      reasons: [{ code: 'wrong-election', contests: [], voter: 'This ballot is for another election.', pollWorker: 'Wrong election hash.' }],
      canCastAsIs: false,
    };
    this.state.counts.rejected += 1;
    this.present(fb, 'rejected');
    return fb;
  }

  /** A copy of a counted ballot, given back; the station's instruction and the poll-worker text name the ballot. */
  feedDuplicate(ballotId: string): SheetFeedback {
    const fb: SheetFeedback = {
      sheetId: `s-${++this.sheetNo}`,
      outcome: 'rejected',
      reasons: [{ code: 'duplicate', contests: [], voter: 'This ballot has already been counted.', pollWorker: `A ballot with this ballot ID is already counted. Ballot ${ballotId} was counted at ledger entry 3.` }],
      canCastAsIs: false,
    };
    this.state.counts.rejected += 1;
    this.state.attention = `Ballot ${ballotId} was fed twice: keep the copy apart. Then clear this message (poll worker: clear alarm).`;
    this.present(fb, 'rejected');
    return fb;
  }

  raiseAlarm(alarm: ScannerAlarm): void {
    this.state.scanner.alarms = [...this.state.scanner.alarms, alarm];
    if (alarm === 'disconnected') this.state.scanner.connected = false;
    this.emit({ type: 'alarm', alarm, active: true });
    this.emit({ type: 'cue', cue: 'alarm' });
    this.changed();
  }

  /** Puts a sheet's feedback on screen, with its cue (none for a ballot still waiting to drop, as the station does). */
  private present(fb: SheetFeedback, cue?: 'counted' | 'returned' | 'rejected'): void {
    this.state.sheet = structuredClone(fb) as Mutable<SheetFeedback>;
    this.emit({ type: 'sheet', feedback: fb });
    if (cue !== undefined) this.emit({ type: 'cue', cue });
    this.changed();
  }
}
