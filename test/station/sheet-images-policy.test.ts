import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ContestResult } from '../../ballots/election';
import type { SheetReading } from '../../ballots/read/sheet';
import type { ImageDisposition } from '../../app/ledger/image-store';
import { ImageStore } from '../../app/ledger/image-store';
import type { ImageRetention } from '../../app/station/sheet-images';
import { IMAGE_RETENTIONS, SheetImages, keepsImages } from '../../app/station/sheet-images';
import { tempDir } from '../ledger/fixtures';

const contest = (over: Partial<ContestResult>): ContestResult => ({ selections: [], overvote: false, undervote: 1, marginal: [], blank: true, writeIn: false, ...over });
const sheet = (contests: Record<string, ContestResult>): SheetReading => ({ status: 'accepted', reasons: [], contests, marks: [] });
const PLAIN = sheet({ mayor: contest({ selections: ['ada'], undervote: 0, blank: false }) });
const MARGINAL = sheet({ mayor: contest({ marginal: ['grace'], blank: false }) });
const WRITE_IN = sheet({ mayor: contest({ selections: ['write-in-1'], undervote: 0, blank: false, writeIn: true }) });
const side = (n: number): Uint8Array => new Uint8Array(Buffer.from(`side ${n} `.repeat(50)));

function fixture(retention: ImageRetention): { images: SheetImages; store: ImageStore; logged: string[] } {
  const store = ImageStore.open(path.join(tempDir(), 'images'), crypto.randomBytes(32));
  const logged: string[] = [];
  return { images: new SheetImages(() => store, retention, (m) => logged.push(m)), store, logged };
}

describe('the retention setting, sheet by sheet', () => {
  it('keeps what each setting says, for each disposition', () => {
    const table = IMAGE_RETENTIONS.map((r) => [
      r,
      (['recorded', 'returned', 'rejected'] as ImageDisposition[]).map((d) => [d, keepsImages(r, d, PLAIN), keepsImages(r, d, MARGINAL), keepsImages(r, d, WRITE_IN)]),
    ]);
    expect(table).toEqual([
      ['all', [['recorded', true, true, true], ['returned', true, true, true], ['rejected', true, true, true]]],
      ['adjudication', [['recorded', false, true, true], ['returned', false, false, false], ['rejected', false, false, false]]],
      ['none', [['recorded', false, false, false], ['returned', false, false, false], ['rejected', false, false, false]]],
    ]);
  });

  it('a recorded sheet\'s sides are on disk, flushed, before forRecording returns; not kept ones are hashed under fresh IDs', () => {
    const { images, store } = fixture('adjudication');
    const kept = images.forRecording('official', [side(1), side(2)], MARGINAL);
    expect(kept.map((s) => s.kept)).toEqual([true, true]);
    for (const [i, s] of kept.entries()) {
      const r = store.get(s.imageId, s.sha256);
      expect(r.ok && r.value.meta).toEqual({ disposition: 'recorded', mode: 'official', side: i + 1, sides: 2 });
    }
    const hashed = images.forRecording('official', [side(3)], PLAIN);
    expect(hashed).toEqual([{ imageId: expect.stringMatching(/^[0-9a-f]{32}$/), sha256: new Uint8Array(crypto.createHash('sha256').update(side(3)).digest()), kept: false }]);
    expect(store.list().sort()).toEqual(kept.map((s) => s.imageId).sort());
  });

  it('a refused pending entry re-flags the sides rejected under "all", and removes them where rejected sheets are not kept', () => {
    const all = fixture('all');
    const a = all.images.forRecording('test', [side(4)], PLAIN);
    all.images.recordingRefused('test', [side(4)], a);
    const r = all.store.get(a[0]?.imageId ?? '');
    expect(r.ok && r.value.meta.disposition).toBe('rejected');
    expect(r.ok && r.value.meta.mode).toBe('test');

    const adj = fixture('adjudication');
    const b = adj.images.forRecording('official', [side(5)], WRITE_IN);
    expect(adj.store.list()).toHaveLength(1);
    adj.images.recordingRefused('official', [side(5)], b);
    expect(adj.store.list()).toEqual([]);
  });

  it('a returned or rejected sheet whose scan cannot be written is logged, never thrown in the voter\'s way; a recorded one throws', () => {
    const { images, store, logged } = fixture('all');
    fs.rmSync(store.dir, { recursive: true });
    fs.writeFileSync(store.dir, 'not a directory');
    expect(() => images.givenBack('official', [side(6)], 'returned')).not.toThrow();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("could not keep a returned or rejected sheet's scan");
    expect(() => images.forRecording('official', [side(7)], PLAIN)).toThrow();
  });
});
