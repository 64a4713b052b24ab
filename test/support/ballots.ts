import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ValidElection } from '../../ballots/election';
import { loadElection } from '../../ballots/election';
import type { ElectionKeys } from '../../ballots/identity';
import { deterministicRng, generateElectionKeys, writeElectionKeys } from '../../ballots/identity';

export const EXAMPLES = path.join(__dirname, '..', '..', 'ballots', 'examples');

export function example(name: 'municipal' | 'general'): ValidElection {
  const r = loadElection(path.join(EXAMPLES, `${name}.json`));
  if (!r.ok) throw new Error(`example ${name} is invalid: ${JSON.stringify(r.error)}`);
  return r.value;
}

const keyCache = new Map<string, ElectionKeys>();
/** Election keys from a fixed seed: reproducible and free of scrypt cost. */
export function testKeys(seed = 'tallyproof-tests'): ElectionKeys {
  let k = keyCache.get(seed);
  if (!k) {
    k = generateElectionKeys('florincoin-regtest', deterministicRng(seed));
    keyCache.set(seed, k);
  }
  return k;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tp-${prefix}-`));
}

/** Rasterises every page of a PDF with poppler's pdftoppm; returns the PNG files in page order. */
export function rasterisePdf(pdf: string, dpi: number, outDir: string, gray = true): string[] {
  const prefix = path.join(outDir, `${path.basename(pdf, '.pdf')}-${dpi}`);
  execFileSync('pdftoppm', ['-r', String(dpi), ...(gray ? ['-gray'] : []), '-png', pdf, prefix]);
  return fs
    .readdirSync(outDir)
    .filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.png'))
    .sort()
    .map((f) => path.join(outDir, f));
}

/** Decodes every QR code in an image with zbar, an independent decoder. */
export function zbarDecode(image: string): string[] {
  let out: string;
  try {
    out = execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    // zbarimg exits 4 when it finds no symbol
    if ((e as { status?: number }).status === 4) return [];
    throw e;
  }
  return out.split('\n').filter(Boolean);
}

/** Where test runs leave pictures for a person to look at (not committed). */
export function outputDir(name: string): string {
  const dir = path.join(__dirname, '..', '..', 'test-output', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const TEST_PASSPHRASE = 'test passphrase, not for elections';

/** Writes the test keys as real key files (cheap scrypt) and returns the directory. */
export function writeTestKeys(parent: string, seed?: string): string {
  const dir = path.join(parent, 'keys');
  writeElectionKeys(dir, testKeys(seed), TEST_PASSPHRASE, { N: 1 << 10, r: 8, p: 1 });
  return dir;
}
