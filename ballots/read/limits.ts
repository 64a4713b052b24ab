/** The reader's size limits, apart from the decoder so that drivers can check a file without loading sharp. */

/** A 300 dpi legal page is 10.7 Mpx; anything past 64 Mpx is not a page from a ballot scanner. */
export const MAX_PIXELS = 64_000_000;
/** Below ~100 dpi a letter page is under 850 px wide: too coarse to read a 5.5 mm oval. */
export const MIN_WIDTH = 800;
/**
 * The most bytes an image file within MAX_PIXELS can need in a form scanners write: uncompressed 8-bit colour
 * (binary PPM, or an uncompressed RGB TIFF), 3 bytes a pixel, plus 1 MiB for headers and metadata (TIFF tags,
 * ICC profile, EXIF). A larger file holds more than the reader would decode, so it is refused unread: this
 * bounds what any scan file can cost in memory before decoding starts (≈ 193 MB). Denser encodings of a page
 * at the pixel limit (16-bit samples, ASCII Netpbm) are refused by size; a real 300 dpi legal page in 16-bit
 * colour is 64 MB, well within it.
 */
export const MAX_SCAN_BYTES = MAX_PIXELS * 3 + 1024 * 1024;
