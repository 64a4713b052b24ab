import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openScanner, parseScannerConfig } from '../../firmware-bridge/config';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { SerialScannerDriver } from '../../firmware-bridge/serial/serial-driver';
import { makeDeck } from './support/deck';

const root = join(__dirname, '../..');

function firstSheetDone(driver: { on(l: (e: ScannerEvent) => void): () => void; accept(id: string): Promise<unknown> }): Promise<ScannerEvent> {
  return new Promise((resolve) => {
    driver.on((e) => {
      if (e.type === 'sheet-scanned') void driver.accept(e.sheetId);
      if (e.type === 'sheet-done') resolve(e);
    });
  });
}

describe('simulator entry points', () => {
  it('main.ts runs as a process, prints the pty path, serves a driver, and cleans up on SIGTERM', async () => {
    const { dir } = await makeDeck(1, { small: true });
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), join(root, 'firmware-bridge/simulator/main.ts'), '--deck', dir, '--timings', 'zero'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const ready = JSON.parse(line) as { ready: boolean; path: string };
    expect(ready.ready).toBe(true);
    const driver = new SerialScannerDriver({ path: ready.path });
    const done = firstSheetDone(driver);
    expect((await driver.connect()).ok).toBe(true);
    await driver.enableFeeding();
    await expect(done).resolves.toMatchObject({ type: 'sheet-done', outcome: { kind: 'box' } });
    await driver.close();
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await expect(exit).resolves.toBe(0);
    expect(existsSync(ready.path)).toBe(false);
  });

  it('main.ts explains a missing deck argument', async () => {
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), join(root, 'firmware-bridge/simulator/main.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('usage: main.ts --deck DIR');
  });

  it('a "simulated" scanner configuration opens a serial driver on a fresh pty', async () => {
    const { dir } = await makeDeck(1, { small: true });
    const config = parseScannerConfig({ kind: 'simulated', deckDir: dir, timings: 'zero' });
    if (!config.ok) throw new Error(config.error);
    const scanner = await openScanner(config.value);
    const done = firstSheetDone(scanner.driver);
    expect((await scanner.driver.connect()).ok).toBe(true);
    await scanner.driver.enableFeeding();
    await expect(done).resolves.toMatchObject({ type: 'sheet-done', outcome: { kind: 'box' } });
    await scanner.close();
  });

  it('rejects a bad scanner configuration with the path of each problem', () => {
    expect(parseScannerConfig({ kind: 'sane' })).toEqual({ ok: false, error: 'device: Invalid input: expected string, received undefined' });
    expect(parseScannerConfig({ kind: 'serial', path: '' }).ok).toBe(false);
    expect(parseScannerConfig({ kind: 'usb' }).ok).toBe(false);
  });
});
