/** Why a tape did not reach the printer; the message is worded for the poll worker at the station. */
export type PrintErrorKind = 'raster' | 'paper' | 'device' | 'lp' | 'timeout';

export class PrintError extends Error {
  override readonly name = 'PrintError';
  constructor(
    readonly kind: PrintErrorKind,
    message: string,
  ) {
    super(message);
  }
}
