import sharp from 'sharp';
import type { GrayImage } from '../gray-image';
import type { Rect, Side } from '../layout';
import { codeBoxes, registrationMarks } from '../layout';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { parseVotingId } from '../identity/voting-id';
import { decodeImage } from './decode';
import { imageRectOf } from './homography';
import { measureLevels } from './levels';
import { decodeQrIn } from './qr-decode';
import type { Registration } from './registration';
import { register } from './registration';

/**
 * Clips of a scanned page for a person to look at (adjudication): the page is aligned as the reader aligns it
 * (corner, orientation and timing marks), so a rectangle in layout millimetres (an oval, a write-in line) is
 * cut from the raw scan whatever its skew, shift or orientation, and turned upright.
 */
export interface LocatedPage {
  readonly img: GrayImage;
  readonly reg: Registration;
  /** the side its voting ID code names, when the code reads */
  readonly side: Side | undefined;
}

export async function locatePage(bytes: Uint8Array, page: { readonly width: number; readonly height: number }): Promise<Result<LocatedPage, string>> {
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) return err(decoded.error.message);
  const img = decoded.value;
  const levels = measureLevels(img);
  const reg = register(img, levels, page, registrationMarks(page));
  if (!reg.ok) return err(reg.error.message);
  const box = codeBoxes(page).find((b) => b.kind === 'votingId');
  let side: Side | undefined;
  if (box !== undefined) {
    const found = await decodeQrIn(img, imageRectOf(reg.value.toImage, box.rect, 6), { scale: 1, tryHarder: true, clean: false, maxSymbols: 3 });
    for (const r of found) {
      const v = parseVotingId(r.text);
      if (v.ok) side = v.value.side;
    }
  }
  return ok({ img, reg: reg.value, side });
}

/** A PNG of `rect` (page mm) grown by `marginMm`, upright, from a located page. */
export async function clipRect(p: LocatedPage, rect: Rect, marginMm: number): Promise<Buffer> {
  const r = imageRectOf(p.reg.toImage, rect, marginMm);
  const left = Math.max(0, Math.floor(r.x));
  const top = Math.max(0, Math.floor(r.y));
  const width = Math.max(1, Math.min(p.img.width - left, Math.ceil(r.x + r.width) - left));
  const height = Math.max(1, Math.min(p.img.height - top, Math.ceil(r.y + r.height) - top));
  const src = sharp(Buffer.from(p.img.data.buffer, p.img.data.byteOffset, p.img.data.length), { raw: { width: p.img.width, height: p.img.height, channels: 1 } }).extract({ left, top, width, height });
  const upright = p.reg.upsideDown ? sharp(await src.png().toBuffer()).rotate(180) : src;
  return upright.png().toBuffer();
}
