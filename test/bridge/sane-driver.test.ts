import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { SaneScannerDriver, type SaneDriverOptions } from '../../firmware-bridge/sane/sane-driver';
import { conditionFromExit, conditionFromLine } from '../../firmware-bridge/sane/sane-errors';
import { pageImage } from './support/deck';

// A private SANE configuration with only the pnm and test backends: no real scanner is probed.
let dir: string;
let pgm: string;
const env = (): NodeJS.ProcessEnv => ({ SANE_CONFIG_DIR: dir, SANE_DEFAULT_DEVICE: '' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tp-sane-'));
  writeFileSync(join(dir, 'dll.conf'), 'pnm\ntest\n');
  // The pnm backend reads binary PGM (P5); convert one of our pages.
  const { data, info } = await sharp(await pageImage(1, 'png', 850, 1100)).grayscale().raw().toBuffer({ resolveWithObject: true });
  pgm = join(dir, 'ballot.pgm');
  writeFileSync(pgm, Buffer.concat([Buffer.from(`P5\n${info.width} ${info.height}\n255\n`), data]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function driver(opts: Partial<SaneDriverOptions> & { device: string }): { d: SaneScannerDriver; events: ScannerEvent[] } {
  const d = new SaneScannerDriver({ env: env(), pageTimeoutMs: 30_000, ...opts });
  const events: ScannerEvent[] = [];
  d.on((e) => events.push(e));
  return { d, events };
}

const pnm = (...status: string[]): Partial<SaneDriverOptions> & { device: string } => ({ device: 'pnm:0', deviceArgs: [`--filename=${pgm}`, ...status] });

describe('SANE driver (scanimage)', () => {
  it('says it cannot hold or divert paper: accept and return are poll-worker actions', () => {
    const { d } = driver({ device: 'pnm:0' });
    expect(d.capabilities).toMatchObject({ canHold: false, canDivert: false, canCalibrate: false });
  });

  it('finds the pnm device and refuses an unknown one by name', async () => {
    const ok = await driver({ device: 'pnm:0' }).d.connect();
    expect(ok.ok && ok.value).toMatchObject({ driver: 'sane', serial: 'pnm:0' });
    const missing = await driver({ device: 'nosuch:0' }).d.connect();
    expect(missing).toEqual({ ok: false, error: { kind: 'io', detail: 'SANE does not list the device nosuch:0' } });
    const noBinary = await driver({ device: 'pnm:0', scanimage: '/nonexistent/scanimage' }).d.connect();
    expect(!noBinary.ok && noBinary.error.kind === 'io' && noBinary.error.detail).toContain('cannot run scanimage');
  });

  it('scans a page from the pnm backend as PNG, and records the decision once', async () => {
    const { d, events } = driver(pnm());
    await expect(d.scan()).resolves.toEqual({ ok: true, value: undefined });
    const scanned = events.filter((e) => e.type === 'sheet-scanned');
    expect(scanned).toHaveLength(1);
    const s = scanned[0];
    if (s?.type !== 'sheet-scanned') throw new Error('no sheet');
    const meta = await sharp(Buffer.from(s.front.bytes)).metadata();
    expect([s.front.format, meta.format, meta.width, meta.height]).toEqual(['png', 'png', 850, 1100]);
    expect(events.map((e) => e.type)).toEqual(['sheet-inserted', 'sheet-scanned', 'feeder-empty']);
    await expect(d.accept(s.sheetId)).resolves.toEqual({ ok: true, value: undefined });
    await expect(d.accept(s.sheetId)).resolves.toEqual({ ok: false, error: { kind: 'unknown-sheet', sheetId: s.sheetId } });
    expect(events.filter((e) => e.type === 'sheet-done')).toEqual([{ type: 'sheet-done', sheetId: s.sheetId, outcome: { kind: 'box' } }]);
    await d.close();
  });

  it.each([
    ['--status-jammed=yes', { kind: 'refused', command: 'scan', reason: 'jammed' }, 'jam'],
    ['--status-coveropen=yes', { kind: 'refused', command: 'scan', reason: 'cover-open' }, 'cover-open'],
    ['--status-ioerror=yes', { kind: 'io', detail: 'scanimage: io-error' }, 'hardware-error'],
  ] as const)('maps %s onto the interface and reports no half-scanned sheet', async (flag, error, event) => {
    const { d, events } = driver(pnm(flag));
    await expect(d.scan()).resolves.toEqual({ ok: false, error });
    expect(events.map((e) => e.type)).toEqual([event]);
    await d.close();
  });

  it('treats an empty feeder as the normal end of a batch', async () => {
    const { d, events } = driver(pnm('--status-nodocs=yes'));
    await expect(d.scan()).resolves.toEqual({ ok: true, value: undefined });
    expect(events.map((e) => e.type)).toEqual(['feeder-empty']);
    await d.close();
  });

  it('streams pages from the test backend feeder while scanimage is still running', async () => {
    const { d, events } = driver({ device: 'test:0', deviceArgs: ['--source', 'Automatic Document Feeder', '--mode', 'Gray', '--resolution', '50'] });
    const pathAtFirstPage: Promise<string>[] = [];
    d.on((e) => {
      if (e.type === 'sheet-scanned' && pathAtFirstPage.length === 0) pathAtFirstPage.push(d.status().then((s) => (s.ok ? s.value.path : 'error')));
    });
    await expect(d.scan()).resolves.toEqual({ ok: true, value: undefined });
    const ids = events.filter((e) => e.type === 'sheet-scanned').map((e) => (e.type === 'sheet-scanned' ? e.sheetId : ''));
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(await Promise.all(pathAtFirstPage)).toEqual(['scanning']);
    const st = await d.status();
    expect(st.ok && st.value.openSheets).toHaveLength(10);
    await d.close();
  });

  it('pairs duplex pages into sheets with a front and a back', async () => {
    const { d, events } = driver({ device: 'test:0', duplex: true, format: 'tiff', deviceArgs: ['--source', 'Automatic Document Feeder', '--resolution', '50'] });
    await d.scan();
    const sheets = events.filter((e) => e.type === 'sheet-scanned');
    expect(sheets).toHaveLength(5);
    expect(sheets.every((e) => e.type === 'sheet-scanned' && e.back?.side === 'back' && e.front.format === 'tiff')).toBe(true);
    await d.close();
  });

  it('keeps running batches while feeding is enabled, and stops when disabled', async () => {
    const { d, events } = driver({ device: 'test:0', idlePollMs: 10, deviceArgs: ['--source', 'Automatic Document Feeder', '--resolution', '25'] });
    const twoBatches = new Promise<void>((resolve) => d.on(() => events.filter((e) => e.type === 'feeder-empty').length >= 2 && resolve()));
    await expect(d.enableFeeding()).resolves.toEqual({ ok: true, value: undefined });
    await twoBatches;
    await d.disableFeeding();
    const count = events.filter((e) => e.type === 'sheet-scanned').length;
    expect(count).toBeGreaterThanOrEqual(20);
    // the loop is over: a manual batch adds exactly its own ten sheets
    await d.scan();
    expect(events.filter((e) => e.type === 'sheet-scanned').length).toBe(count + 10);
    await d.close();
  });

  it('kills a batch that stops producing pages and reports a timeout', async () => {
    const { d, events } = driver({ device: 'test:0', pageTimeoutMs: 150, deviceArgs: ['--read-delay=yes', '--read-delay-duration', '200000', '--resolution', '300'] });
    await expect(d.scan()).resolves.toEqual({ ok: false, error: { kind: 'timeout', command: 'scan', ms: 150 } });
    expect(events.filter((e) => e.type === 'sheet-scanned')).toEqual([]);
    await expect(d.status()).resolves.toMatchObject({ ok: true, value: { path: 'idle' } });
    await d.close();
  });

  it('recognises scanimage messages and exit codes, including device busy', () => {
    expect(conditionFromLine('scanimage: sane_start: Device busy')).toBe('busy');
    expect(conditionFromLine('scanimage: sane_read: Document feeder jammed')).toBe('jammed');
    expect(conditionFromLine('scanimage: sane_start: Document feeder out of documents')).toBe('no-docs');
    expect(conditionFromLine('scanimage: sane_read: Scanner cover is open')).toBe('cover-open');
    expect(conditionFromLine('scanimage: open of device foo:0 failed: Invalid argument')).toBe('no-device');
    expect(conditionFromLine('Scanning page 2')).toBeUndefined();
    expect(conditionFromExit(3)).toBe('busy');
    expect(conditionFromExit(0)).toBeUndefined();
    expect(conditionFromExit(77)).toBe('io-error');
  });
});
