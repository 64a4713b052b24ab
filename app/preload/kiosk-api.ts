/**
 * What the renderer may call, in Electron (the preload, over IPC) and in a browser (fetch + EventSource
 * against `tallyproof station --headless`) alike: the StationApi with every call asynchronous, because it
 * crosses a process boundary. Types and channel names only, so the renderer can import it for types and
 * the sandboxed preload (which cannot load local modules at run time) only repeats the channel prefix.
 */
import type { ApiResult, BallotLookup, CommandArgs, CommandOutcome, LoginArgs, LookupArgs, Role, SheetFeedback, StationEvent, StationStatus, VoterDecisionArgs } from '../station/api';

export interface KioskApi {
  status(): Promise<StationStatus>;
  login(args: LoginArgs): Promise<ApiResult<{ role: Role }>>;
  logout(): Promise<ApiResult<null>>;
  command(args: CommandArgs): Promise<ApiResult<CommandOutcome>>;
  voterDecision(args: VoterDecisionArgs): Promise<ApiResult<SheetFeedback>>;
  lookupBallot(args: LookupArgs): Promise<ApiResult<BallotLookup>>;
  /** Live station events; returns the unsubscribe function. */
  subscribe(listener: (e: StationEvent) => void): () => void;
}

/** The request/response calls; `subscribe` is a push channel instead. */
export const KIOSK_CALLS = ['status', 'login', 'logout', 'command', 'voterDecision', 'lookupBallot'] as const;
export type KioskCall = (typeof KIOSK_CALLS)[number];

export const CHANNEL_PREFIX = 'tallyproof:';
export const EVENT_CHANNEL = 'tallyproof:event';

export function channelOf(call: KioskCall): string {
  return `${CHANNEL_PREFIX}${call}`;
}
