/**
 * What the continuous export adds to the station's per-sheet path (issue 15 budget: ≤ 15 ms median per ballot)
 * and the station's ballots/min with it on (≥ 600/min). The station benches' rig (support/pty-station.ts):
 * firmware simulator on a socat pty, the real serial driver, reader, policy, durable SQLite ledger; here the
 * same station runs in alternating legs without and with the export (to a directory on the same disk as the
 * ledger), same images, same process, so the machine's load falls on both alike. Per sheet: the time from one
 * "counted" to the next while the feeder runs (first sheet of each round left out: it waits for the feeder to
 * start). Test mode, K distinct ballots per round, the test ledger cleared between rounds as in
 * station-throughput.
 *   node scripts/run-ts.js test/bench/continuous-export.bench.ts [--ballots 400] [--distinct 50] [--legs 4]
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import type { ExportDevice, FileToWrite } from '../../app/county-export/export-device';
import { DirectoryDevice } from '../../app/county-export/export-device';
import { verifyExport } from '../../app/county-export/export-verify';
import { dataLayout } from '../../app/ledger/layout';
import { writeTestKeys } from '../support/ballots';
import { ELECTION } from '../station/support/constants';
import { argValue, machine } from './support/machine';
import { distinctTestSheets, startPtyStation } from './support/pty-station';

const num = (name: string, fallback: number): number => Number(argValue(`--${name}`) ?? fallback);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** The real directory, with the time its writes take (file, index and manifest writes with their fsyncs). */
class TimedDevice implements ExportDevice {
  readonly writeMs: number[] = [];
  constructor(private readonly real: DirectoryDevice) {}
  get root(): string {
    return this.real.root;
  }
  check() {
    return this.real.check();
  }
  freeBytes() {
    return this.real.freeBytes();
  }
  readFile(name: string) {
    return this.real.readFile(name);
  }
  listDir(name: string) {
    return this.real.listDir(name);
  }
  writeFiles(files: readonly FileToWrite[]) {
    const t = process.hrtime.bigint();
    this.real.writeFiles(files);
    this.writeMs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  removeFile(name: string) {
    this.real.removeFile(name);
  }
}

interface Leg {
  readonly exportOn: boolean;
  readonly intervalsMs: number[];
  readonly counted: number;
  readonly elapsedMs: number;
  readonly deviceWriteMs: number[];
}

async function leg(work: string, keys: string, sheets: readonly DeckSheet[], total: number, exportOn: boolean, n: number): Promise<Leg> {
  const usb = path.join(work, `usb-${n}`);
  fs.mkdirSync(usb, { recursive: true });
  const timed = new TimedDevice(new DirectoryDevice(usb, { mustBeMountPoint: false }));
  const dataDir = path.join(work, `data-${n}`);
  const rig = await startPtyStation(sheets, {
    ptyDir: path.join(work, `pty-${n}`),
    dataDir,
    electionKeys: keys,
    readerWorkers: 0,
    ...(exportOn ? { continuousExport: { dir: usb, whenDeviceFails: 'stop' as const, mustBeMountPoint: false }, exportDevice: timed } : {}),
  });
  const { station } = rig;
  const counted: number[] = [];
  station.subscribe((e) => {
    if (e.type === 'sheet' && e.feedback.outcome === 'counted') counted.push(Number(process.hrtime.bigint()) / 1e6);
  });
  const distinct = sheets.length;
  const intervals: number[] = [];
  let done = 0;
  const t0 = process.hrtime.bigint();
  while (done < total) {
    const k = Math.min(distinct, total - done);
    counted.length = 0;
    await rig.feedRound(k);
    for (let i = 1; i < counted.length; i++) intervals.push((counted[i] as number) - (counted[i - 1] as number));
    done += k;
    // the last round's test ledger stays, to check the export against
    if (done < total) await rig.clearTestLedger();
  }
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (exportOn) {
    // the index file and the manifest follow the last ballot in the station's queue
    await station.voterDecision({ sheetId: 'no-such-sheet', decision: 'return' });
    const v = verifyExport(usb, { ledgerFile: (mode) => dataLayout(dataDir).ledger(mode), verify: () => ({}), electionFile: ELECTION, imagesDir: dataLayout(dataDir).images });
    const problems = v.folders.flatMap((f) => f.problems);
    if (!v.ok) throw new Error(`the export does not match the ledger: ${JSON.stringify(problems.slice(0, 3))}`);
  }
  await rig.stop();
  return { exportOn, intervalsMs: intervals, counted: done, elapsedMs, deviceWriteMs: timed.writeMs };
}

async function main(): Promise<void> {
  const total = num('ballots', 400);
  const distinct = num('distinct', 50);
  const legs = num('legs', 4);
  const work = fs.mkdtempSync(path.join(tmpdir(), 'tp-cexport-bench-'));
  const { sheets } = await distinctTestSheets(distinct);
  const keys = path.join(writeTestKeys(work), 'election-public.json');
  // warm-up leg (reader, WASM, JIT), not counted
  await leg(work, keys, sheets, distinct, true, 0);
  const results: Leg[] = [];
  for (let i = 0; i < legs; i++) results.push(await leg(work, keys, sheets, Math.ceil(total / legs), i % 2 === 1, i + 1));
  fs.rmSync(work, { recursive: true, force: true });

  const off = results.filter((l) => !l.exportOn);
  const on = results.filter((l) => l.exportOn);
  const offMs = median(off.flatMap((l) => l.intervalsMs));
  const onMs = median(on.flatMap((l) => l.intervalsMs));
  const added = onMs - offMs;
  const perMin = (ls: Leg[]): number => Math.round((ls.reduce((n, l) => n + l.counted, 0) / ls.reduce((n, l) => n + l.elapsedMs, 0)) * 60_000);
  const onPerMin = perMin(on);
  // every write to the device (the ballot's files; index files and manifest, coalesced), per ballot
  const onBallots = on.reduce((n, l) => n + l.counted, 0);
  const deviceMsPerBallot = on.reduce((n, l) => n + l.deviceWriteMs.reduce((a, b) => a + b, 0), 0) / onBallots;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'continuous-export',
        ballotsPerConfiguration: { off: off.reduce((n, l) => n + l.counted, 0), on: on.reduce((n, l) => n + l.counted, 0) },
        distinctBallots: distinct,
        legs,
        medianMsPerSheet: { exportOff: r1(offMs), exportOn: r1(onMs) },
        medianAddedMsPerBallot: r1(added),
        budgetAddedMs: 15,
        withinAddedBudget: added <= 15,
        ballotsPerMin: { exportOff: perMin(off), exportOn: onPerMin },
        budgetBallotsPerMin: 600,
        withinThroughputBudget: onPerMin >= 600,
        exportDeviceWritesMsPerBallot: { mean: r1(deviceMsPerBallot), what: 'the CVR and scans (before "counted"), index files and manifest (after, coalesced), each written, flushed, renamed, directories flushed: a directory on the same disk as the ledger, not a USB stick' },
        machine: machine(),
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
