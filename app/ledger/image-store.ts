import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { fsyncDir } from '../../lib/durable-fs';
import { canonicalBytes } from './canonical-json';
import type { LedgerMode } from './record';
import { IMAGE_ID_BYTES, IMAGE_ID_PATTERN, newImageId } from './sheet-detail';

/**
 * The station's scanned sides, each encrypted at rest in its own file `<data>/images/<image ID>` (AES-256-GCM
 * under a key derived from the station key, StationKey.deriveKey(IMAGE_KEY_INFO)). Nobody without the station
 * key's passphrase reads an image; a file renamed to another image's ID, altered or cut short is refused with
 * what is wrong. File names are random IDs and every file's mtime is the same fixed time, so neither the
 * names nor a directory listing give casting order (limits: PRIVACY.md). Layout: README.md "Image files".
 */
export const IMAGE_KEY_INFO = 'tallyproof image store v1';

/**
 * What became of the sheet: `recorded` — its ballot went into the ledger as pending (the ledger's cast or
 * returned entry for that pending entry says the rest); `returned` — given back to the voter unrecorded (their
 * choice, or the polls stopped); `rejected` — given back unrecorded because it could not or must not be counted.
 */
export type ImageDisposition = 'recorded' | 'returned' | 'rejected';

export interface ImageMeta {
  readonly disposition: ImageDisposition;
  readonly mode: LedgerMode;
  /** 1-based place of this side in scan order */
  readonly side: number;
  /** how many sides the sheet's scan had */
  readonly sides: number;
}

export interface StoredImage {
  readonly imageId: string;
  /** SHA-256 of the scanned bytes (what the ledger's sheet detail holds), not of the encrypted file */
  readonly sha256: Uint8Array;
  /** the encrypted file */
  readonly path: string;
}

export type ImageStoreErrorKind =
  /** no file of that image ID */
  | 'missing'
  /** shorter than its header says: cut short */
  | 'truncated'
  /** not an image file of this format (wrong magic, version or trailing bytes) */
  | 'not-an-image-file'
  /** encrypted under another station key (or unlocked with the wrong passphrase) */
  | 'wrong-key'
  /** the file holds another image ID: renamed or copied over another image */
  | 'swapped'
  /** the authentication tag does not match: the header, metadata or image bytes were changed */
  | 'altered'
  /** the decrypted bytes do not have the SHA-256 the caller expected (the ledger's) */
  | 'digest-mismatch'
  | 'bad-id'
  | 'io';

export class ImageStoreError extends Error {
  override readonly name = 'ImageStoreError';
  constructor(
    readonly kind: ImageStoreErrorKind,
    readonly imageId: string,
    detail: string,
  ) {
    super(`image ${imageId}: ${detail}`);
  }
}

const MAGIC = Buffer.from('TPIMG', 'ascii');
const FORMAT_VERSION = 1;
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** magic, version, key ID, image ID, nonce, ciphertext length (u32 BE) */
const HEADER_BYTES = MAGIC.length + 1 + KEY_ID_BYTES + IMAGE_ID_BYTES + NONCE_BYTES + 4;
/** every file's access and modification time: 2000-01-01T00:00:00Z, so times say nothing of the day */
export const FIXED_FILE_TIME = new Date(Date.UTC(2000, 0, 1));
/** a scan is a few megabytes at most; 64 MB leaves room and keeps the u32 length honest */
const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

const MetaSchema = z.strictObject({
  format: z.literal('tallyproof-image/1'),
  disposition: z.enum(['recorded', 'returned', 'rejected']),
  mode: z.enum(['official', 'test']),
  side: z.number().int().min(1).max(16),
  sides: z.number().int().min(1).max(16),
});

export interface ReadImage {
  readonly bytes: Uint8Array;
  readonly meta: ImageMeta;
}

/**
 * Encrypted image files in one directory. `put` writes and flushes the file (one fsync); the directory entry
 * is flushed by `flushDirectory`, which the station calls once per recorded sheet before its pending entry is
 * written (one directory fsync covers every side of the sheet and any returned or rejected sheet's files
 * written since: those need not be durable before anything else).
 */
export class ImageStore {
  private readonly keyId: Buffer;
  private readonly key: Buffer;
  private dirDirty = false;

  private constructor(
    readonly dir: string,
    key: Uint8Array,
  ) {
    if (key.length !== 32) throw new Error('the image store key must be 32 bytes');
    this.key = Buffer.from(key);
    // names the key in every file without revealing it: a file under another station's key is told apart from an altered one
    this.keyId = crypto.createHmac('sha256', this.key).update('tallyproof image key id').digest().subarray(0, KEY_ID_BYTES);
  }

  /** Opens (creating, 0700) the directory; `key` is StationKey.deriveKey(IMAGE_KEY_INFO). */
  static open(dir: string, key: Uint8Array): ImageStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new ImageStore(dir, key);
  }

  /** The encrypted file of an image ID (which may not exist). */
  pathOf(imageId: string): string {
    if (!IMAGE_ID_PATTERN.test(imageId)) throw new ImageStoreError('bad-id', imageId, 'an image ID is 32 lowercase hex digits');
    return path.join(this.dir, imageId);
  }

  /** Encrypts and writes one side under a new random image ID. */
  put(bytes: Uint8Array, meta: ImageMeta): StoredImage {
    return this.write(newImageId(), bytes, meta, false);
  }

  /**
   * Writes the same image ID again with new metadata (a sheet first stored as `recorded` whose pending entry
   * the ledger then refused), replacing the file whole.
   */
  replace(imageId: string, bytes: Uint8Array, meta: ImageMeta): StoredImage {
    return this.write(imageId, bytes, meta, true);
  }

  /** Deletes an image's file (a sheet the retention setting does not keep after all); absent is fine. */
  removeImage(imageId: string): void {
    fs.rmSync(this.pathOf(imageId), { force: true });
    this.dirDirty = true;
  }

  /** Flushes the directory's new entries to disk, if any were made since the last flush. */
  flushDirectory(): void {
    if (!this.dirDirty) return;
    fsyncDir(this.dir);
    this.dirDirty = false;
  }

  /** Reads and decrypts an image; with `expectSha256`, also checks the decrypted bytes against it. */
  get(imageId: string, expectSha256?: Uint8Array): Result<ReadImage, ImageStoreError> {
    if (!IMAGE_ID_PATTERN.test(imageId)) return err(new ImageStoreError('bad-id', imageId, 'an image ID is 32 lowercase hex digits'));
    let file: Buffer;
    try {
      file = fs.readFileSync(path.join(this.dir, imageId));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return err(new ImageStoreError('missing', imageId, `no file ${path.join(this.dir, imageId)}`));
      return err(new ImageStoreError('io', imageId, `cannot read ${path.join(this.dir, imageId)}: ${(e as Error).message}`));
    }
    const opened = this.decrypt(imageId, file);
    if (!opened.ok) return opened;
    if (expectSha256 !== undefined) {
      const got = crypto.createHash('sha256').update(opened.value.bytes).digest();
      if (Buffer.compare(got, Buffer.from(expectSha256)) !== 0) {
        return err(new ImageStoreError('digest-mismatch', imageId, `the decrypted image has SHA-256 ${got.toString('hex')}, the ledger says ${Buffer.from(expectSha256).toString('hex')}`));
      }
    }
    return opened;
  }

  /** Image IDs in the directory, sorted by ID (random: no order of the day). Other names are ignored. */
  list(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((n) => IMAGE_ID_PATTERN.test(n))
      .sort();
  }

  private write(imageId: string, bytes: Uint8Array, meta: ImageMeta, replacing: boolean): StoredImage {
    const file = this.pathOf(imageId);
    if (bytes.length > MAX_IMAGE_BYTES) throw new ImageStoreError('io', imageId, `a scanned side of ${bytes.length} bytes is over the ${MAX_IMAGE_BYTES}-byte limit`);
    const sealed = this.encrypt(imageId, bytes, meta);
    const target = replacing ? path.join(this.dir, `.${imageId}.${crypto.randomBytes(4).toString('hex')}.tmp`) : file;
    const fd = fs.openSync(target, 'wx', 0o600);
    try {
      fs.writeSync(fd, sealed);
      fs.futimesSync(fd, FIXED_FILE_TIME, FIXED_FILE_TIME);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(target, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    if (replacing) fs.renameSync(target, file);
    this.dirDirty = true;
    return { imageId, sha256: new Uint8Array(crypto.createHash('sha256').update(bytes).digest()), path: file };
  }

  private header(imageId: string, nonce: Uint8Array, ciphertextLength: number): Buffer {
    const h = Buffer.alloc(HEADER_BYTES);
    let at = MAGIC.copy(h, 0);
    h[at++] = FORMAT_VERSION;
    at += this.keyId.copy(h, at);
    at += Buffer.from(imageId, 'hex').copy(h, at);
    at += Buffer.from(nonce).copy(h, at);
    h.writeUInt32BE(ciphertextLength, at);
    return h;
  }

  private encrypt(imageId: string, bytes: Uint8Array, meta: ImageMeta): Buffer {
    const metaBytes = canonicalBytes({ format: 'tallyproof-image/1', disposition: meta.disposition, mode: meta.mode, side: meta.side, sides: meta.sides });
    const lengthPrefix = Buffer.alloc(4);
    lengthPrefix.writeUInt32BE(metaBytes.length);
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const plainLength = 4 + metaBytes.length + bytes.length;
    const header = this.header(imageId, nonce, plainLength);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, nonce);
    // the whole header is associated data: image ID, key ID and length cannot be changed or the file renamed unnoticed
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(lengthPrefix), cipher.update(metaBytes), cipher.update(bytes), cipher.final()]);
    return Buffer.concat([header, body, cipher.getAuthTag()]);
  }

  private decrypt(imageId: string, file: Buffer): Result<ReadImage, ImageStoreError> {
    const fail = (kind: ImageStoreErrorKind, detail: string) => err(new ImageStoreError(kind, imageId, detail));
    if (file.length < MAGIC.length + 1 || !file.subarray(0, MAGIC.length).equals(MAGIC)) return fail('not-an-image-file', 'not an encrypted image file (no TPIMG header)');
    const version = file[MAGIC.length];
    if (version !== FORMAT_VERSION) return fail('not-an-image-file', `image file version ${version} (this software reads version ${FORMAT_VERSION})`);
    if (file.length < HEADER_BYTES) return fail('truncated', `the file is ${file.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
    let at = MAGIC.length + 1;
    const keyId = file.subarray(at, at + KEY_ID_BYTES);
    at += KEY_ID_BYTES;
    const idInFile = file.subarray(at, at + IMAGE_ID_BYTES).toString('hex');
    at += IMAGE_ID_BYTES;
    const nonce = file.subarray(at, at + NONCE_BYTES);
    at += NONCE_BYTES;
    const length = file.readUInt32BE(at);
    const want = HEADER_BYTES + length + TAG_BYTES;
    if (file.length < want) return fail('truncated', `the file is ${file.length} bytes, its header says ${want}: cut short`);
    if (file.length > want) return fail('not-an-image-file', `${file.length - want} bytes after the end of the image`);
    if (!keyId.equals(this.keyId)) return fail('wrong-key', 'encrypted under another station key (or the station key was unlocked with another passphrase)');
    if (idInFile !== imageId) return fail('swapped', `the file holds image ${idInFile}: it was renamed or copied over this one`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAAD(file.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(file.subarray(HEADER_BYTES + length));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(file.subarray(HEADER_BYTES, HEADER_BYTES + length)), decipher.final()]);
    } catch {
      return fail('altered', 'the authentication tag does not match: the file was altered');
    }
    // authenticated from here on: what follows can only fail for a file this software did not write
    const metaLength = plain.readUInt32BE(0);
    let meta: z.infer<typeof MetaSchema>;
    try {
      meta = MetaSchema.parse(JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8')));
    } catch (e) {
      return fail('not-an-image-file', `the image's metadata is malformed: ${(e as Error).message}`);
    }
    return ok({ bytes: new Uint8Array(plain.subarray(4 + metaLength)), meta: { disposition: meta.disposition, mode: meta.mode, side: meta.side, sides: meta.sides } });
  }
}
