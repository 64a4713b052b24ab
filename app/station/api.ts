import { z } from 'zod';

/**
 * The one API between the station service and any screen: the Electron preload exposes exactly these
 * calls over IPC, and `tallyproof station --headless` serves them over HTTP with the same schemas. The
 * renderer imports types from here and nothing else of the station. Every argument crosses a process
 * boundary, so each call's input has a schema and the service parses it before acting.
 */

export const POLLS_STATES = ['unconfigured', 'configured', 'testing', 'open', 'paused', 'closed', 'published'] as const;
export type PollsState = (typeof POLLS_STATES)[number];

export const ROLES = ['poll-worker', 'captain', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export type ScannerAlarm = 'cover-open' | 'box-full' | 'jam' | 'double-sheet' | 'disconnected' | 'streaks';

/** A reason shown for a returned or rejected sheet: machine code plus the sentences from ballots/read/reasons.ts. */
export interface FeedbackReason {
  readonly code: string;
  /** contest ids the reason is about (overvote in "mayor"), empty when it is about the whole sheet */
  readonly contests: readonly string[];
  readonly voter: string;
  readonly pollWorker: string;
}

/** What the voter sees for the sheet in the scanner. */
export interface SheetFeedback {
  readonly sheetId: string;
  /**
   * counted: dropped into the box and recorded as cast; awaiting-voter: held, the voter chooses fix
   * (return) or cast as is; dropping: recorded as pending and held in the scanner until it can drop the
   * sheet (disconnected, cover open): the choice is made, the voter waits; returned: given back; rejected:
   * given back and never countable as fed.
   */
  readonly outcome: 'counted' | 'awaiting-voter' | 'dropping' | 'returned' | 'rejected';
  readonly reasons: readonly FeedbackReason[];
  readonly canCastAsIs: boolean;
}

/** An election's names in one language; a name missing here is shown in the election's default language. */
export interface ElectionTitles {
  readonly title?: string;
  readonly precinctName?: string;
  readonly contestTitles: Readonly<Record<string, string>>;
}

export interface StationStatus {
  readonly polls: PollsState;
  readonly mode: 'test' | 'official';
  readonly role: Role | null;
  readonly stationId: string;
  /**
   * precinct: its ID; precinctName and contestTitles: the names the election gives them, for every screen a
   * person reads (a voter reads "Council, Ward 1", not "council-ward-1")
   */
  readonly election: {
    readonly title: string;
    readonly hash: string;
    readonly precinct: string;
    readonly precinctName: string;
    readonly contestTitles: Readonly<Record<string, string>>;
    /** the same names in the other languages the election gives them, by language tag (election-titles.ts) */
    readonly translations?: Readonly<Record<string, ElectionTitles>>;
  } | null;
  /** public count: ballots cast in this election in the current mode; lifetime: every sheet this station ever counted */
  readonly counts: { readonly public: number; readonly lifetime: number; readonly returned: number; readonly rejected: number; readonly castAsIs: number };
  readonly scanner: { readonly connected: boolean; readonly state: string; readonly alarms: readonly ScannerAlarm[] };
  readonly sheet: SheetFeedback | null;
  /** set when a restart found ballots whose fate the scanner must tell: the poll worker's instruction */
  readonly attention: string | null;
  /** roles whose sign-in is locked after wrong PINs, with the ISO time each lock ends (staff screens only) */
  readonly lockedOut: Readonly<Partial<Record<Role, string>>>;
}

export const LoginInput = z.strictObject({ role: z.enum(ROLES), pin: z.string().regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits') });
export const CommandInput = z.strictObject({
  command: z.enum([
    'enter-test-mode',
    'leave-test-mode',
    'open-polls',
    'pause-polls',
    'resume-polls',
    'close-polls',
    'print-zero-tape',
    'print-results-tape',
    /** another copy (or `copies`) of the last tape or polls report printed */
    'reprint-tape',
    'publish',
    'verify-ledger',
    'export-bundle',
    'clear-alarm',
  ]),
  /**
   * The person's explicit yes to a command that cannot be undone (open, close, publish, clearing the test
   * ledger): without it the station refuses with `confirmation-required`, whatever the client, so no screen
   * or script can skip the question.
   */
  confirm: z.boolean().optional(),
  /** print-zero-tape, print-results-tape, reprint-tape: how many copies (default 1) */
  copies: z.number().int().min(1).max(5).optional(),
});
export const VoterDecisionInput = z.strictObject({ sheetId: z.string().min(1).max(64), decision: z.enum(['cast-as-is', 'return']) });
export const LookupInput = z.strictObject({ ballotId: z.string().min(1).max(200) });

export type LoginArgs = z.infer<typeof LoginInput>;
export type CommandArgs = z.infer<typeof CommandInput>;
export type StationCommand = CommandArgs['command'];
export type VoterDecisionArgs = z.infer<typeof VoterDecisionInput>;
export type LookupArgs = z.infer<typeof LookupInput>;

/** A refused call: a machine code and a sentence for the person at the screen. */
export interface Refusal {
  readonly code: string;
  readonly message: string;
}
export type ApiResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Refusal };

export interface CommandOutcome {
  readonly message: string;
  /** a file the command wrote (tape PDF, export bundle directory) */
  readonly file?: string;
}

export interface BallotLookup {
  readonly ballotId: string;
  readonly state: 'cast' | 'pending' | 'not-found';
  readonly batch: number | null;
  readonly record: unknown;
}

export type StationEvent =
  | { readonly type: 'status'; readonly status: StationStatus }
  | { readonly type: 'sheet'; readonly feedback: SheetFeedback }
  | { readonly type: 'alarm'; readonly alarm: ScannerAlarm; readonly active: boolean }
  | { readonly type: 'cue'; readonly cue: 'counted' | 'returned' | 'rejected' | 'alarm' };

/** Implemented by the station service; wrapped by IPC (Electron) and HTTP (headless). */
export interface StationApi {
  status(): StationStatus;
  login(args: LoginArgs): Promise<ApiResult<{ role: Role }>>;
  logout(): Promise<ApiResult<null>>;
  command(args: CommandArgs): Promise<ApiResult<CommandOutcome>>;
  voterDecision(args: VoterDecisionArgs): Promise<ApiResult<SheetFeedback>>;
  lookupBallot(args: LookupArgs): Promise<ApiResult<BallotLookup>>;
  subscribe(listener: (e: StationEvent) => void): () => void;
}
