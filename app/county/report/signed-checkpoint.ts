/** A checkpoint the station's ledger signed, as the county reporting reads it (the ledger is the queue). */
export interface SignedStationCheckpoint {
  readonly batch: number;
  readonly body: string;
  readonly signature: Uint8Array;
}
