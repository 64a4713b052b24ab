import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FIXED_FILE_TIME, IMAGE_KEY_INFO, ImageStore, ImageStoreError } from '../../app/ledger/image-store';
import type { ImageStoreErrorKind } from '../../app/ledger/image-store';
import { loadOrCreateStationKey } from '../../app/ledger/station-key';
import { tempDir } from './fixtures';

const CHEAP = { N: 1 << 10, r: 8, p: 1 };
const key = (seed: number): Uint8Array => crypto.createHash('sha256').update(`key ${seed}`).digest();
const scan = (n: number): Uint8Array => new Uint8Array(Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n'), Buffer.from(`scanned side number ${n} `.repeat(200))]));
const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

function refusal(r: ReturnType<ImageStore['get']>): ImageStoreErrorKind {
  if (r.ok) throw new Error('the store read a file it should have refused');
  expect(r.error).toBeInstanceOf(ImageStoreError);
  return r.error.kind;
}

describe('the image store: scans encrypted at rest', () => {
  it('round-trips a side with its disposition, in a 0600 file named by its image ID, mtime fixed, no plaintext on disk', () => {
    const store = ImageStore.open(path.join(tempDir(), 'images'), key(1));
    const bytes = scan(1);
    const put = store.put(bytes, { disposition: 'recorded', mode: 'official', side: 1, sides: 2 });
    expect(put.imageId).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from(put.sha256).toString('hex')).toBe(sha(bytes));
    expect(put.path).toBe(path.join(store.dir, put.imageId));
    expect(store.pathOf(put.imageId)).toBe(put.path);
    const got = store.get(put.imageId, put.sha256);
    expect(got.ok && Buffer.from(got.value.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(got.ok && got.value.meta).toEqual({ disposition: 'recorded', mode: 'official', side: 1, sides: 2 });
    const st = fs.statSync(put.path);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.mtimeMs).toBe(FIXED_FILE_TIME.getTime());
    const onDisk = fs.readFileSync(put.path);
    expect(onDisk.includes(Buffer.from('scanned side number'))).toBe(false);
    expect(onDisk.includes(Buffer.from('PNG'))).toBe(false);
    expect(onDisk.includes(Buffer.from('recorded'))).toBe(false);
  });

  it('flags returned and rejected sheets in the encrypted metadata, and re-flags a sheet under the same ID', () => {
    const store = ImageStore.open(path.join(tempDir(), 'images'), key(1));
    const r = store.put(scan(2), { disposition: 'returned', mode: 'test', side: 1, sides: 1 });
    const j = store.put(scan(3), { disposition: 'recorded', mode: 'official', side: 1, sides: 1 });
    store.replace(j.imageId, scan(3), { disposition: 'rejected', mode: 'official', side: 1, sides: 1 });
    const rr = store.get(r.imageId);
    const jj = store.get(j.imageId);
    expect(rr.ok && rr.value.meta.disposition).toBe('returned');
    expect(rr.ok && rr.value.meta.mode).toBe('test');
    expect(jj.ok && jj.value.meta.disposition).toBe('rejected');
    expect(store.list().sort()).toEqual([r.imageId, j.imageId].sort());
    expect(fs.readdirSync(store.dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a wrong key, a swapped file, an altered byte, a truncated file, a missing file and a wrong digest, each by name', () => {
    const dir = path.join(tempDir(), 'images');
    const store = ImageStore.open(dir, key(1));
    const a = store.put(scan(4), { disposition: 'recorded', mode: 'official', side: 1, sides: 1 });
    const b = store.put(scan(5), { disposition: 'rejected', mode: 'official', side: 1, sides: 1 });
    const pristine = fs.readFileSync(a.path);

    expect(refusal(ImageStore.open(dir, key(2)).get(a.imageId))).toBe('wrong-key');

    // a rejected sheet's file put in place of a cast ballot's
    fs.copyFileSync(b.path, a.path);
    expect(refusal(store.get(a.imageId))).toBe('swapped');
    // ... with the image ID in its header rewritten to match: the tag over the header catches it
    const forged = fs.readFileSync(b.path);
    Buffer.from(a.imageId, 'hex').copy(forged, 5 + 1 + 8);
    fs.writeFileSync(a.path, forged);
    expect(refusal(store.get(a.imageId))).toBe('altered');

    for (const at of [pristine.length - 5, pristine.length - 20, 5 + 1 + 8 + 16 + 3, 60]) {
      const altered = Buffer.from(pristine);
      altered[at] = (altered[at] as number) ^ 0x01;
      fs.writeFileSync(a.path, altered);
      expect(refusal(store.get(a.imageId))).toBe('altered');
    }
    fs.writeFileSync(a.path, pristine.subarray(0, pristine.length - 100));
    expect(refusal(store.get(a.imageId))).toBe('truncated');
    fs.writeFileSync(a.path, pristine.subarray(0, 20));
    expect(refusal(store.get(a.imageId))).toBe('truncated');
    fs.writeFileSync(a.path, Buffer.concat([pristine, Buffer.from([0])]));
    expect(refusal(store.get(a.imageId))).toBe('not-an-image-file');
    fs.writeFileSync(a.path, Buffer.from('not an image'));
    expect(refusal(store.get(a.imageId))).toBe('not-an-image-file');

    fs.writeFileSync(a.path, pristine);
    expect(store.get(a.imageId, a.sha256).ok).toBe(true);
    expect(refusal(store.get(a.imageId, b.sha256))).toBe('digest-mismatch');

    fs.rmSync(a.path);
    const missing = store.get(a.imageId);
    expect(refusal(missing)).toBe('missing');
    expect(!missing.ok && missing.error.message).toContain(a.imageId);
    expect(refusal(store.get('../../etc/passwd'))).toBe('bad-id');
  });

  it('gives no casting order: random names, one fixed mtime, a listing sorted by ID', () => {
    const store = ImageStore.open(path.join(tempDir(), 'images'), key(1));
    const written = Array.from({ length: 30 }, (_, i) => store.put(scan(i), { disposition: 'recorded', mode: 'official', side: 1, sides: 1 }).imageId);
    store.flushDirectory();
    const listed = store.list();
    expect(new Set(listed)).toEqual(new Set(written));
    expect(listed).toEqual([...written].sort());
    // 30 random IDs sorted in writing order by chance: 1 in 30!
    expect(listed).not.toEqual(written);
    const times = new Set(listed.map((id) => fs.statSync(store.pathOf(id)).mtimeMs));
    expect([...times]).toEqual([FIXED_FILE_TIME.getTime()]);
  });

  it('derives its key from the station key: the same after unlocking again, another for another station or purpose', () => {
    const dir = tempDir();
    const file = path.join(dir, 'keys', 'station.json');
    const k1 = loadOrCreateStationKey(file, 'station-7', 'correct horse battery', CHEAP);
    const again = loadOrCreateStationKey(file, 'station-7', 'correct horse battery', CHEAP);
    const other = loadOrCreateStationKey(path.join(dir, 'other', 'station.json'), 'station-7', 'correct horse battery', CHEAP);
    const imageKey = k1.deriveKey(IMAGE_KEY_INFO);
    expect(imageKey.length).toBe(32);
    expect(Buffer.from(again.deriveKey(IMAGE_KEY_INFO)).equals(Buffer.from(imageKey))).toBe(true);
    expect(Buffer.from(other.deriveKey(IMAGE_KEY_INFO)).equals(Buffer.from(imageKey))).toBe(false);
    expect(Buffer.from(k1.deriveKey('another purpose')).equals(Buffer.from(imageKey))).toBe(false);
    const store = ImageStore.open(path.join(dir, 'images'), imageKey);
    const put = store.put(scan(9), { disposition: 'recorded', mode: 'official', side: 1, sides: 1 });
    expect(ImageStore.open(path.join(dir, 'images'), again.deriveKey(IMAGE_KEY_INFO)).get(put.imageId, put.sha256).ok).toBe(true);
    expect(refusal(ImageStore.open(path.join(dir, 'images'), other.deriveKey(IMAGE_KEY_INFO)).get(put.imageId))).toBe('wrong-key');
  });
});
