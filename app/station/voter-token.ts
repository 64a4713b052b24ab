/**
 * The voter's choice on a held ballot (fix it or cast it as is) over HTTP. Anyone on the machine can reach
 * the headless server, so a choice must come from the voter's screen: the server mints a token for each
 * held sheet and sends it only on the event streams of the browser registered as the voter screen (the one
 * a staff member last signed in on). The token is 256 random bits, names one sheet, is good once, and dies
 * as soon as the station shows that sheet in any other state (chosen, given back, paused away).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { StationEvent } from './api';

export interface HeldToken {
  readonly sheetId: string;
  readonly token: string;
}

const SPENT = '';

export class VoterTokens {
  private held: HeldToken | null = null;

  /** The token of the sheet waiting for the voter now, if any and not spent yet. */
  get current(): HeldToken | null {
    return this.held === null || this.held.token === SPENT ? null : this.held;
  }

  /**
   * Follows the station's events; returns the new token when a sheet starts waiting for the voter (the
   * caller sends it to the voter screen).
   */
  observe(e: StationEvent): HeldToken | null {
    const sheet = e.type === 'status' ? e.status.sheet : e.type === 'sheet' ? e.feedback : undefined;
    if (sheet === undefined) return null;
    if (sheet === null || sheet.outcome !== 'awaiting-voter') {
      this.held = null;
      return null;
    }
    if (this.held?.sheetId === sheet.sheetId) return null;
    this.held = { sheetId: sheet.sheetId, token: randomBytes(32).toString('base64url') };
    return this.held;
  }

  /** Spends a token: the sheet it names, once; null for a wrong, used or expired one. */
  take(token: string): string | null {
    const h = this.held;
    if (h === null || h.token === SPENT || token.length !== h.token.length) return null;
    if (!timingSafeEqual(Buffer.from(token), Buffer.from(h.token))) return null;
    // spent, not forgotten: the station still shows the sheet waiting until it has acted, and that must not
    // mint the same sheet a second token
    this.held = { sheetId: h.sheetId, token: SPENT };
    return h.sheetId;
  }
}
