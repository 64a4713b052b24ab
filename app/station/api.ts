import { z } from 'zod';

/**
 * The one API between the station service and any screen. Its call table, API_CALLS (at the end), names
 * every call once with its argument's schema, its result, its HTTP route and who may make it; the Electron
 * preload, the IPC guard, the relay to the station's process, the headless server's routes and the browser's
 * client all follow it. The renderer imports types from here and nothing else of the station. Every
 * argument crosses a process boundary, so each call's input has a schema and is parsed before the station acts.
 */

export const POLLS_STATES = ['unconfigured', 'configured', 'testing', 'open', 'paused', 'closed', 'published'] as const;
export type PollsState = (typeof POLLS_STATES)[number];

export const ROLES = ['poll-worker', 'captain', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** export-*: the continuous export's device (continuous-export.ts): missing or full stop the feeder, warning does not */
export type ScannerAlarm = 'cover-open' | 'box-full' | 'jam' | 'double-sheet' | 'disconnected' | 'streaks' | 'export-missing' | 'export-full' | 'export-warning';

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
  /**
   * with a county log set (station.json `county`): checkpoints signed, answered by the log with an index
   * (reported), proven in a witnessed checkpoint, and what holds the rest up (staff screens only)
   */
  readonly county?: { readonly log: string; readonly total: number; readonly reported: number; readonly proven: number; readonly waiting: string | null };
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
/** The auditor's list of marginal marks and write-ins after the close; `all` includes the decided ones. */
export const AdjudicationListInput = z.strictObject({ all: z.boolean().optional() });
/** One decision (app/ledger/adjudication.ts): `name` for a write-in, `marks` for a contest as a whole. */
export const AdjudicateInput = z.strictObject({
  ballotId: z.string().regex(/^[0-9A-Za-z]{12}$/, 'a ballot ID is its 12-character serial'),
  contest: z.string().min(1).max(128),
  option: z.string().min(1).max(128).nullable(),
  decision: z.enum(['counts', 'not-counted', 'write-in', 'no-vote', 'marks']),
  name: z.string().max(200).optional(),
  marks: z.array(z.string().min(1).max(128)).max(255).optional(),
});

export type LoginArgs = z.infer<typeof LoginInput>;
export type CommandArgs = z.infer<typeof CommandInput>;
export type StationCommand = CommandArgs['command'];
export type VoterDecisionArgs = z.infer<typeof VoterDecisionInput>;
export type LookupArgs = z.infer<typeof LookupInput>;
export type AdjudicationListArgs = z.infer<typeof AdjudicationListInput>;
export type AdjudicateArgs = z.infer<typeof AdjudicateInput>;

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

/** One marginal mark or write-in as the auditor's screen shows it. */
export interface AdjudicationItemView {
  readonly ballotId: string;
  readonly contest: string;
  /** null: the contest as a whole (a ballot recorded without the marginal option) */
  readonly option: string | null;
  readonly kind: 'marginal' | 'write-in' | 'contest-marginal';
  /** the contest's options, in ballot order, with the ones the station counted */
  readonly options: readonly { readonly id: string; readonly label: string; readonly counted: boolean; readonly writeIn: boolean }[];
  /** a PNG data URL of the oval or write-in line from the kept scan, or why there is none */
  readonly clip: { readonly dataUrl: string } | { readonly why: string };
  readonly decision?: { readonly entry: number; readonly text: string };
}

export interface AdjudicationList {
  readonly undecided: number;
  readonly decided: number;
  readonly items: readonly AdjudicationItemView[];
}

export type StationEvent =
  | { readonly type: 'status'; readonly status: StationStatus }
  | { readonly type: 'sheet'; readonly feedback: SheetFeedback }
  | { readonly type: 'alarm'; readonly alarm: ScannerAlarm; readonly active: boolean }
  | { readonly type: 'cue'; readonly cue: 'counted' | 'returned' | 'rejected' | 'alarm' };

// ---- The call table -----------------------------------------------------------------------------------

/**
 * A call's result type. Results are declared, not parsed: they come from the station this program started,
 * while arguments come from a screen, so only arguments have schemas.
 */
export interface Returns<T> {
  readonly resultType?: T;
}
const returns = <T>(): Returns<T> => ({});

/**
 * Who may make a call over HTTP, where any local program can reach the station (the Electron kiosk has one
 * page, our own, which is the staff screen and the voter screen at once; IPC from any other frame is refused):
 * - anyone: any reader; a browser no staff member signed in on gets the public view of the answer
 *   (public-screen.ts). Signing in is such a call: the PIN is its check.
 * - staff: acts with the signed-in role. While a role is signed in, only the browser holding its session
 *   cookie may call (403 `other-session`); with nobody signed in the call reaches the station, which refuses
 *   it for want of a role.
 * - voter-screen: the voter's choice on a held ballot: only the voter screen's cookie with the held ballot's
 *   one-time token (voter-token.ts), 403 `not-voter-screen` otherwise.
 */
export const CALL_ACCESS = ['anyone', 'staff', 'voter-screen'] as const;
export type CallAccess = (typeof CALL_ACCESS)[number];

/** The held ballot's one-time token as the voter screen receives it (256 random bits, base64url). */
export const VOTER_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** The voter's choice as the voter screen sends it over HTTP: the held sheet's one-time token, not its ID. */
export const VoterDecisionByToken = z.strictObject({
  token: z.string().regex(VOTER_TOKEN_PATTERN, "the held ballot's token, as the voter screen received it"),
  decision: VoterDecisionInput.shape.decision,
});
export type VoterDecisionByTokenArgs = z.infer<typeof VoterDecisionByToken>;

interface CallSpecCommon {
  readonly result: Returns<unknown>;
  readonly access: CallAccess;
  /** the station answers at once, from memory (only the status): every other call is a promise */
  readonly immediate?: true;
  /** the call begins or ends a staff sign-in when it succeeds (the HTTP session cookie follows it) */
  readonly session?: 'begins' | 'ends';
}
/** `/api/…`: the HTTP paths are part of the headless contract (scripts and the tests use them). */
type ApiPath = `/api/${string}`;
/**
 * One call. `input`: its one argument's schema (null: no argument), checked at every process boundary.
 * `http.body`: the HTTP body's schema when it is not the argument itself (the voter's choice names its
 * ballot by the token there).
 */
export type ApiCallSpec =
  | (CallSpecCommon & { readonly input: null; readonly http: { readonly method: 'GET' | 'POST'; readonly path: ApiPath } })
  | (CallSpecCommon & { readonly input: z.ZodType; readonly http: { readonly method: 'POST'; readonly path: ApiPath; readonly body?: z.ZodType } });

/**
 * Every call a screen can make, in one place. The Electron preload (app/preload/), the IPC guard and the
 * relay to the station process (app/main/), the headless server's routes (http-server.ts) and the browser's
 * client (app/renderer/static/js/http-client.mjs, through the generated api-routes.mjs) all follow it;
 * test/kiosk/api-table.test.ts walks it through both transports. Event delivery (`subscribe`) is a push
 * channel, not a call: IPC channel `tallyproof:event`, HTTP `GET /api/events` (server-sent events).
 */
export const API_CALLS = {
  status: { input: null, result: returns<StationStatus>(), access: 'anyone', immediate: true, http: { method: 'GET', path: '/api/status' } },
  login: { input: LoginInput, result: returns<ApiResult<{ role: Role }>>(), access: 'anyone', session: 'begins', http: { method: 'POST', path: '/api/login' } },
  logout: { input: null, result: returns<ApiResult<null>>(), access: 'staff', session: 'ends', http: { method: 'POST', path: '/api/logout' } },
  command: { input: CommandInput, result: returns<ApiResult<CommandOutcome>>(), access: 'staff', http: { method: 'POST', path: '/api/command' } },
  voterDecision: {
    input: VoterDecisionInput,
    result: returns<ApiResult<SheetFeedback>>(),
    access: 'voter-screen',
    http: { method: 'POST', path: '/api/voter-decision', body: VoterDecisionByToken },
  },
  lookupBallot: { input: LookupInput, result: returns<ApiResult<BallotLookup>>(), access: 'staff', http: { method: 'POST', path: '/api/lookup-ballot' } },
  adjudicationList: { input: AdjudicationListInput, result: returns<ApiResult<AdjudicationList>>(), access: 'staff', http: { method: 'POST', path: '/api/adjudication-list' } },
  adjudicate: { input: AdjudicateInput, result: returns<ApiResult<CommandOutcome>>(), access: 'staff', http: { method: 'POST', path: '/api/adjudicate' } },
} as const satisfies Readonly<Record<string, ApiCallSpec>>;

export type ApiCallName = keyof typeof API_CALLS;
export const API_CALL_NAMES = Object.keys(API_CALLS) as readonly ApiCallName[];
/** The server-sent event stream of station events. */
export const EVENTS_PATH = '/api/events';

type SpecOf<K extends ApiCallName> = (typeof API_CALLS)[K];
/** A call's argument (undefined: it takes none). */
export type ArgsOf<K extends ApiCallName> = SpecOf<K>['input'] extends z.ZodType ? z.infer<SpecOf<K>['input']> : undefined;
export type ResultOf<K extends ApiCallName> = SpecOf<K>['result'] extends Returns<infer R> ? R : never;
/** What the HTTP body of a call holds. */
export type HttpBodyOf<K extends ApiCallName> = SpecOf<K>['http'] extends { readonly body: infer B extends z.ZodType } ? z.infer<B> : ArgsOf<K>;
/** The calls that are not staff-only: their answers reach browsers nobody signed in on. */
export type NonStaffCall = { [K in ApiCallName]: SpecOf<K>['access'] extends 'staff' ? never : K }[ApiCallName];
/** The calls whose HTTP body is not their argument. */
export type HttpBodyCall = { [K in ApiCallName]: SpecOf<K>['http'] extends { readonly body: z.ZodType } ? K : never }[ApiCallName];

type Method<K extends ApiCallName, Answer> = [ArgsOf<K>] extends [undefined] ? () => Answer : (args: ArgsOf<K>) => Answer;

/** A call that passed its schema, as it crosses to the station. */
export type CheckedCallOf<K extends ApiCallName> = [ArgsOf<K>] extends [undefined] ? { readonly call: K } : { readonly call: K; readonly args: ArgsOf<K> };
export type CheckedCall = { [K in ApiCallName]: CheckedCallOf<K> }[ApiCallName];

/** Implemented by the station service; wrapped by IPC (Electron) and HTTP (headless). */
export type StationApi = { readonly [K in ApiCallName]: Method<K, SpecOf<K> extends { readonly immediate: true } ? ResultOf<K> : Promise<ResultOf<K>>> } & {
  subscribe(listener: (e: StationEvent) => void): () => void;
};

/**
 * What a screen may call, in Electron (the preload, over IPC) and in a browser (fetch + EventSource against
 * `tallyproof station --headless`) alike: the StationApi with every call asynchronous, because it crosses a
 * process boundary.
 */
export type ScreenApi = { readonly [K in ApiCallName]: Method<K, Promise<ResultOf<K>>> } & {
  /** Live station events; returns the unsubscribe function. */
  subscribe(listener: (e: StationEvent) => void): () => void;
};

/** What the browser's client needs of each call (app/renderer/static/js/api-routes.mjs is generated from it). */
export type BrowserRoutes = {
  readonly [K in ApiCallName]: { readonly method: SpecOf<K>['http']['method']; readonly path: string; readonly session?: 'begins' | 'ends' };
};
