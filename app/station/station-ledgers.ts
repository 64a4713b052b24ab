import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../lib/bytes';
import { fsyncDir } from '../../lib/durable-fs';
import type { Genesis } from '../ledger/entries';
import type { AuditEvent, AuditEventType } from '../ledger/events';
import type { DataLayout } from '../ledger/layout';
import { Ledger } from '../ledger/ledger';
import { signedHeadsFile } from '../ledger/signed-heads-file';
import type { StationKey } from '../ledger/station-key';
import type { Tally } from '../ledger/tally';
import { TallyCollector } from '../ledger/tally';
import type { ExternalHead } from '../ledger/verify';
import { readHeadsFile, verifyLedgerFile } from '../ledger/verify';
import type { ElectionPackage } from './election-package';
import { contestMap } from './election-package';
import { closeAndSeal, ledgerAlarmText } from './ledger-seal';
import type { LedgerMode } from './polls';
import { StationStartError } from './start-error';
import type { StationState } from './state-file';

/** What the station's ledgers need from the station. */
export interface StationLedgersDeps {
  readonly layout: DataLayout;
  readonly pkg: ElectionPackage;
  readonly key: StationKey;
  /** the number the election office gave this station (ballot records carry it) */
  readonly stationNumber: number;
  /** a signed head every this many entries */
  readonly signHeadsEvery: number;
  /** the second location of the signed heads, if any */
  readonly signedHeadsDir: string | undefined;
  state(): StationState;
  /** the station state with `patch` applied, in memory (`saveState` writes it) */
  setState(patch: Partial<StationState>): void;
  saveState(): void;
  event(type: AuditEventType, role: 'system', detail: Record<string, string | number | boolean>): void;
  log(message: string): void;
}

/** The genesis entry of this station's ledger of `mode`. */
export function ledgerGenesis(pkg: ElectionPackage, key: StationKey, stationNumber: number, mode: LedgerMode): Genesis {
  return {
    format: 'tallyproof-ledger/1',
    mode,
    // the election hash every ballot's voting ID carries (canonical JSON), as `ledger export` checks it
    election: { hash: pkg.election.hash, title: pkg.election.definition.election.title, contests: contestMap(pkg.election) },
    station: { id: key.stationId, number: stationNumber, publicKey: toHex(key.publicKey) },
  };
}

/** A ledger file that belongs to another election, station key or mode is refused before the station starts. */
export function checkGenesis(ledger: Ledger, want: Genesis): void {
  const g = ledger.genesis;
  if (g.election.hash !== want.election.hash) {
    ledger.close();
    throw new StationStartError(`${ledger.file}: this ledger is for election hash ${g.election.hash.slice(0, 16)}… ("${g.election.title}"), not ${want.election.hash.slice(0, 16)}…`);
  }
  if (g.station.publicKey !== want.station.publicKey) {
    ledger.close();
    throw new StationStartError(`${ledger.file}: this ledger names another station key than ${want.station.id}'s: the ledger or keys/station.json was replaced`);
  }
  if (g.mode !== want.mode) {
    ledger.close();
    throw new StationStartError(`${ledger.file}: this is a ${g.mode} ledger where the ${want.mode} ledger belongs`);
  }
}

/** A zero tape of the official ledger, as the tape desk records it. */
function isOfficialZeroTape(e: AuditEvent): boolean {
  return e.type === 'tape-printed' && e.detail['kind'] === 'zero' && e.detail['mode'] === 'official';
}

function removeLedgerFiles(layout: DataLayout, mode: LedgerMode): void {
  const file = layout.ledger(mode);
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.open`, `${file}.new`, layout.heads(mode)]) fs.rmSync(f, { force: true });
  fsyncDir(path.dirname(file));
}

/**
 * The station's two ledgers: the official one (opened before the station starts) and the test one (open in
 * test mode only), head signing, what opening them found wrong, a close a crash interrupted, and the cast
 * counts, from the verified ledgers at start and kept up to date.
 */
export class StationLedgers {
  private testLedger: Ledger | null = null;
  /** cast counts per mode, from the ledgers at start and kept up to date */
  private readonly castCounts: Record<LedgerMode, number> = { official: 0, test: 0 };
  private readonly castAsIsCounts: Record<LedgerMode, number> = { official: 0, test: 0 };
  /** a zero tape of the official ledger is recorded in it (from the ledger at start, then kept up to date) */
  private zeroTape = false;

  constructor(
    private readonly d: StationLedgersDeps,
    readonly official: Ledger,
  ) {}

  get test(): Ledger | null {
    return this.testLedger;
  }

  get cast(): Readonly<Record<LedgerMode, number>> {
    return this.castCounts;
  }

  get castAsIs(): Readonly<Record<LedgerMode, number>> {
    return this.castAsIsCounts;
  }

  get officialZeroTape(): boolean {
    return this.zeroTape;
  }

  /** the official zero tape is in the ledger now: the polls may open (polls.ts) */
  officialZeroTapePrinted(): void {
    this.zeroTape = true;
  }

  /** At start: head signing on, the test ledger opened in test mode, the counts read from the ledgers. */
  open(testMode: boolean): void {
    this.withSigning(this.official);
    if (testMode) this.testLedger = this.openOrCreate('test');
    this.countFromLedgers();
  }

  /** Test mode is over (the test ledger is kept as the logic-and-accuracy record). */
  closeTest(): void {
    this.testLedger?.close();
    this.testLedger = null;
  }

  closeAll(): void {
    this.testLedger?.close();
    this.official.close();
  }

  withSigning(ledger: Ledger): Ledger {
    ledger.useHeadSigning({
      signer: this.d.key,
      every: this.d.signHeadsEvery,
      ...(this.d.signedHeadsDir === undefined ? {} : { dir: this.d.signedHeadsDir }),
      onError: (e) => this.d.log(`a signed head could not be written: ${e.message}`),
    });
    return ledger;
  }

  /** What opening the ledgers found wrong with their files, as the words of an alarm (and an audit event each). */
  ledgerAlarm(): string | null {
    const texts: string[] = [];
    for (const ledger of [this.official, this.testLedger]) {
      if (ledger === null || ledger.startupFindings.length === 0) continue;
      for (const f of ledger.startupFindings) this.d.event('ledger-damaged', 'system', { mode: ledger.mode, what: f.what, message: f.message.slice(0, 1000) });
      texts.push(ledgerAlarmText(ledger.file, ledger.startupFindings));
    }
    if (texts.length === 0) return null;
    for (const t of texts) this.d.log(t);
    return texts.join(' ');
  }

  /** A signed head at every start brackets the restart in the second location. */
  signStartHead(): void {
    for (const ledger of [this.official, this.testLedger]) {
      if (ledger === null) continue;
      try {
        ledger.signHead('start');
      } catch (e) {
        this.d.log(`the start-up signed head could not be written: ${(e as Error).message}`);
      }
    }
  }

  /**
   * The ledger's own polls-closed event is what says the polls closed: a crash between it and the seal
   * (or a state.json that lost the close) is finished here, so a sealed ledger is never reopened to ballots.
   */
  finishInterruptedClose(): void {
    const d = this.d;
    if (this.official.pollsWindow !== 'closed') return;
    if (this.official.sealedAt === undefined) {
      const r = closeAndSeal(this.official, d.key, true);
      if (!r.ok) {
        d.log(`the polls closed in the ledger but it could not be sealed: ${r.error}`);
        return;
      }
      if (r.value.batch !== undefined) {
        const b = r.value.batch;
        d.setState({ closedBatch: { batch: b.batch, root: toHex(b.root), treeSize: b.treeSize, headSeq: r.value.seal.seq } });
      }
      this.official.noteExternalHead(d.layout.heads('official'), 'the seal, finished at start-up');
    }
    const polls = d.state().polls;
    if (polls !== 'closed' && polls !== 'published') {
      d.log(`the ledger is sealed (entry ${this.official.sealedAt}): the polls are closed, whatever the station state said (${polls})`);
      d.setState({ polls: 'closed' });
    }
    d.saveState();
  }

  private genesis(mode: LedgerMode): Genesis {
    return ledgerGenesis(this.d.pkg, this.d.key, this.d.stationNumber, mode);
  }

  private openOrCreate(mode: LedgerMode): Ledger {
    const file = this.d.layout.ledger(mode);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const ledger = fs.existsSync(file) ? Ledger.open(file, { integrityCheck: true }) : Ledger.create(file, this.genesis(mode));
    checkGenesis(ledger, this.genesis(mode));
    return this.withSigning(ledger);
  }

  ledgerFor(mode: LedgerMode): Ledger {
    if (mode === 'official') return this.official;
    if (this.testLedger === null) throw new Error('the test ledger is not open outside test mode');
    return this.testLedger;
  }

  /** Counts from the chain itself (verified), not from counters the station could lose in a crash. */
  private countFromLedgers(): void {
    for (const mode of ['official', 'test'] as const) {
      const ledger = mode === 'official' ? this.official : this.testLedger;
      if (ledger === null) continue;
      const t = this.tally(mode, mode === 'official' ? (e) => (this.zeroTape ||= isOfficialZeroTape(e)) : undefined);
      this.castCounts[mode] = t.ballots.cast;
      this.castAsIsCounts[mode] = t.ballots.castAsIs;
    }
  }

  countCast(mode: LedgerMode, castAsIs: boolean): void {
    this.castCounts[mode] += 1;
    if (castAsIs) this.castAsIsCounts[mode] += 1;
  }

  /** ballots pending (recorded, drop not confirmed) in either ledger */
  pendingCount(): number {
    return this.official.pendingBallots().length + (this.testLedger?.pendingBallots().length ?? 0);
  }

  verifyOptions(mode: LedgerMode): { expectedHeads: ExternalHead[]; stationPublicKey: Uint8Array; signedHeadsDir?: string } {
    const base = { expectedHeads: readHeadsFile(this.d.layout.heads(mode)), stationPublicKey: this.d.key.publicKey };
    return this.d.signedHeadsDir === undefined ? base : { ...base, signedHeadsDir: this.d.signedHeadsDir };
  }

  private tally(mode: LedgerMode, onEvent?: (e: AuditEvent) => void): Tally {
    const layout = this.d.layout;
    const collector = new TallyCollector();
    const report = verifyLedgerFile(layout.ledger(mode), this.verifyOptions(mode), onEvent === undefined ? collector.visitor : { ...collector.visitor, onEvent });
    if (!report.ok || report.summary === undefined) throw new StationStartError(`${layout.ledger(mode)}: the ${mode} ledger does not verify: entry ${report.problem?.seq}: ${report.problem?.message}`);
    return collector.result(report.summary.pending);
  }

  /** Entering test mode starts from an empty test ledger; the official ledger is never touched. */
  resetTestLedger(): void {
    const d = this.d;
    if (this.testLedger !== null) {
      d.setState({ testCountedCleared: d.state().testCountedCleared + this.castCounts.test });
      this.testLedger.close();
      this.testLedger = null;
    } else if (fs.existsSync(d.layout.ledger('test'))) {
      d.setState({ testCountedCleared: d.state().testCountedCleared + this.tally('test').ballots.cast });
    }
    removeLedgerFiles(d.layout, 'test');
    // the cleared test ledger's signed heads go with it: the new one starts its own chain
    if (d.signedHeadsDir !== undefined) fs.rmSync(signedHeadsFile(d.signedHeadsDir, d.key.stationId, 'test'), { force: true });
    this.testLedger = this.withSigning(Ledger.create(d.layout.ledger('test'), this.genesis('test')));
    this.castCounts.test = 0;
    this.castAsIsCounts.test = 0;
    d.saveState();
  }
}
