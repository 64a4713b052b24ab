import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../ledger/events';
import { isoSeconds } from '../ledger/events';
import type { DataLayout } from '../ledger/layout';
import type { Ledger } from '../ledger/ledger';
import type { VerifyOptions } from '../ledger/verify';
import { verifyLedgerFile } from '../ledger/verify';
import type { TapePrinter } from '../print/printers';
import type { CheckpointQr } from '../reports/checkpoint-qr';
import type { LedgerTapeData } from '../reports/ledger-tape';
import { readLedgerForTape } from '../reports/ledger-tape';
import type { Paper } from '../reports/paper';
import { renderPollsReport } from '../reports/polls-report';
import { buildTapeInput } from '../reports/tape-input';
import { renderTape } from '../reports/tapes';
import { writePdfFile } from '../reports/render';
import type { ApiResult, CommandOutcome, Role } from './api';
import type { ElectionPackage } from './election-package';
import type { LedgerMode } from './polls';

/** What the station's printing needs from it; the station keeps the ledgers, the desk only reads them. */
export interface TapeDeskDeps {
  readonly layout: DataLayout;
  readonly pkg: ElectionPackage;
  readonly stationId: string;
  readonly printer: TapePrinter;
  /** the paper tapes are laid out for (the printer's, unless the station says otherwise) */
  readonly paper: Paper;
  /** the chains.json networks the checkpoint code names (null: none configured) */
  readonly network: () => CheckpointQr['network'];
  readonly verifyOptions: (mode: LedgerMode) => VerifyOptions;
  readonly official: Ledger;
  readonly now: () => Date;
}

export type TapeKind = 'zero' | 'results' | 'polls-paused' | 'polls-resumed';

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/**
 * Prints the station's tapes: renders the PDF from the verified ledger, keeps it in `<data>/tapes/`, sends it
 * to the printer, and only then records the 'tape-printed' event, with the PDF's SHA-256, so a later tape
 * (and the polls helper's open-polls check) can name the zero tape that was really printed. A reprint sends
 * the same kept file again, after checking it still hashes to what the ledger recorded.
 */
export class TapeDesk {
  constructor(private readonly d: TapeDeskDeps) {}

  private get dir(): string {
    return path.join(this.d.layout.root, 'tapes');
  }

  private read(mode: LedgerMode): ApiResult<LedgerTapeData> {
    try {
      const r = readLedgerForTape(this.d.layout, mode, this.d.verifyOptions, this.d.network());
      if (!r.ok) return refused('ledger-bad', `${r.file}: the ledger does not verify, so no tape is printed: entry ${r.problem.seq}: ${r.problem.kind}: ${r.problem.message}`);
      return ok(r.value);
    } catch (e) {
      return refused('ledger-bad', (e as Error).message);
    }
  }

  /** The zero or results tape of `mode`, `copies` times. */
  async printTape(kind: 'zero' | 'results', mode: LedgerMode, ledger: Ledger, role: Role, copies: number): Promise<ApiResult<CommandOutcome>> {
    const read = this.read(mode);
    if (!read.ok) return read;
    const data = read.value;
    if (kind === 'zero' && data.tally.ballots.cast + data.tally.ballots.pending > 0) return refused('not-zero', `${data.tally.ballots.cast} ballot(s) are already counted in the ${mode} ledger`);
    const now = this.d.now();
    const clock = isoSeconds(now);
    // the one builder `tallyproof tape` uses too: the same ledger prints the same tape at the station and after
    const { input, headNote } = buildTapeInput(kind, data, { election: this.d.pkg.election.definition, precinct: this.d.pkg.precinct, profile: this.d.pkg.profile }, now);
    let pdf: Buffer;
    try {
      pdf = await renderTape(kind, input, this.d.paper);
    } catch (e) {
      return refused('tape-failed', `the ${kind} tape could not be printed: ${(e as Error).message}`);
    }
    const sent = await this.keepAndPrint(kind, mode, pdf, clock, copies);
    if (!sent.ok) return sent;
    this.record(kind, mode, role, clock, { headSeq: data.head.seq, sha256: sent.value.sha256, copies, printer: sent.value.printer, file: path.basename(sent.value.file) });
    // the head is on paper now: a ledger cut back to before it no longer verifies
    ledger.noteExternalHead(this.d.layout.heads(mode), headNote);
    const where = this.d.printer.kind === 'none' ? '' : ` on ${sent.value.printer}`;
    return ok({ message: `The ${kind} tape is printed${where}${copies > 1 ? `, ${copies} copies,` : ''} (ledger head ${data.head.seq}).`, file: sent.value.file });
  }

  /** The short report of a pause or resumption, just recorded as the last polls event of the official ledger. */
  async printPollsReport(kind: 'polls-paused' | 'polls-resumed', role: Role): Promise<ApiResult<CommandOutcome>> {
    const read = this.read('official');
    if (!read.ok) return read;
    const data = read.value;
    const ev = data.facts.pauses[data.facts.pauses.length - 1];
    if (ev === undefined || `polls-${ev.kind}` !== kind) return refused('tape-failed', `the ledger's last polls event is not ${kind}`);
    let pdf: Buffer;
    try {
      pdf = await renderPollsReport(
        {
          kind,
          election: this.d.pkg.election.definition,
          electionHash: data.genesis.election.hash,
          precinct: this.d.pkg.precinct,
          stationId: this.d.stationId,
          mode: 'official',
          at: ev.at,
          eventSeq: ev.seq,
          ballots: { cast: data.tally.ballots.cast, castAsIs: data.tally.ballots.castAsIs, pending: data.tally.ballots.pending },
          facts: data.facts,
          ledgerHead: data.head,
        },
        this.d.paper,
      );
    } catch (e) {
      return refused('tape-failed', `the ${kind} report could not be printed: ${(e as Error).message}`);
    }
    const clock = isoSeconds(this.d.now());
    const sent = await this.keepAndPrint(kind, 'official', pdf, clock, 1);
    if (!sent.ok) return sent;
    this.record(kind, 'official', role, clock, { headSeq: data.head.seq, sha256: sent.value.sha256, copies: 1, printer: sent.value.printer, file: path.basename(sent.value.file), eventSeq: ev.seq });
    return ok({ message: `The ${kind} report is printed${this.d.printer.kind === 'none' ? '' : ` on ${sent.value.printer}`}.`, file: sent.value.file });
  }

  /**
   * Another `copies` of the last tape or report the station printed (a poll worker's most frequent ask: the
   * roll tore, a second copy for the envelope). The kept PDF must still hash to what the ledger recorded.
   */
  async reprint(role: Role, copies: number): Promise<ApiResult<CommandOutcome>> {
    let last: AuditEvent | undefined;
    try {
      const report = verifyLedgerFile(this.d.layout.ledger('official'), this.d.verifyOptions('official'), {
        onEvent: (e) => {
          if (e.type === 'tape-printed' && typeof e.detail['file'] === 'string' && typeof e.detail['sha256'] === 'string') last = e;
        },
      });
      if (!report.ok) return refused('ledger-bad', `the official ledger does not verify: entry ${report.problem?.seq}: ${report.problem?.message}`);
    } catch (e) {
      return refused('ledger-bad', (e as Error).message);
    }
    if (last === undefined) return refused('no-tape', 'no tape has been printed yet: print the zero tape or the results tape first');
    const kind = String(last.detail['kind']) as TapeKind;
    const mode = last.detail['mode'] === 'test' ? 'test' : 'official';
    const file = path.join(this.dir, path.basename(String(last.detail['file'])));
    let pdf: Buffer;
    try {
      pdf = fs.readFileSync(file);
    } catch (e) {
      return refused('tape-missing', `the last ${kind} tape's file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): print the tape again instead`);
    }
    const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
    if (sha256 !== last.detail['sha256']) return refused('tape-changed', `${file} is not the ${kind} tape the ledger recorded (SHA-256 ${sha256}, recorded ${String(last.detail['sha256'])}): it is not reprinted`);
    const r = await this.d.printer.print({ pdf, title: `${kind}-${mode}-${this.d.stationId}-reprint`, copies });
    if (!r.ok) return refused('print-failed', `the ${kind} tape was not reprinted: ${r.error.message}`);
    this.record(kind, mode, role, isoSeconds(this.d.now()), { headSeq: Number(last.detail['headSeq'] ?? 0), sha256, copies, printer: r.value.printer.slice(0, 200), file: path.basename(file), reprint: true });
    return ok({ message: `Printed ${copies} more cop${copies === 1 ? 'y' : 'ies'} of the ${kind} ${kind.startsWith('polls') ? 'report' : 'tape'} (${r.value.printer}).`, file });
  }

  private async keepAndPrint(kind: TapeKind, mode: LedgerMode, pdf: Buffer, clock: string, copies: number): Promise<ApiResult<{ file: string; sha256: string; printer: string }>> {
    fs.mkdirSync(this.dir, { recursive: true });
    const stem = `${kind}-${mode}-${clock.replace(/[-:]/g, '')}`;
    // a tape printed twice within a second keeps both files: a reprint finds the one its event names
    let file = path.join(this.dir, `${stem}.pdf`);
    for (let k = 2; fs.existsSync(file); k++) file = path.join(this.dir, `${stem}-${k}.pdf`);
    try {
      writePdfFile(file, pdf);
    } catch (e) {
      return refused('tape-failed', `the ${kind} tape could not be kept: ${(e as Error).message}`);
    }
    const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
    const r = await this.d.printer.print({ pdf, title: `${kind}-${mode}-${this.d.stationId}`, copies });
    // not printed, not recorded: the zero tape the polls open on must be one that came out of the printer
    if (!r.ok) return refused('print-failed', `the ${kind} ${kind.startsWith('polls') ? 'report' : 'tape'} was not printed: ${r.error.message} (kept as ${file})`);
    return ok({ file, sha256, printer: r.value.printer.slice(0, 200) });
  }

  private record(kind: TapeKind, mode: LedgerMode, role: Role, at: string, detail: Record<string, string | number | boolean>): void {
    this.d.official.recordEvent({ type: 'tape-printed', role, at, detail: { kind, mode, ...detail } });
  }
}
