import type { ElectionDefinition } from '../election';
import { layoutBallot } from './engine';
import type { BallotLayout } from './geometry';

/**
 * Layouts of an election's styles, computed once each (geometry only: no precinct, no mode). For a
 * validated election every style lays out, so a failure here is a programming error and throws.
 */
export function layoutCache(definition: ElectionDefinition): (styleId: string) => BallotLayout {
  const layouts = new Map<string, BallotLayout>();
  return (styleId) => {
    let l = layouts.get(styleId);
    if (!l) {
      const r = layoutBallot(definition, styleId);
      if (!r.ok) throw new Error(r.error.message);
      l = r.value;
      layouts.set(styleId, l);
    }
    return l;
  };
}
