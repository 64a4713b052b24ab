import fs from 'node:fs';
import type { LedgerMode } from '../ledger/record';
import { PublishError } from './errors';
import { PublicationSchema } from '../formats/publication-formats';
import type { Publication } from '../formats/publication-formats';
import type { PendingFile } from '../formats/bundle-pending';
import { PENDING_FORMAT } from '../formats/bundle-pending';
import { publishLayout } from './layout';
import { Outbox } from './outbox';
import { SignedFileSchema } from './publish';

/**
 * What of the station's publishing goes into the auditor's bundle. The outbox is the authority: a
 * publication file is exported only while the outbox holds its batch as published (a reorg withdraws it in
 * the outbox and leaves the old file on disk, which must not reach an auditor as if it still held), and
 * it must name the checkpoint the outbox published. A batch the outbox holds and has not published goes in
 * as a pending statement with its signed transactions (bundle-pending.ts). Files that are not exported are
 * listed with the reason.
 */
export interface ExportPublishing {
  readonly publications: readonly Publication[];
  readonly pending: readonly PendingFile[];
  readonly withheld: readonly { readonly file: string; readonly reason: string }[];
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PublishError('input', `${file}: not readable JSON: ${(e as Error).message}`);
  }
}

export function exportPublishing(dataDir: string, mode: LedgerMode): ExportPublishing {
  const layout = publishLayout(dataDir, mode);
  const publications: Publication[] = [];
  const pending: PendingFile[] = [];
  const withheld: { file: string; reason: string }[] = [];
  const exported = new Set<string>();
  if (fs.existsSync(layout.outbox)) {
    const outbox = Outbox.open(layout.outbox, mode);
    try {
      const lastLooked = { records: outbox.lastLooked('records'), anchor: outbox.lastLooked('anchor') };
      const status = new Map(outbox.status().map((s) => [s.batch, s]));
      for (const b of outbox.batches()) {
        const s = status.get(b.batch);
        if (s === undefined) continue;
        if (b.publication !== null) {
          // where this data directory keeps it (the outbox's stored path may be of a copy's original)
          const file = layout.publicationFile(b.batch);
          const parsed = PublicationSchema.safeParse(readJsonFile(file));
          if (!parsed.success) throw new PublishError('input', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
          if (parsed.data.batch !== b.batch || parsed.data.checkpointDigest !== b.checkpointDigest) {
            throw new PublishError('conflict', `${file}: names batch ${parsed.data.batch}, checkpoint ${parsed.data.checkpointDigest}; the outbox published batch ${b.batch}, checkpoint ${b.checkpointDigest}`);
          }
          publications.push(parsed.data);
          exported.add(file);
          continue;
        }
        if (s.state === 'published') continue;
        const signedFile = layout.signedFile(b.batch);
        if (!fs.existsSync(signedFile)) throw new PublishError('input', `${signedFile}: missing; the outbox holds batch ${b.batch} as ${s.state}, and its signed transactions belong in the bundle`);
        const parsed = SignedFileSchema.safeParse(readJsonFile(signedFile));
        if (!parsed.success) throw new PublishError('input', `${signedFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        const signed = parsed.data;
        const withdrawn = outbox.events(b.batch).some((e) => e.kind === 'publication-withdrawn');
        pending.push({
          format: PENDING_FORMAT,
          batch: b.batch,
          checkpointDigest: b.checkpointDigest,
          state: s.state,
          withdrawn,
          lastLooked,
          records: signed.records,
          anchor: { chain: signed.anchor.chain, network: signed.anchor.network, txid: signed.anchor.txid, hex: signed.anchor.hex },
        });
      }
    } finally {
      outbox.close();
    }
  }
  if (fs.existsSync(layout.publicationDir)) {
    for (const f of fs.readdirSync(layout.publicationDir).filter((x) => /^batch-\d+\.json$/.test(x))) {
      const file = layout.publicationFile(Number(f.slice(6, -5)));
      if (!exported.has(file)) withheld.push({ file, reason: fs.existsSync(layout.outbox) ? 'the outbox does not hold this batch as published (withdrawn after a reorg?)' : `no outbox at ${layout.outbox} says it is published` });
    }
  }
  return { publications, pending, withheld };
}
