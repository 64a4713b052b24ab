import { EncodingError } from '../../lib/bytes';
import { EntryKind, decodeCast, decodePending, decodeReturned } from './entries';
import { leafHash } from './merkle';
import { recordBallotId } from './record';
import type { SheetDetail } from './sheet-detail';
import { openDb } from './storage';

/** One cast ballot's sheet detail, as the ledger file holds it. */
export interface CastSheetDetail {
  /** the ballot ID's 12-character serial */
  readonly ballotId: string;
  /** the record's Merkle leaf hash (SHA-256(0x00 ‖ record)), hex: the CVR's UniqueId */
  readonly leafHash: string;
  readonly pendingSeq: number;
  readonly castSeq: number;
  /** SHA-256 over the sides concatenated: the public record carries its first 8 bytes */
  readonly imageSha256: Uint8Array;
  /** undefined for a ballot recorded before sheet detail existed (pending format 1) */
  readonly detail: SheetDetail | undefined;
}

/**
 * Each cast ballot's sheet detail, in ledger order, read straight from the file (read-only; the entries are
 * decoded, not verified: a caller that publishes or decides anything from them verifies the ledger first, as
 * `readLedgerForCounty` does). `upToSeq` stops at a verified head.
 */
export function readCastSheetDetails(file: string, opts: { readonly upToSeq?: number } = {}): CastSheetDetail[] {
  const db = openDb(file, { readonly: true });
  try {
    const pending = new Map<number, { record: Uint8Array; imageSha256: Uint8Array; detail: SheetDetail | undefined }>();
    const out: CastSheetDetail[] = [];
    const rows = db
      .prepare('SELECT seq, kind, payload FROM entries WHERE seq <= ? AND kind IN (?, ?, ?) ORDER BY seq')
      .iterate(opts.upToSeq ?? Number.MAX_SAFE_INTEGER, EntryKind.pending, EntryKind.cast, EntryKind.returned) as IterableIterator<{ seq: number; kind: number; payload: Buffer }>;
    for (const row of rows) {
      if (row.kind === EntryKind.pending) {
        const p = decodePending(row.payload);
        pending.set(row.seq, { record: Uint8Array.from(p.record), imageSha256: Uint8Array.from(p.imageSha256), detail: p.detail });
      } else if (row.kind === EntryKind.cast) {
        const at = decodeCast(row.payload);
        const p = pending.get(at);
        if (p === undefined) throw new EncodingError(`entry ${row.seq} casts entry ${at}, which is not a pending ballot`);
        pending.delete(at);
        out.push({ ballotId: recordBallotId(p.record), leafHash: leafHash(p.record).toString('hex'), pendingSeq: at, castSeq: row.seq, imageSha256: p.imageSha256, detail: p.detail });
      } else {
        pending.delete(decodeReturned(row.payload).pendingSeq);
      }
    }
    return out;
  } finally {
    db.close();
  }
}

