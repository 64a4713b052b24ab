import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SCAN_BYTES } from '../../ballots/read/limits';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { FolderScannerDriver } from '../../firmware-bridge/folder/folder-driver';
import { SaneScannerDriver } from '../../firmware-bridge/sane/sane-driver';

/** Drivers read scan files only if they are regular files within the reader's byte limit, and say why not. */
const pgm = Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 1, 2, 3])]);

function folder(dir: string) {
  const d = new FolderScannerDriver({ dir });
  const events: ScannerEvent[] = [];
  d.on((e) => events.push(e));
  return { d, events };
}

describe('scan files the drivers refuse', () => {
  it('folder driver: a FIFO, a directory and /dev/zero behind a link are each reported once and never read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-in-'));
    execFileSync('mkfifo', [join(dir, 'a-pipe.png')]);
    mkdirSync(join(dir, 'b-dir.png'));
    symlinkSync('/dev/zero', join(dir, 'c-zero.tiff'));
    writeFileSync(join(dir, 'd-real.pgm'), pgm);
    const { d, events } = folder(dir);
    expect((await d.connect()).ok).toBe(true);
    for (let i = 0; i < 4; i += 1) await d.scan();
    expect(events.filter((e) => e.type === 'hardware-error')).toEqual([
      { type: 'hardware-error', code: 'not-a-file', message: 'a-pipe.png is a named pipe (FIFO), not a scan file' },
      { type: 'hardware-error', code: 'not-a-file', message: 'b-dir.png is a directory, not a scan file' },
      { type: 'hardware-error', code: 'not-a-file', message: 'c-zero.tiff is a character device, not a scan file' },
    ]);
    // the real scan beside them is taken as usual
    expect(events.filter((e) => e.type === 'sheet-scanned')).toHaveLength(1);
    await d.close();
  });

  it('folder driver: the default byte limit is the reader’s own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-in-'));
    writeFileSync(join(dir, 'huge.pgm'), 'P5\n8000 8000\n255\n');
    truncateSync(join(dir, 'huge.pgm'), MAX_SCAN_BYTES + 1); // sparse: no disk used
    const { d, events } = folder(dir);
    await d.connect();
    for (let i = 0; i < 3; i += 1) await d.scan();
    expect(events).toEqual([{ type: 'hardware-error', code: 'file-too-large', message: `huge.pgm is ${MAX_SCAN_BYTES + 1} bytes, larger than any scan` }]);
    await d.close();
  });

  it('folder driver: a scan taken before a restart and replaced by a FIFO is flagged lost, not waited on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-in-'));
    writeFileSync(join(dir, '001.pgm'), pgm);
    const first = folder(dir);
    await first.d.connect();
    await first.d.scan();
    await first.d.scan();
    const taken = first.events.find((e) => e.type === 'sheet-scanned');
    expect(taken).toBeDefined();
    await first.d.close(); // taken, never decided
    rmSync(join(dir, '001.pgm'));
    execFileSync('mkfifo', [join(dir, '001.pgm')]);
    const logs: string[] = [];
    const second = new FolderScannerDriver({ dir, log: (m) => logs.push(m) });
    const events: ScannerEvent[] = [];
    second.on((e) => events.push(e));
    expect((await second.connect()).ok).toBe(true);
    expect(events.filter((e) => e.type === 'sheet-scanned')).toEqual([]);
    expect(events).toContainEqual({ type: 'sheet-done', sheetId: taken?.type === 'sheet-scanned' ? taken.sheetId : '', outcome: { kind: 'flagged', reason: 'lost-track', stage: 'held' } });
    expect(logs).toContain('001.pgm: it is a named pipe (FIFO), not a scan file');
    await second.close();
  });

  it('SANE driver: a page scanimage names that is a FIFO or /dev/zero is reported, not read; a real page still comes through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-sane-in-'));
    execFileSync('mkfifo', [join(dir, 'p1.png')]);
    symlinkSync('/dev/zero', join(dir, 'p2.png'));
    writeFileSync(join(dir, 'p3.pnm.tmp'), pgm);
    renameSync(join(dir, 'p3.pnm.tmp'), join(dir, 'p3.png'));
    writeFileSync(join(dir, 'pages.txt'), ['p1.png', 'p2.png', 'p3.png'].map((p) => join(dir, p)).join('\n') + '\n');
    // a stand-in for scanimage: prints the page files as --batch-print does, then ends the batch
    const fake = join(dir, 'scanimage');
    writeFileSync(fake, '#!/bin/sh\ncat "$TP_PAGES"\nexit 0\n');
    chmodSync(fake, 0o755);
    const d = new SaneScannerDriver({ device: 'fake:0', scanimage: fake, env: { TP_PAGES: join(dir, 'pages.txt') }, workDir: dir, pageTimeoutMs: 30_000 });
    const events: ScannerEvent[] = [];
    d.on((e) => events.push(e));
    await expect(d.scan()).resolves.toEqual({ ok: true, value: undefined });
    expect(events.filter((e) => e.type === 'hardware-error')).toEqual([
      { type: 'hardware-error', code: 'unreadable-page', message: `scanimage named ${join(dir, 'p1.png')} but it cannot be read: it is a named pipe (FIFO), not a scan file` },
      { type: 'hardware-error', code: 'unreadable-page', message: `scanimage named ${join(dir, 'p2.png')} but it cannot be read: it is a character device (a symbolic link to /dev/zero), not a scan file` },
    ]);
    const sheets = events.filter((e) => e.type === 'sheet-scanned');
    expect(sheets).toHaveLength(1);
    expect(sheets[0]?.type === 'sheet-scanned' && Buffer.from(sheets[0].front.bytes).equals(pgm)).toBe(true);
    await d.close();
  });
});
