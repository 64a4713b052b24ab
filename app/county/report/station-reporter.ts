import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatStationEntry } from '../log/station-entry';
import { LogClient } from '../client/log-client';
import { verifyTlogProof } from '../client/tlog-proof-verify';
import { formatTlogProof } from '../tlog/proof';
import { TlogError } from '../tlog/stored-hashes';
import { parseCheckpoint } from '../../ledger/checkpoint';
import type { CountyReportSettings } from './report-settings';
import { mergeReceipts, readReceipts, receiptsFile, updateReceipts, type Receipt } from './receipts-file';
import { checkProofFile, proofFilesIn, recordProof, stationFolderOn, type CheckedProof } from './carried-proofs';
import type { SignedStationCheckpoint } from './signed-checkpoint';

/**
 * A station reporting its signed checkpoints to the county log over the network. The ledger is the queue:
 * every checkpoint it holds that has no receipt from this log is sent (`POST /add-entry`), so nothing is
 * lost to a restart or a second store falling out of step. A receipt is the log's answer (the entry's
 * index), then the proof that the entry is at that index of a checkpoint the log signed and the witnesses
 * cosigned (a C2SP tlog-proof, checked against the station's own copy of the entry before it is kept).
 * The network down, the log busy: tried again with a doubling wait. A refusal (another election, a
 * station the county did not register): said on the staff screen, tried again only after a restart.
 */

export type { SignedStationCheckpoint } from './signed-checkpoint';

export interface CountyReportStatus {
  /** the log's origin */
  readonly log: string;
  /** checkpoints the station signed */
  readonly total: number;
  /** of which the log answered with an index */
  readonly reported: number;
  /** of which the station holds a checked proof of inclusion in a witnessed checkpoint */
  readonly proven: number;
  /** what holds the rest up, in the captain's words (null when nothing waits) */
  readonly waiting: string | null;
}

/** What `POST /add-entry` answers on success (app/county/log/county-log.ts `Included`). */
const AnswerSchema = z.strictObject({ index: z.number().int().min(0), treeSize: z.number().int().min(1), duplicate: z.boolean() });

export interface ReporterOptions {
  readonly settings: CountyReportSettings;
  /** the station's data directory: receipts go to `<data>/county/` */
  readonly dataDir: string;
  /** the ledger's signed checkpoints, read each pass (the ledger is the queue) */
  readonly checkpoints: () => readonly SignedStationCheckpoint[];
  /** the status changed (the staff screen shows it) */
  readonly changed?: () => void;
  readonly log?: (message: string) => void;
  readonly now?: () => Date;
  /** waits between passes that left work: the first, doubled each pass without progress up to the last */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** runs `fn` after `ms` and returns its cancel (tests record the waits) */
  readonly timer?: (fn: () => void, ms: number) => () => void;
  readonly requestTimeoutMs?: number;
  /**
   * the export device's folder (station.json `continuousExport`): proofs `county submit --trust` wrote there
   * for this station (`county/<station>/batch-NNNNNN.tlog-proof`) are taken at every pass, checked as
   * `county receipts` checks them
   */
  readonly carriedFrom?: string;
}

/** What the staff screen says while a pass is sending and nothing has held the report up yet. */
export const SENDING = 'the station is sending to the county log';

export const DEFAULT_RETRY = { firstMs: 1_000, maxMs: 60_000 } as const;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function defaultTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

export class CountyReporter {
  private readonly file: string;
  private readonly client: LogClient;
  private readonly receipts = new Map<number, Receipt>();
  /** refusals by batch: not persisted, so a restart tries again (the county may have registered the station since) */
  private readonly refused = new Map<number, string>();
  private lastProblem: string | null = null;
  /** this pass's first refused proof on the export device: the captain carried it back, so the screen says why it was not taken */
  private carriedProblem: string | null = null;
  /** a pass is under way: until its answers come, the screen says the station is sending rather than nothing */
  private sending = false;
  private delayMs: number;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private total = 0;

  constructor(private readonly o: ReporterOptions) {
    this.file = receiptsFile(o.dataDir, o.settings.trust.log.name);
    this.client = new LogClient(o.settings.url, o.settings.trust, o.requestTimeoutMs ?? 10_000, this.abort.signal);
    this.delayMs = (o.retry ?? DEFAULT_RETRY).firstMs;
    for (const r of this.readReceipts()) this.receipts.set(r.batch, r);
  }

  private readReceipts(): Receipt[] {
    const read = readReceipts(this.file, this.o.settings.trust.log.name);
    if (read.ok) return [...read.value.values()];
    // the ledger still holds every checkpoint: a damaged receipts file costs a re-send, which the log answers with the same index
    this.o.log?.(`county: ${read.error}; every checkpoint is sent again`);
    return [];
  }

  /** What another writer (`county receipts`) added to the file since: its proofs, its receipts for batches not answered here. */
  private refreshReceipts(): void {
    const read = readReceipts(this.file, this.o.settings.trust.log.name);
    if (read.ok) mergeReceipts(this.receipts, read.value);
  }

  /** The receipts written back merged with what the file holds now (another writer's work is kept), plus `proofs`. */
  private saveReceipts(proofs: readonly CheckedProof[] = []): void {
    const now = (this.o.now ?? (() => new Date()))();
    const saved = updateReceipts(this.file, this.o.settings.trust.log.name, 'replace', (onDisk) => {
      mergeReceipts(onDisk, this.receipts);
      const outcomes = proofs.map((p) => recordProof(onDisk, p, now));
      return { write: true, value: outcomes };
    });
    if (!saved.ok) return; // 'replace' never refuses
    this.receipts.clear();
    for (const [b, r] of saved.value.receipts) this.receipts.set(b, r);
    for (const out of saved.value.value) {
      if (out.kind === 'recorded') this.o.log?.(`county: batch ${out.batch} proven by ${out.file} (entry ${out.index} of checkpoint ${out.treeSize}, cosigned by ${out.cosignedBy.join(', ') || 'no witness'})`);
      else if (out.kind === 'refused') this.carriedRefusal(out.reason);
    }
  }

  /** Refusals of carried proofs, said once each (a pass runs every minute while something waits). */
  private readonly carriedRefused = new Set<string>();
  private carriedRefusal(reason: string): void {
    this.carriedProblem ??= `a proof on the export device was not taken: ${reason}`;
    if (this.carriedRefused.has(reason)) return;
    this.carriedRefused.add(reason);
    this.o.log?.(`county: a carried proof is not taken: ${reason}`);
  }

  /** Proofs on the export device for checkpoints not proven yet, checked and kept. */
  private takeCarriedProofs(checkpoints: readonly SignedStationCheckpoint[]): boolean {
    this.carriedProblem = null;
    if (this.o.carriedFrom === undefined || checkpoints.length === 0) return false;
    let station: string;
    try {
      station = parseCheckpoint((checkpoints[0] as SignedStationCheckpoint).body).station;
    } catch {
      return false;
    }
    const folder = stationFolderOn(this.o.carriedFrom, station);
    if (folder === null) return false;
    let files: string[];
    try {
      files = proofFilesIn(folder);
    } catch {
      return false; // the device taken out while being read: the next pass looks again
    }
    const checked: CheckedProof[] = [];
    for (const file of files) {
      const c = checkProofFile(file, station, checkpoints, this.o.settings.trust);
      if ('refused' in c) this.carriedRefusal(c.refused);
      else if ((this.receipts.get(c.batch)?.tlogProof ?? null) === null) checked.push(c);
    }
    if (checked.length === 0) return false;
    const before = this.status().proven;
    this.saveReceipts(checked);
    return this.status().proven > before;
  }

  status(): CountyReportStatus {
    let reported = 0;
    let proven = 0;
    for (const r of this.receipts.values()) {
      reported++;
      if (r.tlogProof !== null) proven++;
    }
    const done = reported === this.total && proven === this.total;
    return { log: this.o.settings.trust.log.name, total: this.total, reported, proven, waiting: done ? null : (this.lastProblem ?? (this.sending ? SENDING : null)) };
  }

  /** The tlog-proof kept for a batch, if the log has proven it. */
  proofOf(batch: number): string | null {
    return this.receipts.get(batch)?.tlogProof ?? null;
  }

  /** Look at the ledger now (at start, and after the station signed a checkpoint). */
  kick(): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.delayMs = (this.o.retry ?? DEFAULT_RETRY).firstMs;
    void this.pass();
  }

  /** One pass over the ledger's checkpoints; resolves when it is done (a pass already running is joined, and run again after). */
  pass(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.runPass()
      .catch((e: unknown) => {
        this.lastProblem = `county log: ${(e as Error).message}`;
        return false;
      })
      .then((progress) => {
        this.running = undefined;
        this.sending = false;
        if (this.again) {
          this.again = false;
          return this.pass();
        }
        this.afterPass(progress);
        return undefined;
      });
    return this.running;
  }

  private afterPass(progress: boolean): void {
    this.o.changed?.();
    if (this.stopped) return;
    const s = this.status();
    const left = s.total - s.proven - [...this.refused.keys()].filter((b) => !this.receipts.has(b)).length;
    if (left <= 0) return;
    const retry = this.o.retry ?? DEFAULT_RETRY;
    if (progress) this.delayMs = retry.firstMs;
    const wait = this.delayMs;
    this.delayMs = Math.min(retry.maxMs, this.delayMs * 2);
    this.cancelTimer = (this.o.timer ?? defaultTimer)(() => {
      this.cancelTimer = undefined;
      void this.pass();
    }, wait);
  }

  /** True when something moved (a new receipt or proof). */
  private async runPass(): Promise<boolean> {
    const checkpoints = this.o.checkpoints();
    const grew = checkpoints.length !== this.total;
    this.total = checkpoints.length;
    this.sending = true;
    // a checkpoint signed since the last pass is on the screen now, not once the log has answered: the log
    // answers after its round, and a log that does not answer at all holds the pass for the request's timeout
    if (grew) this.o.changed?.();
    this.refreshReceipts();
    let progress = this.takeCarriedProofs(checkpoints);
    let problem: string | null = null;
    for (const c of checkpoints) {
      if (this.stopped) break;
      const entry = formatStationEntry(c.body, c.signature);
      const hash = sha256(entry);
      let receipt = this.receipts.get(c.batch);
      if (receipt !== undefined && receipt.entry !== hash) {
        // the ledger's checkpoint is not the one the log took: a ledger replaced under the station
        problem = `batch ${c.batch}: the county log holds a different checkpoint of this station (index ${receipt.index}) than the ledger's; call the election office`;
        continue;
      }
      if (receipt === undefined) {
        if (this.refused.has(c.batch)) {
          problem = this.refused.get(c.batch) as string;
          continue;
        }
        const sent = await this.submit(c.batch, entry, hash);
        if (typeof sent === 'string') {
          problem = sent;
          continue;
        }
        receipt = sent;
        progress = true;
      }
      if (receipt.tlogProof === null) {
        const proved = await this.prove(receipt, entry);
        if (typeof proved === 'string') problem = proved;
        else progress = true;
      }
    }
    this.lastProblem = [problem, this.carriedProblem].filter((p): p is string => p !== null).join('; ') || null;
    return progress;
  }

  private async submit(batch: number, entry: Uint8Array, hash: string): Promise<Receipt | string> {
    let res: Response;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.o.requestTimeoutMs ?? 10_000), this.abort.signal]);
      res = await fetch(`${this.o.settings.url}/add-entry`, { method: 'POST', body: entry, signal });
    } catch (e) {
      const cause = (e as Error & { cause?: { code?: string } }).cause?.code;
      return `batch ${batch}: the county log cannot be reached (${cause ?? (e as Error).message}); the station keeps trying`;
    }
    const text = await res.text().catch(() => '');
    if (res.status === 200) {
      let answer: z.infer<typeof AnswerSchema>;
      try {
        answer = AnswerSchema.parse(JSON.parse(text));
      } catch {
        return `batch ${batch}: the county log's answer is not an index: ${JSON.stringify(text.slice(0, 100))}`;
      }
      if (answer.index >= answer.treeSize) return `batch ${batch}: the county log answered index ${answer.index} of a tree of ${answer.treeSize}`;
      const receipt: Receipt = { batch, entry: hash, index: answer.index, answeredAt: (this.o.now ?? (() => new Date()))().toISOString(), tlogProof: null };
      this.receipts.set(batch, receipt);
      this.saveReceipts();
      this.o.log?.(`county: batch ${batch} is entry ${answer.index} of ${this.o.settings.trust.log.name}${answer.duplicate ? ' (sent before)' : ''}`);
      // the file's receipt if another writer got there first (a receipt keeps its index), with its proof if it has one
      return this.receipts.get(batch) ?? receipt;
    }
    const said = text.trim().slice(0, 300);
    if (res.status === 503 || res.status === 429 || res.status >= 500) return `batch ${batch}: the county log is busy (${res.status} ${said}); the station keeps trying`;
    const refusal = `batch ${batch}: the county log refused the checkpoint (${res.status} ${said}); call the election office`;
    this.refused.set(batch, refusal);
    this.o.log?.(`county: ${refusal}`);
    return refusal;
  }

  private async prove(receipt: Receipt, entry: Uint8Array): Promise<true | string> {
    let text: string;
    try {
      const cp = await this.client.checkpoint();
      if (cp.checkpoint.size <= receipt.index) return `batch ${receipt.batch}: waiting for the county log to publish a witnessed checkpoint holding entry ${receipt.index}`;
      const proof = await this.client.inclusionProof(cp.checkpoint, receipt.index, entry);
      text = formatTlogProof({ index: receipt.index, proof, note: cp.note });
    } catch (e) {
      const m = e instanceof TlogError ? e.message : ((e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
      return `batch ${receipt.batch}: no proof of entry ${receipt.index} from the county log yet (${m})`;
    }
    // the proof as kept must stand on its own, with the station's own entry and the trust policy alone
    const check = verifyTlogProof(text, entry, this.o.settings.trust);
    if (check instanceof TlogError) return `batch ${receipt.batch}: the county log's proof does not hold: ${check.message}`;
    this.receipts.set(receipt.batch, { ...receipt, tlogProof: text });
    this.saveReceipts();
    this.o.log?.(`county: batch ${receipt.batch} proven in ${this.o.settings.trust.log.name} checkpoint ${check.checkpoint.checkpoint.size} (cosigned by ${check.checkpoint.cosignedBy.join(', ') || 'no witness'})`);
    return true;
  }

  /** Stops retrying and cuts a submission under way short (the ledger still holds it for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }
}
