// @ts-check
/* global AudioContext, document -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * Audio cues (VVSG 7.3-H: feedback not by sight alone): one rising pair of tones for a counted ballot,
 * three low tones for a returned or rejected one, a long alternating pattern for an alarm. The page
 * shows the same outcome in words and colour, so a muted speaker loses nothing.
 */

/** @typedef {'counted' | 'returned' | 'rejected' | 'alarm'} Cue */

/** @type {Record<Cue, readonly (readonly [hz: number, ms: number])[]>} */
export const PATTERNS = {
  counted: [
    [660, 120],
    [990, 220],
  ],
  returned: [
    [330, 180],
    [0, 80],
    [330, 180],
    [0, 80],
    [330, 180],
  ],
  rejected: [
    [262, 300],
    [0, 100],
    [262, 300],
  ],
  alarm: [
    [880, 200],
    [440, 200],
    [880, 200],
    [440, 200],
  ],
};

/** @type {AudioContext | null} */
let ctx = null;

/**
 * Plays a cue; silently does nothing where the page may not make sound yet (autoplay policy).
 * @param {Cue} cue
 */
export function playCue(cue) {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
    let at = ctx.currentTime + 0.02;
    for (const [hz, ms] of PATTERNS[cue]) {
      if (hz > 0) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = hz;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.4, at + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + ms / 1000);
        osc.connect(gain).connect(ctx.destination);
        osc.start(at);
        osc.stop(at + ms / 1000 + 0.02);
      }
      at += ms / 1000;
    }
  } catch {
    // no audio device: the visual cue stands alone
  }
  document.body.dataset['lastCue'] = cue;
}
