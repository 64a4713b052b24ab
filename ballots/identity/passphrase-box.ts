import { randomBytes, scryptSync, createCipheriv, createDecipheriv } from 'node:crypto';
import { z } from 'zod';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';

/**
 * Secret key material at rest: scrypt turns the passphrase into an AES-256-GCM key, so a stolen file is
 * useless without the passphrase and any change to the file is detected (GCM tag) rather than decrypted
 * into garbage.
 */
export const PassphraseBoxSchema = z.object({
  format: z.literal('tallyproof-passphrase-box/1'),
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z.number().int().positive(),
    r: z.number().int().positive(),
    p: z.number().int().positive(),
    salt: z.string().regex(/^[0-9a-f]{32,}$/),
  }),
  cipher: z.literal('aes-256-gcm'),
  iv: z.string().regex(/^[0-9a-f]{24}$/),
  tag: z.string().regex(/^[0-9a-f]{32}$/),
  ciphertext: z.string().regex(/^([0-9a-f]{2})*$/),
});
export type PassphraseBox = z.infer<typeof PassphraseBoxSchema>;

/** scrypt cost: N=2^15 takes ~100 ms here; tests may lower it through `cost`. */
export const DEFAULT_SCRYPT_COST = { N: 1 << 15, r: 8, p: 1 } as const;

export function sealWithPassphrase(
  plaintext: Uint8Array,
  passphrase: string,
  cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT_COST,
): PassphraseBox {
  if (passphrase.length === 0) throw new Error('an empty passphrase protects nothing');
  const salt = randomBytes(16);
  const key = deriveKey(passphrase, salt, cost);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    format: 'tallyproof-passphrase-box/1',
    kdf: { name: 'scrypt', ...cost, salt: salt.toString('hex') },
    cipher: 'aes-256-gcm',
    iv: iv.toString('hex'),
    tag: cipher.getAuthTag().toString('hex'),
    ciphertext: ciphertext.toString('hex'),
  };
}

export type OpenBoxError = { kind: 'malformed'; detail: string } | { kind: 'wrong-passphrase-or-tampered' };

export function openWithPassphrase(box: unknown, passphrase: string): Result<Uint8Array, OpenBoxError> {
  const parsed = PassphraseBoxSchema.safeParse(box);
  if (!parsed.success) return err({ kind: 'malformed', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  const b = parsed.data;
  const key = deriveKey(passphrase, Buffer.from(b.kdf.salt, 'hex'), b.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(b.iv, 'hex'));
  decipher.setAuthTag(Buffer.from(b.tag, 'hex'));
  try {
    const plain = Buffer.concat([decipher.update(Buffer.from(b.ciphertext, 'hex')), decipher.final()]);
    return ok(new Uint8Array(plain));
  } catch {
    return err({ kind: 'wrong-passphrase-or-tampered' });
  }
}

function deriveKey(passphrase: string, salt: Uint8Array, cost: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + (1 << 20) });
}
