import type { SignedFile, SignedTxForQr } from '../chain/signed-qr';
import { QR_PREFIX, encodeSignedTxParts } from '../chain/signed-qr';
import { isNetworkName } from '../../ballots/identity/networks';
import type { Block } from './blocks';
import { assertPrintable } from './blocks';
import { ReportError } from './errors';
import { layoutPages } from './layout';
import type { Paper } from './paper';
import { isPaper, paperSpec } from './paper';
import { renderPdf, writePdfFile } from './render';

/**
 * The signed-transactions tape: a station with no network prints its signed batch as QR codes, and anyone
 * scans them and broadcasts from a machine with a node (`tallyproof publish --broadcast-qr`). Each
 * transaction prints its role, its txid as text (to compare with a block explorer) and its parts
 * (app/chain/signed-qr.ts), each code numbered and as wide as the roll prints.
 */
export interface SignedTapeInput {
  readonly stationId: string;
  readonly electionTitle: string;
  /** hex */
  readonly electionHash: string;
  readonly mode: 'test' | 'official';
  readonly batch: number;
  /** hex: the checkpoint the records fields and the anchor commit to */
  readonly checkpointDigest: string;
  readonly signed: SignedFile;
  /**
   * ISO time in UTC, minute precision: `tallyproof tape signed` takes it from the ledger (the last audit
   * event the batch's checkpoint covers: the close of polls for the batch written then), never from a flag
   */
  readonly printedAt: string;
  /** where `printedAt` comes from, printed beside it */
  readonly printedSource?: string;
}

/** Side of each code with its quiet zone: the 72 mm an 80 mm roll prints (module 0.69 mm at version 20). */
export const SIGNED_QR_MM = 72;

const HEX64 = /^[0-9a-f]{64}$/;
const PRINTED_AT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d{1,3})?)?Z$/;

export async function writeSignedTape(input: SignedTapeInput, outFile: string, paper: Paper): Promise<void> {
  writePdfFile(outFile, await renderSignedTape(input, paper));
}

/** The transactions in tape order: the anchor first (one code or two, the one to check first), then records by chunk. */
export function signedTxsForTape(signed: SignedFile): SignedTxForQr[] {
  const net = (n: string, role: string): SignedTxForQr['network'] => {
    if (!isNetworkName(n)) throw new ReportError('bad-input', `the signed file's ${role} network "${n}" is not one Tallyproof knows`);
    return n;
  };
  return [
    { network: net(signed.anchor.network, 'anchor'), role: 'anchor', txid: signed.anchor.txid, hex: signed.anchor.hex },
    ...[...signed.records.txs].sort((a, b) => a.chunk - b.chunk).map((t): SignedTxForQr => ({ network: net(signed.records.network, 'records'), role: 'records', chunk: t.chunk, txid: t.txid, hex: t.hex })),
  ];
}

export async function renderSignedTape(input: SignedTapeInput, paper: Paper): Promise<Buffer> {
  if (!isPaper(paper)) throw new ReportError('bad-input', `paper must be roll80 or letter, got "${String(paper)}"`);
  if (!HEX64.test(input.electionHash)) throw new ReportError('bad-input', `the election hash must be 64 lowercase hex digits, got "${input.electionHash}"`);
  if (!HEX64.test(input.checkpointDigest)) throw new ReportError('bad-input', `the checkpoint digest must be 64 lowercase hex digits, got "${input.checkpointDigest}"`);
  if (!Number.isSafeInteger(input.batch) || input.batch < 1) throw new ReportError('bad-input', `the batch must be a positive whole number, got ${input.batch}`);
  if (input.signed.batch !== input.batch || input.signed.mode !== input.mode) {
    throw new ReportError('bad-input', `the signed file is of the ${input.signed.mode} ledger's batch ${input.signed.batch}, the tape is for the ${input.mode} ledger's batch ${input.batch}`);
  }
  const when = PRINTED_AT.exec(input.printedAt);
  const printedAt = new Date(input.printedAt);
  if (when === null || Number.isNaN(printedAt.getTime())) throw new ReportError('bad-input', `printedAt must be an ISO time in UTC such as 2026-11-03T20:05Z, got "${input.printedAt}"`);
  printedAt.setUTCSeconds(0, 0);

  const txs = signedTxsForTape(input.signed);
  const blocks = tapeBlocks(input, txs, `${when[1]} ${when[2]} UTC`);
  assertPrintable(blocks);
  const mode = input.mode === 'test' ? 'TEST' : 'Official';
  const pages = layoutPages(blocks, paperSpec(paper), { header: `Signed transactions · ${mode} · ${input.electionTitle} · station ${input.stationId} · batch ${input.batch}` });
  return renderPdf(pages, {
    title: `Signed transactions: ${input.electionTitle}, station ${input.stationId}, batch ${input.batch}`,
    subject: `${mode} signed transactions of batch ${input.batch}, station ${input.stationId}, checkpoint ${input.checkpointDigest}`,
    date: printedAt,
  });
}

function tapeBlocks(input: SignedTapeInput, txs: readonly SignedTxForQr[], printed: string): Block[] {
  const test = input.mode === 'test';
  const testBanner: Block[] = test ? [{ kind: 'banner', text: 'TEST — NOT AN OFFICIAL TAPE', inverse: true }] : [];
  const records = txs.filter((t) => t.role === 'records');
  const parts = txs.map((t) => encodeSignedTxParts(t));
  const codes = parts.reduce((a, p) => a + p.length, 0);
  const head: Block[] = [
    ...testBanner,
    { kind: 'banner', text: 'SIGNED TRANSACTIONS', inverse: !test },
    { kind: 'text', text: 'Signed at the station, not yet broadcast. Scan every code into one text file, one per line, and send them from any machine with a node: tallyproof publish --broadcast-qr <file>.', small: true },
    { kind: 'space', mm: 1 },
    { kind: 'heading', text: input.electionTitle },
    { kind: 'row', label: 'Station', value: input.stationId },
    { kind: 'row', label: 'Mode', value: test ? 'TEST' : 'OFFICIAL', bold: true },
    { kind: 'row', label: 'Batch', value: String(input.batch), bold: true },
    { kind: 'row', label: 'Printed', value: printed, ...(input.printedSource !== undefined ? { note: input.printedSource } : {}) },
    { kind: 'hash', label: 'Election hash (SHA-256)', hex: input.electionHash },
    { kind: 'hash', label: 'Checkpoint digest (what the records and the anchor commit to)', hex: input.checkpointDigest },
    { kind: 'row', label: 'Anchor chain', value: input.signed.anchor.network },
    { kind: 'row', label: 'Records chain', value: input.signed.records.network },
    { kind: 'row', label: 'Transactions', value: String(txs.length) },
    { kind: 'row', label: 'Codes to scan', value: String(codes), bold: true },
    ...(input.signed.anchor.replaces.length > 0 ? [{ kind: 'text', text: `This anchor replaces ${input.signed.anchor.replaces.length} earlier version(s) with a higher fee; only one of them will be mined.`, small: true } as const] : []),
    { kind: 'rule', heavy: true },
  ];
  const body: Block[] = txs.flatMap((t, k): Block[] => {
    const title = t.role === 'anchor' ? 'Anchor' : `Records chunk ${t.chunk as number} (${records.indexOf(t) + 1} of ${records.length})`;
    const p = parts[k] as string[];
    return [
      {
        kind: 'group',
        blocks: [
          { kind: 'heading', text: title },
          { kind: 'row', label: 'Size', value: `${t.hex.length / 2} bytes` },
          { kind: 'row', label: 'Codes', value: String(p.length) },
          { kind: 'hash', label: 'Transaction ID', hex: t.txid },
        ],
      },
      // a code never leaves its number behind on another page or cut
      ...p.map((text, i): Block => ({ kind: 'group', blocks: [{ kind: 'text', text: `${title}: code ${i + 1} of ${p.length}`, bold: true }, { kind: 'qr', text, mm: SIGNED_QR_MM }] })),
      { kind: 'rule' },
    ];
  });
  const tail: Block[] = [
    { kind: 'rule', heavy: true },
    { kind: 'text', text: `${codes} codes, each starting "${QR_PREFIX}:"; every one is needed. A code scanned twice does no harm.`, small: true },
    ...testBanner,
    { kind: 'text', text: 'End of signed-transactions tape', small: true, center: true },
  ];
  return [...head, ...body, ...tail];
}
