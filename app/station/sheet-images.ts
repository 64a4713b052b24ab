import type { SheetReading } from '../../ballots/read/sheet';
import type { ImageDisposition, ImageStore } from '../ledger/image-store';
import type { LedgerMode } from '../ledger/record';
import type { SideImage } from '../ledger/sheet-detail';
import { newImageId, sheetImageSha256 } from '../ledger/sheet-detail';

/**
 * Which scans the station keeps (station.json `imageRetention`):
 * - `all` (default): every side of every sheet, recorded, returned and rejected, encrypted at rest. It serves
 *   adjudication, ballot-comparison audits (the CVR points at the image) and the investigation of a rejected
 *   or returned sheet.
 * - `adjudication`: only the sides of recorded sheets a person may have to look at, those with a marginal mark
 *   or a marked write-in line; returned and rejected sheets are not kept (nobody adjudicates a sheet that was
 *   not counted, and this setting exists to keep as few pictures of voters' marks as possible).
 * - `none`: hashes only; the ledger still holds each side's SHA-256 and a random image ID.
 */
export const IMAGE_RETENTIONS = ['all', 'adjudication', 'none'] as const;
export type ImageRetention = (typeof IMAGE_RETENTIONS)[number];
export const DEFAULT_IMAGE_RETENTION: ImageRetention = 'all';

/** A marginal mark or a marked write-in line: the sheet may need a person's decision. */
export function needsAdjudication(sheet: Pick<SheetReading, 'contests'>): boolean {
  return Object.values(sheet.contests).some((c) => c.marginal.length > 0 || c.writeIn);
}

export function keepsImages(retention: ImageRetention, disposition: ImageDisposition, sheet: Pick<SheetReading, 'contests'> | undefined): boolean {
  switch (retention) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'adjudication':
      return disposition === 'recorded' && sheet !== undefined && needsAdjudication(sheet);
  }
}

/**
 * The station's side of the image store: what each sheet's sides become (kept encrypted, or hashed only) at the
 * moment the station knows what became of the sheet.
 */
export class SheetImages {
  constructor(
    private readonly store: () => ImageStore,
    private readonly retention: ImageRetention,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * A sheet about to be recorded pending: its kept sides are written and flushed, directory entry included,
   * before this returns (the caller writes the pending entry next, so a cast ballot's image is never missing).
   * Throws when a side to keep cannot be written: the ballot is then not recorded.
   */
  forRecording(mode: LedgerMode, images: readonly Uint8Array[], sheet: SheetReading): SideImage[] {
    if (!keepsImages(this.retention, 'recorded', sheet)) return hashedOnly(images);
    const store = this.store();
    const sides = images.map((b, i) => {
      const s = store.put(b, { disposition: 'recorded', mode, side: i + 1, sides: images.length });
      return { imageId: s.imageId, sha256: s.sha256, kept: true };
    });
    store.flushDirectory();
    return sides;
  }

  /** The ledger refused the pending entry: the sides written as `recorded` are marked rejected. */
  recordingRefused(mode: LedgerMode, images: readonly Uint8Array[], sides: readonly SideImage[]): void {
    if (!sides.some((s) => s.kept) || !keepsImages(this.retention, 'rejected', undefined)) {
      // not kept as a rejected sheet under this setting: what was written for the ballot goes
      for (const s of sides) if (s.kept) this.remove(s.imageId);
      return;
    }
    this.tryKeep(() => {
      const store = this.store();
      for (const [i, s] of sides.entries()) {
        const b = images[i];
        if (s.kept && b !== undefined) store.replace(s.imageId, b, { disposition: 'rejected', mode, side: i + 1, sides: images.length });
      }
    });
  }

  /**
   * A sheet given back unrecorded. Its files need not be durable before anything else: the next recorded
   * sheet's directory flush covers them. A failure is logged, never in the voter's way.
   */
  givenBack(mode: LedgerMode, images: readonly Uint8Array[], disposition: 'returned' | 'rejected'): void {
    if (images.length === 0 || !keepsImages(this.retention, disposition, undefined)) return;
    this.tryKeep(() => {
      const store = this.store();
      for (const [i, b] of images.entries()) store.put(b, { disposition, mode, side: i + 1, sides: images.length });
    });
  }

  private remove(imageId: string): void {
    this.tryKeep(() => {
      const store = this.store();
      store.removeImage(imageId);
    });
  }

  private tryKeep(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log(`the image store could not keep a returned or rejected sheet's scan: ${(e as Error).message}`);
    }
  }
}

function hashedOnly(images: readonly Uint8Array[]): SideImage[] {
  return images.map((b) => ({ imageId: newImageId(), sha256: sheetImageSha256([b]), kept: false }));
}
