/**
 * FOR THE COMPARISON HARNESS ONLY (scripts/compare-demo-export.sh loads it with `node -r`; nothing in the
 * product requires it). It pins what differs between two runs of the same demo day, so that two commits'
 * exports can be compared byte for byte:
 *
 *  - the clock: `new Date()` and `Date.now()` return one fixed instant (TALLYPROOF_COMPARE_CLOCK, ISO), so
 *    audit-event times, tape times and PDF dates are the same in both runs (timers are not affected);
 *  - the station key: BIP 340 `randomSecretKey` returns a key derived from TALLYPROOF_COMPARE_KEY_SEED, so
 *    both runs' stations sign with the same key (the election keys are reused instead: the script copies
 *    the first run's keys/ folder, which the demo then reuses);
 *  - BIP 340 signing: the auxiliary randomness defaults to 32 zero bytes (deterministic signing, as
 *    ballots/identity/ballot-id.ts signs ballot IDs), so checkpoint and signed-head signatures repeat.
 *
 * Voter tokens, session IDs and PIN salts stay random: they are not in any export.
 */
'use strict';
const crypto = require('node:crypto');

const clock = process.env.TALLYPROOF_COMPARE_CLOCK ?? '2026-11-03T07:00:00Z';
const FIXED = Date.parse(clock);
if (Number.isNaN(FIXED)) throw new Error(`TALLYPROOF_COMPARE_CLOCK is not an ISO time: ${clock}`);
const RealDate = Date;
class PinnedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(FIXED);
    else super(...args);
  }
  static now() {
    return FIXED;
  }
}
globalThis.Date = PinnedDate;

const { schnorr } = require('@noble/curves/secp256k1');
const seed = process.env.TALLYPROOF_COMPARE_KEY_SEED ?? 'tallyproof compare-demo-export';
let keys = 0;
schnorr.utils.randomSecretKey = () => {
  keys += 1;
  // a valid secret key: SHA-256 of the seed and a counter is below the curve order with overwhelming odds
  return new Uint8Array(crypto.createHash('sha256').update(`${seed}/${keys}`).digest());
};
schnorr.utils.randomPrivateKey = schnorr.utils.randomSecretKey;
const sign = schnorr.sign;
schnorr.sign = (message, secretKey, auxRand) => sign(message, secretKey, auxRand ?? new Uint8Array(32));
