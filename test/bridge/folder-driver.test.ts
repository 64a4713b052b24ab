import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { FolderScannerDriver, JOURNAL_FILE } from '../../firmware-bridge/folder/folder-driver';
import { pageImage } from './support/deck';

function fresh(dir: string, extra: { maxFileBytes?: number; pollMs?: number } = {}) {
  const d = new FolderScannerDriver({ dir, ...extra });
  const events: ScannerEvent[] = [];
  d.on((e) => events.push(e));
  return { d, events };
}

const scannedIds = (events: ScannerEvent[]): string[] => events.flatMap((e) => (e.type === 'sheet-scanned' ? [e.sheetId] : []));

let png: Buffer;
beforeAll(async () => {
  png = await pageImage(3, 'png', 340, 440);
});

describe('folder driver (central count)', () => {
  it('takes each file once its size has settled, and never twice in one run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-'));
    writeFileSync(join(dir, 'a.png'), png);
    writeFileSync(join(dir, 'notes.txt'), 'not a scan');
    writeFileSync(join(dir, '.hidden.png'), png);
    const { d, events } = fresh(dir);
    expect((await d.connect()).ok).toBe(true);
    await d.scan(); // first sight: size noted
    expect(scannedIds(events)).toHaveLength(0);
    await d.scan();
    expect(scannedIds(events)).toHaveLength(1);
    // a file still being copied grows between passes and waits
    writeFileSync(join(dir, 'b.png'), png.subarray(0, 1000));
    await d.scan();
    appendFileSync(join(dir, 'b.png'), png.subarray(1000));
    await d.scan();
    expect(scannedIds(events)).toHaveLength(1);
    await d.scan();
    await d.scan();
    const ids = scannedIds(events);
    expect(ids).toHaveLength(2);
    const b = events.find((e) => e.type === 'sheet-scanned' && e.sheetId === ids[1]);
    expect(b?.type === 'sheet-scanned' && Buffer.from(b.front.bytes).equals(png)).toBe(true);
    await d.close();
  });

  it('across a restart: decided files stay taken, undecided ones come back under the same sheet ID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-'));
    writeFileSync(join(dir, '001.png'), png);
    writeFileSync(join(dir, '002.png'), png);
    const first = fresh(dir);
    await first.d.connect();
    await first.d.scan();
    await first.d.scan();
    const [id1, id2] = scannedIds(first.events);
    expect(id1 && id2 && id1 !== id2).toBe(true);
    await expect(first.d.accept(id1 as string)).resolves.toEqual({ ok: true, value: undefined });
    await expect(first.d.accept(id1 as string)).resolves.toEqual({ ok: false, error: { kind: 'unknown-sheet', sheetId: id1 } });
    await first.d.close(); // "crash" with 002 taken but not decided

    writeFileSync(join(dir, '003.png'), png);
    const second = fresh(dir);
    await second.d.connect();
    expect(scannedIds(second.events)).toEqual([id2]);
    // the journal tells the restarted host how the decided sheet ended, as a scanner's own memory would
    const st = await second.d.status();
    expect(st.ok && st.value.recent).toEqual([{ sheetId: id1, outcome: { kind: 'box' } }]);
    await second.d.scan();
    await second.d.scan();
    const all = scannedIds(second.events);
    expect(all).toHaveLength(2);
    expect(all).not.toContain(id1);
    await second.d.returnSheet(id2 as string);
    await second.d.close();

    const third = fresh(dir);
    await third.d.connect();
    const st3 = await third.d.status();
    expect(st3.ok && st3.value.recent.map((r) => r.sheetId)).toEqual([id1, id2]);
    await third.d.scan();
    await third.d.scan();
    expect(scannedIds(third.events)).toEqual([all[1]]);
    await third.d.close();
    const journal = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n');
    expect(journal.map((l) => (JSON.parse(l) as { op: string }).op)).toEqual(['taken', 'taken', 'done', 'taken', 'done']);
  });

  it('ignores a torn last journal line but refuses a damaged one in the middle, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-'));
    writeFileSync(join(dir, 'x.png'), png);
    const a = fresh(dir);
    await a.d.connect();
    await a.d.scan();
    await a.d.scan();
    await a.d.close();
    appendFileSync(join(dir, JOURNAL_FILE), '{"op":"done","sheetId":"fol');
    const b = fresh(dir);
    expect((await b.d.connect()).ok).toBe(true);
    expect(scannedIds(b.events)).toEqual(scannedIds(a.events));
    await b.d.returnSheet(scannedIds(b.events)[0] as string);
    await b.d.close();
    // the torn line was cut off before the new entry, so the journal reads cleanly afterwards
    const b2 = fresh(dir);
    expect((await b2.d.connect()).ok).toBe(true);
    expect(scannedIds(b2.events)).toEqual([]);
    await b2.d.close();
    writeFileSync(join(dir, JOURNAL_FILE), `{"op":"taken"}\n${readFileSync(join(dir, JOURNAL_FILE), 'utf8')}`);
    const c = fresh(dir);
    const r = await c.d.connect();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind === 'io' && r.error.detail).toMatch(/line 1: file: /);
  });

  it('reports an oversized file once instead of reading it, and a missing directory clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-'));
    writeFileSync(join(dir, 'huge.tiff'), Buffer.alloc(5000, 1));
    const { d, events } = fresh(dir, { maxFileBytes: 4096 });
    await d.connect();
    for (let i = 0; i < 4; i += 1) await d.scan();
    expect(events).toEqual([{ type: 'hardware-error', code: 'file-too-large', message: 'huge.tiff is 5000 bytes, larger than any scan' }]);
    await d.close();
    const missing = await fresh(join(dir, 'nope')).d.connect();
    expect(!missing.ok && missing.error.kind === 'io' && missing.error.detail).toContain('nope');
  });

  it('picks up files dropped while feeding is enabled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-'));
    const { d, events } = fresh(dir, { pollMs: 10 });
    await d.connect();
    await d.enableFeeding();
    const seen = new Promise<void>((res) => d.on((e) => e.type === 'sheet-scanned' && res()));
    writeFileSync(join(dir, 'late.pgm'), Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 1, 2, 3])]));
    await seen;
    const s = events.find((e) => e.type === 'sheet-scanned');
    expect(s?.type === 'sheet-scanned' && s.front.format).toBe('pnm');
    await d.close();
  });
});
