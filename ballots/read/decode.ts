import sharp from 'sharp';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { GrayImage } from '../gray-image';
import { isPnm, parsePnm } from './pnm';
import { MAX_PIXELS, MAX_SCAN_BYTES, MIN_WIDTH } from './limits';

// Every scan is a new image: libvips' operation cache (50 MB by default) would only hold on to pages a
// station never decodes twice, and makes the process's memory climb by that much over a day.
sharp.cache(false);

export { MAX_PIXELS, MAX_SCAN_BYTES, MIN_WIDTH } from './limits';

export type DecodeError =
  | { readonly code: 'unreadable-image'; readonly message: string }
  | { readonly code: 'image-too-large'; readonly message: string }
  | { readonly code: 'image-too-small'; readonly message: string };

/** Decodes PNG, JPEG, TIFF (any sharp reads) or Netpbm, gray or colour, into 8-bit gray. */
export async function decodeImage(bytes: Uint8Array): Promise<Result<GrayImage, DecodeError>> {
  if (bytes.length === 0) return err({ code: 'unreadable-image', message: 'the file is empty' });
  if (bytes.length > MAX_SCAN_BYTES) return err({ code: 'image-too-large', message: `the image file is ${bytes.length} bytes, more than the ${MAX_SCAN_BYTES} bytes of the largest scan this reader accepts` });
  let image: GrayImage;
  if (isPnm(bytes)) {
    const r = parsePnm(bytes, MAX_PIXELS);
    if (!r.ok) return err({ code: /more than/.test(r.error) ? 'image-too-large' : 'unreadable-image', message: r.error });
    image = r.value;
  } else {
    try {
      const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error', sequentialRead: true })
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 1) return err({ code: 'unreadable-image', message: `decoding gave ${info.channels} channels, not 1` });
      image = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    } catch (e) {
      const message = (e as Error).message;
      if (/pixel limit/i.test(message)) return err({ code: 'image-too-large', message: `the image has more than ${MAX_PIXELS} pixels` });
      return err({ code: 'unreadable-image', message: `not a readable image: ${message.split('\n')[0]}` });
    }
  }
  if (image.width < MIN_WIDTH) {
    return err({ code: 'image-too-small', message: `the image is ${image.width}×${image.height} pixels, too small for a ballot scan (at least ${MIN_WIDTH} pixels wide)` });
  }
  return ok(image);
}
