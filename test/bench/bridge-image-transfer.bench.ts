/**
 * Image transfer throughput over the socat pty: a large scan (PNG bytes) pulled with CHUNK_REQUESTs, for a few
 * request windows. Baseline in the same run: the same number of bytes written raw through a socat pty.
 *   node scripts/run-ts.js test/bench/bridge-image-transfer.bench.ts [--mb 2] [--sheets 10]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { systemClock } from '../../firmware-bridge/clock';
import { SerialScannerDriver } from '../../firmware-bridge/serial/serial-driver';
import { deckSource, type DeckSheet } from '../../firmware-bridge/simulator/deck';
import { FirmwareSimulator } from '../../firmware-bridge/simulator/firmware-simulator';
import { attachSimulatorToPort, startPtyPair } from '../../firmware-bridge/simulator/pty';
import { rawPtyThroughput } from '../../firmware-bridge/simulator/pty-throughput';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function measure(sheet: DeckSheet, sheets: number, window: number): Promise<{ MBps: number; msPerImage: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-img-'));
  const pty = await startPtyPair(dir);
  const sim = new FirmwareSimulator({ source: deckSource([sheet], sheets), clock: systemClock, autoFeed: true });
  const end = attachSimulatorToPort(sim, pty.devicePath);
  const driver = new SerialScannerDriver({ path: pty.hostPath, chunkWindow: window });
  const started = new Map<string, bigint>();
  let total = 0n;
  let n = 0;
  const done = new Promise<void>((resolve) => {
    driver.on((e) => {
      if (e.type === 'sheet-inserted') started.set(e.sheetId, process.hrtime.bigint());
      if (e.type === 'sheet-scanned') {
        total += process.hrtime.bigint() - (started.get(e.sheetId) ?? 0n);
        void driver.accept(e.sheetId);
      }
      if (e.type === 'sheet-done') {
        n += 1;
        if (n === sheets) resolve();
      }
    });
  });
  const c = await driver.connect();
  if (!c.ok) throw new Error(JSON.stringify(c.error));
  await driver.enableFeeding();
  await done;
  await driver.close();
  sim.shutdown();
  await end.close();
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
  const seconds = Number(total) / 1e9;
  return { MBps: Math.round((sheet.front.bytes.length * sheets) / seconds / 1e4) / 100, msPerImage: Math.round((seconds / sheets) * 1e4) / 10 };
}

async function main(): Promise<void> {
  const mb = arg('mb', 2);
  const sheets = arg('sheets', 10);
  // Noise compresses badly, so the PNG is about as large as the pixels: a worst-case scan.
  const side = Math.round(Math.sqrt(mb * 1e6));
  const noise = randomBytes(side * side);
  const png = await sharp(noise, { raw: { width: side, height: side, channels: 1 } }).png({ compressionLevel: 1 }).toBuffer();
  const sheet: DeckSheet = { name: 'noise.png', front: { format: 'png', bytes: png } };
  const byWindow: Record<string, { MBps: number; msPerImage: number }> = {};
  for (const w of [1, 4, 8]) {
    await measure(sheet, 2, w); // warm-up
    byWindow[`window${w}`] = await measure(sheet, sheets, w);
  }
  const raw = await rawPtyThroughput(png.length * sheets);
  const best = Math.max(...Object.values(byWindow).map((x) => x.MBps));
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'bridge-image-transfer',
        imageBytes: png.length,
        images: sheets,
        chunkBytes: 8192,
        byWindow,
        baseline: { what: 'same bytes raw through a socat pty, no protocol', MBps: Math.round(raw.bytesPerSecond / 1e4) / 100 },
        ratioToBaseline: Math.round((best / (raw.bytesPerSecond / 1e6)) * 100) / 100,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version },
      },
      null,
      2,
    )}\n`,
  );
}

void main();
