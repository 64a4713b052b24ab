import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DirectoryDevice } from '../../app/county-export/export-device';
import { ExportFolder, NotEnoughSpaceError } from '../../app/county-export/export-folder';
import { tempDir, testSigner } from '../ledger/fixtures';

/**
 * The export device on a real mount: a 256 KiB tmpfs stands in for a USB stick (mounting needs root, which the
 * appliance's test machine has: run as another user, this file fails at the mount and says so). A directory
 * that is not a mount point is refused when the station requires one; unmounted, the stick is "not mounted";
 * and a full one is refused before a byte of the next ballot is written, or by the kernel's ENOSPC.
 */
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
});

function mountTmpfs(kib: number): string {
  const dir = tempDir('usb-mount-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test mounts a small tmpfs as the export stick and needs root (CAP_SYS_ADMIN): ${(e as Error).message}`);
  }
  mounts.push(dir);
  return dir;
}

const id = { stationId: 'station-9', stationNumber: 9, publicKey: Buffer.from(testSigner(9).publicKey).toString('hex'), election: 'e'.repeat(64), mode: 'official' as const };
const leaf = (i: number): string => crypto.createHash('sha256').update(`ballot ${i}`).digest('hex');

describe('the export device on a real mount', () => {
  it('a mount point passes the check; the same directory unmounted is "not mounted", not the station disk', () => {
    const dir = mountTmpfs(256);
    const device = new DirectoryDevice(dir, { mustBeMountPoint: true });
    expect(device.check()).toBeNull();
    execFileSync('umount', [dir]);
    mounts.splice(mounts.indexOf(dir), 1);
    expect(device.check()).toEqual({ kind: 'missing', message: `nothing is mounted at ${dir} (the export device is not plugged in or not mounted)` });
    // a plain directory is accepted only when the settings say so (demos)
    expect(new DirectoryDevice(dir, { mustBeMountPoint: false }).check()).toBeNull();
    fs.rmSync(dir, { recursive: true });
    expect(device.check()).toEqual({ kind: 'missing', message: `the export device ${dir} is not there (ENOENT)` });
  });

  it('full: the next ballot is refused before a byte of it is written; the folder lists exactly what is on the stick', () => {
    const dir = mountTmpfs(256);
    const device = new DirectoryDevice(dir, { mustBeMountPoint: true });
    const folder = ExportFolder.open(device, id, testSigner(9), Buffer.from('{"report":true}\n'));
    const cvr = Buffer.alloc(20_000, 0x61);
    let written = 0;
    let refusal: unknown;
    for (let i = 1; i < 100 && refusal === undefined; i++) {
      try {
        folder.add([{ leaf: leaf(i), files: [{ name: `cvr/${leaf(i)}.json`, data: cvr }] }]);
        written += 1;
      } catch (e) {
        refusal = e;
      }
    }
    expect(refusal).toBeInstanceOf(NotEnoughSpaceError);
    expect((refusal as Error).message).toMatch(new RegExp(`^the export device ${dir} has \\d+ bytes free, the next write needs \\d+$`));
    expect(written).toBeGreaterThan(3);
    expect(folder.ballots).toBe(written);
    // no temporary file left behind, every listed CVR there
    const files = fs.readdirSync(path.join(dir, 'tallyproof-station-9-official', 'cvr'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(written);
  });

  it("ENOSPC from the kernel (another program filled the stick): the write fails with the system's code and leaves no temporary file", () => {
    const dir = mountTmpfs(256);
    const device = new DirectoryDevice(dir, { mustBeMountPoint: true });
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(240 * 1024));
    let code: string | undefined;
    try {
      device.writeFiles([{ name: 'tallyproof-station-9-official/cvr/x.json', data: Buffer.alloc(64 * 1024) }]);
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code;
    }
    expect(code).toBe('ENOSPC');
    expect(fs.readdirSync(path.join(dir, 'tallyproof-station-9-official', 'cvr'))).toEqual([]);
  });
});
