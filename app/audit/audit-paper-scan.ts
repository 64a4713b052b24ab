import type { ValidElection } from '../../ballots/election';
import type { BallotCodes, ElectionPublicKeys, Mode } from '../../ballots/identity';
import { PAPER, registrationMarks } from '../../ballots/layout';
import { decodeImage } from '../../ballots/read/decode';
import type { PageReading } from '../../ballots/read/interpret';
import { BallotReader, codeKindOf, decodeCodeBoxes } from '../../ballots/read/interpret';
import { between, measureLevels } from '../../ballots/read/levels';
import { decodeQrIn } from '../../ballots/read/qr-decode';
import { register } from '../../ballots/read/registration';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import type { CalibrationProfile } from '../../calibration/profile';
import { PaperInputError } from './audit-paper-input';

/**
 * The three QR texts of a scanned paper ballot, read with the station's own parts (image decoding,
 * registration against the printed marks, ZXing in each code box), and the reader's full reading of the
 * sheet (its marks). The reader's PageReading gives the serial but not the signed ballot ID text, so the
 * codes are decoded here as well: the audit then checks the very texts printed on the paper, exactly as it
 * checks codes typed from a QR reader app.
 */

export interface PaperScan {
  readonly codes: BallotCodes;
  /** 'registered': found in the code boxes of the aligned page; 'whole-page': the page did not align (a photo) */
  readonly located: 'registered' | 'whole-page';
  readonly reading: PageReading;
}

export interface ScanSetup {
  readonly election: ValidElection;
  readonly keys: ElectionPublicKeys;
  /** the bundle's mode: the reader rejects a ballot of the other mode, as a station would */
  readonly mode: Mode;
  readonly profile?: CalibrationProfile;
}

export async function readPaperScan(bytes: Uint8Array, file: string, setup: ScanSetup): Promise<PaperScan> {
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) throw new PaperInputError('malformed', file, `${decoded.error.code}: ${decoded.error.message}`);
  const img = decoded.value;
  const page = PAPER[setup.election.definition.paper.size];
  const levels = measureLevels(img);
  const reg = register(img, levels, page, registrationMarks(page));
  const found = reg.ok ? await decodeCodeBoxes(img, reg.value.toImage, reg.value.dpi, page, between(levels, (setup.profile ?? DEFAULT_PROFILE).inkCut)) : {};
  const located = reg.ok && Object.keys(found).length === 3 ? 'registered' : 'whole-page';
  if (located === 'whole-page') {
    // a photo or a scan the registration refuses: ZXing still finds codes over the whole page
    for (const r of await decodeQrIn(img, { x: 0, y: 0, width: img.width, height: img.height }, { tryHarder: true, maxSymbols: 6 })) {
      const kind = codeKindOf(r.text);
      if (found[kind] === undefined) found[kind] = r.text;
    }
  }
  const missing = (['address', 'ballotId', 'votingId'] as const).filter((k) => found[k] === undefined);
  if (missing.length > 0) {
    const why = reg.ok ? '' : ` (the page did not align: ${reg.error.message})`;
    throw new PaperInputError('incomplete', file, `could not decode the ${missing.join(', ')} code${missing.length > 1 ? 's' : ''} of the scan${why}`);
  }
  const reader = new BallotReader({ election: setup.election, publicKeys: setup.keys, profile: setup.profile ?? DEFAULT_PROFILE, station: { mode: setup.mode } });
  const reading = await reader.readImage(img);
  return { codes: { address: found.address as string, ballotId: found.ballotId as string, votingId: found.votingId as string }, located, reading };
}

