/** An export refused for what the county's tool would refuse (names Arlo cannot tell apart, a station id Arlo reads as a total). */
export class CountyExportError extends Error {
  override readonly name = 'CountyExportError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
