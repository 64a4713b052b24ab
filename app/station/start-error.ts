/** Errors that stop the station from starting: the message names the file and what is wrong. */
export class StationStartError extends Error {}
