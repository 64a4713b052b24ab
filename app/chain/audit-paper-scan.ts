import type { ValidElection } from '../../ballots/election';
import type { GrayImage } from '../../ballots/gray-image';
import type { BallotCodes, ElectionPublicKeys, Mode } from '../../ballots/identity';
import type { CodeKind } from '../../ballots/layout';
import { PAPER, codeBoxes, registrationMarks } from '../../ballots/layout';
import { decodeImage } from '../../ballots/read/decode';
import { imageRectOf } from '../../ballots/read/homography';
import type { Homography } from '../../ballots/read/homography';
import type { PageReading } from '../../ballots/read/interpret';
import { BallotReader } from '../../ballots/read/interpret';
import { measureLevels } from '../../ballots/read/levels';
import { decodeQrIn } from '../../ballots/read/qr-decode';
import { register } from '../../ballots/read/registration';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import type { CalibrationProfile } from '../../calibration/profile';
import { PaperInputError, codeKindOf } from './audit-paper-input';

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
  const reg = register(img, measureLevels(img), page, registrationMarks(page));
  const found = reg.ok ? await codesInBoxes(img, reg.value.toImage, page) : {};
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

async function codesInBoxes(img: GrayImage, toImage: Homography, page: { width: number; height: number }): Promise<Partial<Record<CodeKind, string>>> {
  const found: Partial<Record<CodeKind, string>> = {};
  for (const { kind, rect } of codeBoxes(page)) {
    // the reader's attempts: close crop, then wider and harder, then despeckled (dust, folds)
    for (const attempt of [
      { margin: 4, tryHarder: false, clean: false },
      { margin: 12, tryHarder: true, clean: false },
      { margin: 6, tryHarder: true, clean: true },
    ]) {
      const results = await decodeQrIn(img, imageRectOf(toImage, rect, attempt.margin), { tryHarder: attempt.tryHarder, clean: attempt.clean, maxSymbols: 3 });
      const text = results.map((r) => r.text).find((t) => codeKindOf(t) === kind);
      if (text !== undefined) {
        found[kind] = text;
        break;
      }
    }
  }
  return found;
}

