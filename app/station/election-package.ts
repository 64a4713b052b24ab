import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ValidElection } from '../../ballots/election';
import { contestOptions, parseElectionText, voteFor } from '../../ballots/election';
import type { ElectionPublicKeys } from '../../ballots/identity';
import { publicKeysFromJson } from '../../ballots/identity';
import type { CalibrationProfile } from '../../calibration/profile';
import { DEFAULT_PROFILE, parseProfile } from '../../calibration/profile';
import { replaceFileAtomically } from '../../lib/durable-fs';
import type { Genesis } from '../ledger/entries';

/**
 * The election package a station is configured with: definition, public keys, calibration. It is checked
 * here, copied into `<data>/election/` (where `tallyproof tape` and `ledger export` find it), and a data
 * directory made for one election refuses another.
 */

export class PackageError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export interface ElectionPackage {
  readonly election: ValidElection;
  /** SHA-256 of the definition file's bytes: names the exact file a data directory was configured with */
  readonly fileHash: string;
  readonly publicKeys: ElectionPublicKeys;
  readonly profile: CalibrationProfile;
  readonly calibrationVersion: number;
  readonly precinct: string;
  /** the styles used in this precinct */
  readonly styles: readonly string[];
}

export const PACKAGE_FILES = { election: 'election.json', keys: 'election-public.json', calibration: 'calibration.json' } as const;

export function packageDir(dataDir: string): string {
  return path.join(dataDir, 'election');
}

function read(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PackageError(file, `cannot read the ${what}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function json(bytes: Buffer, file: string, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new PackageError(file, `the ${what} is not JSON: ${(e as Error).message}`);
  }
}

/** A small number naming the calibration in ballot records, from the profile's content. */
function calibrationVersionOf(bytes: Buffer | undefined): number {
  if (bytes === undefined) return 0;
  return crypto.createHash('sha256').update(bytes).digest().readUInt16BE(0);
}

export function loadPackage(files: { election: string; keys: string; calibration?: string }, precinct: string): { pkg: ElectionPackage; bytes: { election: Buffer; keys: Buffer; calibration?: Buffer } } {
  const electionBytes = read(files.election, 'election definition');
  const parsed = parseElectionText(electionBytes.toString('utf8'), files.election);
  if (!parsed.ok) throw new PackageError(files.election, `the election definition is invalid: ${parsed.error.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const election = parsed.value;
  const keyBytes = read(files.keys, 'election public keys');
  const keys = publicKeysFromJson(json(keyBytes, files.keys, 'election public keys file'), files.keys);
  if (!keys.ok) throw new PackageError(files.keys, `the election public keys are invalid: ${keys.error.message}`);
  let profile = DEFAULT_PROFILE;
  let calBytes: Buffer | undefined;
  if (files.calibration !== undefined) {
    calBytes = read(files.calibration, 'calibration profile');
    const p = parseProfile(json(calBytes, files.calibration, 'calibration profile'));
    if (!p.ok) throw new PackageError(files.calibration, `the calibration profile is invalid: ${p.error.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
    profile = p.value;
  }
  const def = election.definition;
  if (!def.precincts.some((p) => p.id === precinct)) {
    throw new PackageError(files.election, `the election has no precinct "${precinct}" (it has ${def.precincts.map((p) => p.id).join(', ')})`);
  }
  const styles = def.ballotStyles.filter((s) => s.precincts.includes(precinct)).map((s) => s.id);
  if (styles.length === 0) throw new PackageError(files.election, `no ballot style is used in precinct "${precinct}"`);
  const pkg: ElectionPackage = {
    election,
    fileHash: crypto.createHash('sha256').update(electionBytes).digest('hex'),
    publicKeys: keys.value,
    profile,
    calibrationVersion: calibrationVersionOf(calBytes),
    precinct,
    styles,
  };
  return { pkg, bytes: calBytes === undefined ? { election: electionBytes, keys: keyBytes } : { election: electionBytes, keys: keyBytes, calibration: calBytes } };
}

/**
 * Copies the package into `<data>/election/`. A directory already holding another election is refused and
 * named; the same election is left as it is (a calibration may be replaced: it changes no ballot).
 */
export function installPackage(dataDir: string, loaded: ReturnType<typeof loadPackage>): void {
  const dir = packageDir(dataDir);
  const target = path.join(dir, PACKAGE_FILES.election);
  if (fs.existsSync(target)) {
    const have = fs.readFileSync(target);
    const other = parseElectionText(have.toString('utf8'), target);
    // the same election re-indented or re-ordered is the same election: compare the canonical hash
    if (!other.ok || other.value.hash !== loaded.pkg.election.hash) {
      const name = other.ok ? `"${other.value.definition.election.title}" (${other.value.definition.election.id}), election hash ${other.value.hash.slice(0, 16)}…,` : 'an election whose definition no longer validates';
      throw new PackageError(
        dataDir,
        `this data directory is configured for ${name} not for "${loaded.pkg.election.definition.election.title}" (${loaded.pkg.election.definition.election.id}), election hash ${loaded.pkg.election.hash.slice(0, 16)}…: use another data directory`,
      );
    }
    const keysFile = path.join(dir, PACKAGE_FILES.keys);
    if (fs.existsSync(keysFile) && !fs.readFileSync(keysFile).equals(loaded.bytes.keys)) {
      throw new PackageError(keysFile, 'this data directory holds other public keys for the same election: the election package was changed after the station was configured');
    }
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const put = (name: string, bytes: Buffer): void => {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.readFileSync(file).equals(bytes)) return;
    replaceFileAtomically(file, bytes, { mode: 0o600 });
  };
  put(PACKAGE_FILES.election, loaded.bytes.election);
  put(PACKAGE_FILES.keys, loaded.bytes.keys);
  if (loaded.bytes.calibration !== undefined) put(PACKAGE_FILES.calibration, loaded.bytes.calibration);
}

/** The ledger's contest map: every contest of the definition, options in ballot order, seats = vote for. */
export function contestMap(election: ValidElection): Genesis['election']['contests'] {
  const def = election.definition;
  return def.contests.map((c) => ({ id: c.id, options: contestOptions(c, def).map((o) => o.id), seats: voteFor(c) }));
}
