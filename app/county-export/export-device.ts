import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../../lib/durable-fs';
import { FIXED_MTIME } from './export-format';

/**
 * The export device (a USB stick's mount point) behind one small interface, so the station's continuous export
 * and its tests see the same calls: a test puts a layer in front that fails with ENOSPC, which a real full
 * stick gives but a test cannot make without root (a tiny tmpfs needs mount).
 */
export type DeviceProblemKind = 'missing' | 'full';

export interface DeviceProblem {
  readonly kind: DeviceProblemKind;
  /** the poll worker's and the log's sentence: what is wrong, with the path */
  readonly message: string;
}

export interface FileToWrite {
  /** path under the device's root, `/`-separated */
  readonly name: string;
  readonly data: Uint8Array;
}

export interface ExportDevice {
  readonly root: string;
  /** null when the device is there and writable */
  check(): DeviceProblem | null;
  /** bytes free for this process on the device, if the system says */
  freeBytes(): number | undefined;
  /** a file's bytes, undefined when it does not exist */
  readFile(name: string): Buffer | undefined;
  /** the names in a directory (none when it does not exist) */
  listDir(name: string): string[];
  /**
   * Writes the files in order, each to a temporary sibling with the fixed mtime, flushed, then renamed into
   * place; each directory touched is flushed once at the end. Throws the system's error (ENOSPC, EROFS, EIO…).
   */
  writeFiles(files: readonly FileToWrite[]): void;
  removeFile(name: string): void;
}

/** What a failed write says about the device. */
export function problemOf(root: string, e: unknown): DeviceProblem {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return { kind: 'full', message: `the export device ${root} is full (${code})` };
  return { kind: 'missing', message: `cannot write to the export device ${root}: ${code ?? (e as Error).message}` };
}

export interface DirectoryDeviceOptions {
  /**
   * the directory must be a mount point (its device differs from its parent's): a USB stick that is not
   * mounted leaves an empty directory on the station's own disk, which must not quietly take the export
   */
  readonly mustBeMountPoint: boolean;
}

/** The real device: a directory, normally a mount point. */
export class DirectoryDevice implements ExportDevice {
  constructor(
    readonly root: string,
    private readonly opts: DirectoryDeviceOptions,
  ) {}

  check(): DeviceProblem | null {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { kind: 'missing', message: `the export device ${this.root} is not there (${code ?? 'unknown'})` };
    }
    if (!st.isDirectory()) return { kind: 'missing', message: `the export device ${this.root} is not a directory` };
    if (this.opts.mustBeMountPoint) {
      const parent = path.dirname(this.root);
      try {
        if (parent !== this.root && fs.statSync(parent).dev === st.dev) return { kind: 'missing', message: `nothing is mounted at ${this.root} (the export device is not plugged in or not mounted)` };
      } catch (e) {
        return { kind: 'missing', message: `cannot check the mount at ${this.root}: ${(e as Error).message}` };
      }
    }
    try {
      fs.accessSync(this.root, fs.constants.W_OK);
    } catch {
      return { kind: 'missing', message: `the export device ${this.root} is not writable (read-only or write-protected?)` };
    }
    return null;
  }

  freeBytes(): number | undefined {
    try {
      const s = fs.statfsSync(this.root);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }

  private at(name: string): string {
    return path.join(this.root, ...name.split('/'));
  }

  readFile(name: string): Buffer | undefined {
    try {
      return fs.readFileSync(this.at(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  listDir(name: string): string[] {
    try {
      return fs.readdirSync(this.at(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  writeFiles(files: readonly FileToWrite[]): void {
    const dirs = new Set<string>();
    for (const f of files) {
      const file = this.at(f.name);
      const dir = path.dirname(file);
      if (!dirs.has(dir)) this.makeDirs(f.name);
      dirs.add(dir);
      // not replaceFileAtomically: the mtime is fixed on the open file, before it is flushed and renamed
      const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
      try {
        const fd = fs.openSync(tmp, 'w', 0o644);
        try {
          let off = 0;
          while (off < f.data.length) off += fs.writeSync(fd, f.data, off);
          fs.futimesSync(fd, FIXED_MTIME, FIXED_MTIME);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
      } catch (e) {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // the device may be gone: the first error is the one reported
        }
        throw e;
      }
    }
    for (const d of dirs) fsyncDir(d);
  }

  /**
   * The folders between the root and the file, one level at a time: never the root itself, which a recursive
   * mkdir would quietly make again on the station's own disk after the stick was pulled out.
   */
  private makeDirs(name: string): void {
    const parts = name.split('/').slice(0, -1);
    let dir = this.root;
    for (const p of parts) {
      dir = path.join(dir, p);
      try {
        fs.mkdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  removeFile(name: string): void {
    fs.rmSync(this.at(name), { force: true });
  }
}
