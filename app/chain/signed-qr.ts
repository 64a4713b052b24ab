import { z } from 'zod';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { NetworkName } from '../../ballots/identity/networks';
import { NETWORK_NAMES } from '../../ballots/identity/networks';
import { TxParseError, opReturnPayloads, parseTx } from '../formats/raw-tx';
import { FormatError, decodeAnchor, decodeRecordsField } from '../formats/publication-formats';
import { chainNetwork } from './networks';
import type { SignedFileSchema } from './publish';

/** `<data>/publish/signed/batch-<N>.json` (tallyproof-signed/1), as `publish --offline` writes it. */
export type SignedFile = z.infer<typeof SignedFileSchema>;

/**
 * One signed transaction as QR-sized text parts, for the signed-transactions tape: the station prints them
 * with no network, and anyone scans them and broadcasts from elsewhere (`publish --broadcast-qr`).
 *
 *   TPS1:<NETWORK>:<ROLE>:<TXID>:<i>/<n>:<HEX>
 *
 * Every character is in the QR alphanumeric set (0-9 A-Z space $ % * + - . / :), so the whole symbol is one
 * alphanumeric segment: 5.5 bits a character against 8 in byte mode. NETWORK is the network name upper-cased
 * (LITECOIN-REGTEST), ROLE is `A` (anchor) or `R<chunk>` (records, decimal chunk index: the order the
 * records chain must be sent in), TXID the display txid upper-cased, i/n the 1-based part number, HEX the
 * part's bytes upper-cased. Each part names its transaction, so parts of two transactions never combine;
 * the txid is computed from the reassembled bytes and compared, and the role checked against their content.
 * A txid does not cover a segwit witness: a witness altered between tape and node passes this check and is
 * refused by the node's signature check instead.
 */

/**
 * Bytes of transaction per part. With the longest header (a Florincoin regtest records chunk 65535, part
 * 99/99: 102 characters) and hex with no digit run to encode numerically, 434 bytes fit QR version 20 at ECC
 * level M (97 modules); 430 leaves a margin. On the 72 mm an 80 mm roll prints, with its 4-module quiet
 * zones, a module is 0.69 mm, 5.4 dots of a 203 dpi thermal head.
 * A transaction is split into equal parts, so a 1,040-byte records field (about 1,150 bytes signed) prints as
 * three codes of about 385 bytes each.
 */
export const QR_PART_MAX_BYTES = 430;
/** the largest QR version a part may need (checked by the tests over the worst header) */
export const QR_PART_MAX_VERSION = 20;
export const QR_PREFIX = 'TPS1';

export type SignedTxRole = 'records' | 'anchor';

export interface SignedTxForQr {
  readonly network: NetworkName;
  readonly role: SignedTxRole;
  /** records only: the chunk index */
  readonly chunk?: number;
  /** display hex, lowercase */
  readonly txid: string;
  /** raw transaction, hex */
  readonly hex: string;
}

export interface ReassembledTx {
  readonly network: NetworkName;
  readonly role: SignedTxRole;
  readonly chunk: number | null;
  /** records only: the first 16 bytes of the batch checkpoint digest its field names, hex */
  readonly checkpointPrefix: string | null;
  /** records: how many chunks its batch's records fields say there are (null for the anchor) */
  readonly chunks: number | null;
  readonly txid: string;
  /** lowercase, as the signed file and the nodes write it */
  readonly hex: string;
}

export type SignedQrIssueKind =
  /** a line that is not a TPS1 part (or a part with a malformed field) */
  | 'garbled'
  /** two different contents for one part of one transaction, or parts of one txid that disagree on network, role or count */
  | 'conflict'
  /** parts of a transaction were not scanned */
  | 'missing'
  /** the reassembled bytes are not a transaction, or hash to another txid than the parts name */
  | 'txid-mismatch'
  /** the transaction's content is not what its role says (no TPA anchor, no TPR field of that chunk) */
  | 'role-mismatch';

export interface SignedQrIssue {
  readonly kind: SignedQrIssueKind;
  /** the txid the issue is about, when known */
  readonly txid?: string;
  /** 1-based line number of the scanned text, when one line is at fault */
  readonly line?: number;
  readonly message: string;
}

export class SignedQrError extends Error {
  override readonly name = 'SignedQrError';
  constructor(readonly issues: readonly SignedQrIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}

const NETWORK_BY_CODE = new Map<string, NetworkName>(NETWORK_NAMES.map((n) => [n.toUpperCase(), n]));

const PART_RE = /^TPS1:([A-Z0-9-]+):(A|R\d{1,5}):([0-9A-F]{64}):(\d{1,2})\/(\d{1,2}):([0-9A-F]*)$/;

export const SignedTxPartSchema = z
  .strictObject({
    network: z.enum(NETWORK_NAMES),
    role: z.enum(['records', 'anchor']),
    chunk: z.number().int().min(0).max(65535).nullable(),
    txid: z.string().regex(/^[0-9a-f]{64}$/),
    index: z.number().int().min(1),
    count: z.number().int().min(1).max(99),
    hex: z.string().regex(/^(?:[0-9a-f]{2})+$/, 'a whole number of bytes of hex'),
  })
  .refine((p) => p.index <= p.count, { message: 'the part number is above the part count', path: ['index'] })
  .refine((p) => (p.role === 'records') === (p.chunk !== null), { message: 'records parts carry a chunk, anchor parts none', path: ['chunk'] });
export type SignedTxPart = z.infer<typeof SignedTxPartSchema>;

/** The QR texts of one signed transaction, in part order. */
export function encodeSignedTxParts(tx: SignedTxForQr): string[] {
  const bytes = Buffer.from(tx.hex, 'hex');
  if (bytes.length === 0 || bytes.toString('hex') !== tx.hex.toLowerCase()) throw new SignedQrError([{ kind: 'garbled', txid: tx.txid, message: `transaction ${tx.txid}: its raw hex is not whole bytes of hex` }]);
  if (!/^[0-9a-f]{64}$/i.test(tx.txid)) throw new SignedQrError([{ kind: 'garbled', message: `"${tx.txid}" is not a txid` }]);
  const role = tx.role === 'anchor' ? 'A' : `R${tx.chunk ?? 0}`;
  if (tx.role === 'records' && (tx.chunk === undefined || !Number.isInteger(tx.chunk) || tx.chunk < 0 || tx.chunk > 65535)) {
    throw new SignedQrError([{ kind: 'garbled', txid: tx.txid, message: `records transaction ${tx.txid}: chunk ${String(tx.chunk)} is not 0..65535` }]);
  }
  const n = Math.ceil(bytes.length / QR_PART_MAX_BYTES);
  if (n > 99) throw new SignedQrError([{ kind: 'garbled', txid: tx.txid, message: `transaction ${tx.txid} is ${bytes.length} bytes, more than 99 parts` }]);
  // parts differ by one byte at most: the first (length mod n) parts take the extra bytes (ceil-sized parts left a short last one)
  const base = Math.floor(bytes.length / n);
  const extra = bytes.length % n;
  const head = `${QR_PREFIX}:${tx.network.toUpperCase()}:${role}:${tx.txid.toUpperCase()}`;
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(`${head}:${i + 1}/${n}:${bytes.subarray(at, at + size).toString('hex').toUpperCase()}`);
    at += size;
  }
  return out;
}

/** One scanned line as a part, or the reason it is not one. */
export function parseSignedTxPart(text: string, line?: number): SignedTxPart {
  const where = line === undefined ? '' : `line ${line}: `;
  const fail = (why: string): never => {
    throw new SignedQrError([{ kind: 'garbled', ...(line === undefined ? {} : { line }), message: `${where}${why}` }]);
  };
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (!text.startsWith(`${QR_PREFIX}:`)) fail(`"${shown}" is not a signed-transaction part (they start "${QR_PREFIX}:")`);
  const m = PART_RE.exec(text);
  if (m === null) fail(`"${shown}" is not a well-formed ${QR_PREFIX} part (${QR_PREFIX}:<NETWORK>:<A|R<chunk>>:<TXID>:<i>/<n>:<HEX>)`);
  const [, net, role, txid, i, n, hex] = m as RegExpExecArray & string[];
  const network = NETWORK_BY_CODE.get(net as string);
  const parsed = SignedTxPartSchema.safeParse({
    network: network ?? net,
    role: role === 'A' ? 'anchor' : 'records',
    chunk: role === 'A' ? null : Number((role as string).slice(1)),
    txid: (txid as string).toLowerCase(),
    index: Number(i),
    count: Number(n),
    hex: (hex as string).toLowerCase(),
  });
  if (!parsed.success) return fail(`part of ${(txid as string).toLowerCase()}: ${parsed.error.issues.map((x) => `${x.path.join('.') || 'part'}: ${x.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Scanned text (one part a line, any order; blank lines and identical re-scans ignored) back into
 * transactions, each checked: every part present exactly once, the bytes hash to the txid the parts name,
 * and the content is what the role says. Transactions come out anchors last, records by chunk, as they
 * must be sent. Every problem found is reported at once (SignedQrError.issues).
 */
export function reassembleSignedTxs(text: string): ReassembledTx[] {
  const issues: SignedQrIssue[] = [];
  const byTxid = new Map<string, { first: SignedTxPart; firstLine: number; parts: Map<number, { hex: string; line: number }> }>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, k) => {
    const line = k + 1;
    const t = raw.trim();
    if (t === '') return;
    let p: SignedTxPart;
    try {
      p = parseSignedTxPart(t, line);
    } catch (e) {
      if (e instanceof SignedQrError) {
        issues.push(...e.issues);
        return;
      }
      throw e;
    }
    let tx = byTxid.get(p.txid);
    if (tx === undefined) {
      tx = { first: p, firstLine: line, parts: new Map() };
      byTxid.set(p.txid, tx);
    }
    const f = tx.first;
    if (f.network !== p.network || f.role !== p.role || f.chunk !== p.chunk || f.count !== p.count) {
      issues.push({
        kind: 'conflict',
        txid: p.txid,
        line,
        message: `line ${line}: part ${p.index}/${p.count} of ${p.txid} says ${describe(p)}, line ${tx.firstLine} said ${describe(f)}`,
      });
      return;
    }
    const seen = tx.parts.get(p.index);
    if (seen === undefined) tx.parts.set(p.index, { hex: p.hex, line });
    else if (seen.hex !== p.hex) issues.push({ kind: 'conflict', txid: p.txid, line, message: `line ${line}: part ${p.index}/${p.count} of ${p.txid} differs from the same part on line ${seen.line}` });
  });

  const out: ReassembledTx[] = [];
  for (const [txid, tx] of byTxid) {
    const { first } = tx;
    const missing: number[] = [];
    for (let i = 1; i <= first.count; i++) if (!tx.parts.has(i)) missing.push(i);
    if (missing.length > 0) {
      issues.push({ kind: 'missing', txid, message: `${first.role === 'anchor' ? 'anchor' : `records chunk ${first.chunk}`} ${txid}: missing part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${first.count}` });
      continue;
    }
    const hex = Array.from({ length: first.count }, (_, i) => (tx.parts.get(i + 1) as { hex: string }).hex).join('');
    const checked = checkTx(first, hex);
    if (!checked.ok) {
      issues.push(checked.error);
      continue;
    }
    out.push({ network: first.network, role: first.role, chunk: first.chunk, checkpointPrefix: checked.value?.prefix ?? null, chunks: checked.value?.chunks ?? null, txid, hex });
  }
  // records chains of two batches cannot be ordered from their parts: one batch's tape at a time
  const batches = [...new Set(out.flatMap((t) => (t.checkpointPrefix === null ? [] : [t.checkpointPrefix])))];
  if (batches.length > 1) issues.push({ kind: 'conflict', message: `the parts hold records of ${batches.length} batches (checkpoints ${batches.map((b) => `${b}…`).join(', ')}): scan one batch's tape per file` });
  // the anchor is sent only after every records transaction of its batch (issue 14 item 9): all of them scanned
  // with it (ones already on the node are recognised as known and not sent again)
  const anchor = out.find((t) => t.role === 'anchor');
  if (anchor !== undefined && issues.length === 0) {
    const recs = out.filter((t) => t.role === 'records');
    const count = recs[0]?.chunks ?? null;
    const have = new Set(recs.map((t) => t.chunk));
    const lacking = count === null ? [] : Array.from({ length: count }, (_, i) => i).filter((i) => !have.has(i));
    if (count === null || lacking.length > 0 || recs.some((t) => t.chunks !== count)) {
      issues.push({
        kind: 'missing',
        txid: anchor.txid,
        message:
          `anchor ${anchor.txid}: it is sent only with every records transaction of its batch, and ${count === null ? 'no records codes were scanned' : `records chunk${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')} of ${count} ${lacking.length > 1 ? 'were' : 'was'} not scanned`}: ` +
          'scan the whole tape (records already sent are recognised and not sent again)',
      });
    }
  }
  if (issues.length > 0) throw new SignedQrError(issues);
  if (out.length === 0) throw new SignedQrError([{ kind: 'missing', message: 'no signed-transaction part in the scanned text' }]);
  return out.sort((a, b) => (a.role === b.role ? (a.chunk ?? 0) - (b.chunk ?? 0) : a.role === 'records' ? -1 : 1));
}

function describe(p: SignedTxPart): string {
  return `${p.network} ${p.role === 'anchor' ? 'anchor' : `records chunk ${p.chunk}`} in ${p.count} part(s)`;
}

/** The txid is computed from the bytes (never trusted from the parts), and the role read from the content. */
function checkTx(p: SignedTxPart, hex: string): Result<{ prefix: string; chunks: number } | null, SignedQrIssue> {
  const what = p.role === 'anchor' ? 'anchor' : `records chunk ${p.chunk}`;
  let tx;
  try {
    tx = parseTx(hex, { floData: chainNetwork(p.network).floData });
  } catch (e) {
    if (e instanceof TxParseError) return err({ kind: 'txid-mismatch', txid: p.txid, message: `${what} ${p.txid}: the reassembled bytes are not a transaction (${e.message}): a part was misread, altered or of another transaction` });
    throw e;
  }
  if (tx.txid !== p.txid) return err({ kind: 'txid-mismatch', txid: p.txid, message: `${what} ${p.txid}: the reassembled transaction's txid is ${tx.txid}: a part was misread, altered or of another transaction` });
  const fields = [...opReturnPayloads(tx), ...(tx.floData !== undefined ? [tx.floData] : [])];
  if (p.role === 'anchor') {
    if (!fields.some((f) => isAnchor(f))) return err({ kind: 'role-mismatch', txid: p.txid, message: `${what} ${p.txid}: the transaction carries no Tallyproof anchor ("TPA")` });
    return ok(null);
  }
  const headers = fields.flatMap((f) => {
    try {
      return [decodeRecordsField(f).header];
    } catch (e) {
      if (e instanceof FormatError) return [];
      throw e;
    }
  });
  const mine = headers.find((h) => h.chunk === p.chunk);
  if (mine === undefined) {
    return err({ kind: 'role-mismatch', txid: p.txid, message: `${what} ${p.txid}: the transaction carries no Tallyproof records field of chunk ${p.chunk}${headers.length > 0 ? ` (it carries chunk ${headers.map((h) => h.chunk).join(', ')})` : ''}` });
  }
  return ok({ prefix: Buffer.from(mine.checkpointPrefix).toString('hex'), chunks: mine.chunks });
}

function isAnchor(f: Uint8Array): boolean {
  try {
    decodeAnchor(f);
    return true;
  } catch (e) {
    if (e instanceof FormatError) return false;
    throw e;
  }
}
