import fs from 'node:fs';
import path from 'node:path';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import { fromHex } from '../../../lib/bytes';
import type { AnchorProfile } from '../../chain/chains-config';
import { PublishError } from '../../chain/errors';
import type { PublishLayout } from '../../chain/layout';
import { Outbox } from '../../chain/outbox';
import { carry } from '../../chain/publication';
import { publishAnchorOnly, type AnchorOnlyItem, type PublishReport } from '../../chain/publish';
import type { RpcClient } from '../../chain/rpc';
import type { StationWallet } from '../../chain/station-wallet';
import { CountyAnchorFileSchema, encodeCountyAnchor, noteDigest, type CountyAnchorFile } from '../../formats/county-anchor';
import type { LedgerMode } from '../../ledger/record';
import { parseCheckpoint } from '../tlog/checkpoint';
import { openNote, type Verifier } from '../tlog/note';
import { TlogError } from '../tlog/stored-hashes';

/**
 * The county's anchor rounds: every round, if the log's published (quorum-cosigned) checkpoint grew since
 * the last round's, it is anchored with ONE transaction through the station's publisher (app/chain
 * `publishAnchorOnly`: the durable outbox, fees, broadcast, confirmation tracking, fee bumps, reorgs). Each
 * round is a batch of the county's own outbox; the note it anchors is kept beside it, and once the anchor
 * is confirmed `rounds/round-<N>.json` (formats/county-anchor.ts) says where it landed. A reorg that takes
 * the anchor out withdraws that file (moved to `rounds/withdrawn/`), so no proof is built on it until it is
 * confirmed again.
 *
 *   <log dir>/anchor/outbox.sqlite         the county's outbox (schema v2: anchor-only batches)
 *   <log dir>/anchor/notes/<sha256>.note   each cosigned checkpoint a round anchors, named by its SHA-256 (the
 *                                          digest the outbox row and the payload hold), written before it is signed
 *   <log dir>/anchor/rounds/round-<N>.json where round N's anchor is, once confirmed
 */

export function countyAnchorLayout(logDir: string): PublishLayout & { readonly notesDir: string; noteFile(digestHex: string): string } {
  const root = path.join(logDir, 'anchor');
  return {
    root,
    outbox: path.join(root, 'outbox.sqlite'),
    signedDir: path.join(root, 'signed'),
    publicationDir: path.join(root, 'rounds'),
    signedFile: (n) => path.join(root, 'signed', `round-${n}.json`),
    publicationFile: (n) => path.join(root, 'rounds', `round-${n}.json`),
    notesDir: path.join(root, 'notes'),
    // by content, not by round: two rounds racing for the same number (serve's timer and `county anchor`) cannot
    // overwrite the note the winner signed; the loser's signing fails in the outbox
    noteFile: (digestHex) => path.join(root, 'notes', `${digestHex}.note`),
  };
}

export interface CountyAnchorOptions {
  readonly logDir: string;
  /** the log's key: every note anchored is checked to be the log's own */
  readonly logKey: Verifier;
  readonly mode: LedgerMode;
  readonly chain: AnchorProfile;
  readonly wallet: StationWallet;
  /** the published (cosigned) checkpoint note now, if any */
  readonly published: () => string | undefined;
  readonly hooks?: { afterBroadcast?(): Promise<void> | void };
}

export interface AnchorRoundReport {
  /** the round signed this time, if the log grew */
  readonly signed?: { round: number; treeSize: number };
  /** the size the last round anchors (signed or not yet confirmed) */
  readonly anchoredSize: number;
  readonly publish: PublishReport;
}

function treeOf(note: string, key: Verifier): { size: number; root: Uint8Array } {
  const opened = openNote(note, [key]);
  const cp = opened instanceof TlogError ? opened : parseCheckpoint(opened.text);
  if (cp instanceof TlogError) throw new PublishError('input', `the checkpoint to anchor is not the log's: ${cp.message}`);
  return { size: cp.size, root: cp.root };
}

/** Round N's anchor file, built from the outbox and the anchor node (publicationOf of the pass). */
async function anchorFile(logDir: string, key: Verifier, src: { outbox: Outbox; anchor: RpcClient; profile: AnchorProfile }, round: number): Promise<CountyAnchorFile> {
  const layout = countyAnchorLayout(logDir);
  const row = src.outbox.batch(round);
  const tx = src.outbox.txsOf(round, 'anchor')[0];
  if (row === undefined || tx === undefined || tx.state !== 'confirmed' || tx.blockHash === null) throw new PublishError('conflict', `round ${round}: no confirmed anchor in the outbox`);
  const note = fs.readFileSync(layout.noteFile(row.checkpointDigest), 'utf8');
  const tree = treeOf(note, key);
  if (Buffer.from(noteDigest(note)).toString('hex') !== row.checkpointDigest) throw new PublishError('conflict', `round ${round}: ${layout.noteFile(row.checkpointDigest)} is not the note the outbox anchored`);
  const carried = await carry(src.anchor, [tx], src.profile.confirmations);
  return CountyAnchorFileSchema.parse({
    format: 'tallyproof-county-anchor/1',
    round,
    origin: key.name,
    treeSize: tree.size,
    checkpoint: note,
    anchor: {
      chain: src.profile.name,
      network: src.profile.network,
      genesisHash: carried.genesisHash,
      blocks: carried.blocks,
      headersAfter: carried.headersAfter,
      tx: { txid: tx.txid, hex: tx.hex, blockHash: tx.blockHash },
      confirmations: 1 + carried.headersAfter.length,
    },
  });
}

/** The size the latest round (signed, whatever its state) anchors, and that round's number; 0 and 0 before any. */
function lastRound(logDir: string, key: Verifier, outbox: Pick<Outbox, 'batches'>): { round: number; size: number } {
  const rows = outbox.batches();
  const last = rows[rows.length - 1];
  if (last === undefined) return { round: 0, size: 0 };
  return { round: last.batch, size: treeOf(fs.readFileSync(countyAnchorLayout(logDir).noteFile(last.checkpointDigest), 'utf8'), key).size };
}

/**
 * One round: sign an anchor for the published checkpoint if it grew since the last round, then a pass of
 * the publisher over every round (send, track, bump, reorgs, round files).
 */
export async function anchorRound(opts: CountyAnchorOptions, what: { sign: boolean } = { sign: true }): Promise<AnchorRoundReport> {
  const layout = countyAnchorLayout(opts.logDir);
  const outbox = Outbox.open(layout.outbox, opts.mode);
  let last: { round: number; size: number };
  try {
    last = lastRound(opts.logDir, opts.logKey, outbox);
  } finally {
    outbox.close();
  }
  const note = what.sign ? opts.published() : undefined;
  const items: AnchorOnlyItem[] = [];
  let signed: { round: number; treeSize: number } | undefined;
  if (note !== undefined) {
    const tree = treeOf(note, opts.logKey);
    if (tree.size > last.size) {
      const round = last.round + 1;
      // the note is on disk before the anchor is signed: a round's file names exactly what its transaction carries
      const digest = noteDigest(note);
      fs.mkdirSync(layout.notesDir, { recursive: true });
      replaceFileAtomically(layout.noteFile(Buffer.from(digest).toString('hex')), note, { mode: 0o644 });
      items.push({ batch: round, digest, root: tree.root, entries: tree.size, payload: encodeCountyAnchor({ root: tree.root, size: tree.size, noteDigest: digest }) });
      signed = { round, treeSize: tree.size };
    }
  }
  const publish = await publishAnchorOnly({
    layout,
    mode: opts.mode,
    anchor: opts.chain,
    wallet: opts.wallet,
    items,
    publicationOf: (src, round) => anchorFile(opts.logDir, opts.logKey, src, round),
    ...(opts.hooks?.afterBroadcast === undefined ? {} : { hooks: { afterBroadcast: opts.hooks.afterBroadcast } }),
  });
  const reallySigned = signed !== undefined && publish.batches.some((b) => b.batch === signed.round) ? signed : undefined;
  return { ...(reallySigned === undefined ? {} : { signed: reallySigned }), anchoredSize: reallySigned?.treeSize ?? last.size, publish };
}

/** The confirmed rounds the outbox holds as published, with their files, earliest first. */
export function publishedRounds(logDir: string, outbox: Pick<Outbox, 'batches'>): { round: number; file: string; anchor: CountyAnchorFile }[] {
  const out: { round: number; file: string; anchor: CountyAnchorFile }[] = [];
  for (const b of outbox.batches()) {
    if (b.publication === null) continue;
    const json: unknown = JSON.parse(fs.readFileSync(b.publication, 'utf8'));
    const anchor = CountyAnchorFileSchema.parse(json);
    if (Buffer.from(noteDigest(anchor.checkpoint)).toString('hex') !== b.checkpointDigest) throw new PublishError('conflict', `${b.publication} is not the note round ${b.batch} anchored`);
    out.push({ round: b.batch, file: b.publication, anchor });
  }
  return out;
}

/** Decodes a 32-byte secret key file for the county's anchoring (see `county keys --anchor`). */
export function anchorSecretFrom(text: string, file: string): Uint8Array {
  const m = /^TALLYPROOF-ANCHOR-KEY ([0-9a-f]{64})\n?$/.exec(text);
  if (m === null) throw new PublishError('input', `${file}: not a county anchor key (one line "TALLYPROOF-ANCHOR-KEY <64 hex digits>")`);
  return fromHex(m[1] as string, 'anchor key', 32);
}

/**
 * `county serve`'s rounds: one every `intervalMs` while it runs, and a last one at `stop()` (the final round
 * at the end of the day: whatever the log published last is signed and sent before the process exits).
 * Rounds never overlap; a failed round is reported and the next one tries again.
 */
export class AnchorRounds {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly opts: CountyAnchorOptions & { readonly intervalMs: number; readonly report?: (line: string) => void },
  ) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.round().finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  /** One round now, after any round under way. */
  round(): Promise<AnchorRoundReport | undefined> {
    const next = this.running.then(async () => {
      try {
        const r = await anchorRound(this.opts);
        this.opts.report?.(describeRound(r));
        return r;
      } catch (e) {
        this.opts.report?.(`anchor round failed: ${(e as Error).message}`);
        return undefined;
      }
    });
    this.running = next;
    return next;
  }

  /** Stops the timer and runs the final round. */
  async stop(): Promise<AnchorRoundReport | undefined> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.round();
  }
}

export function describeRound(r: AnchorRoundReport): string {
  const head = r.signed !== undefined ? `anchor round ${r.signed.round}: signed for tree size ${r.signed.treeSize}` : `anchor round: nothing new (anchored size ${r.anchoredSize})`;
  const problems = [...r.publish.errors.map((e) => `error ${e.kind}: ${e.message}`), ...r.publish.waiting.map((w) => `waiting ${w.kind}: ${w.message}`)];
  return [head, ...r.publish.summary.map((s) => s.replace(/^batch/, 'round')), ...problems].join('\n');
}
