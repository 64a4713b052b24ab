/**
 * How a station is set up, shared by `tallyproof station` and the Electron app (which reads the same
 * settings from a JSON file, because a kiosk has no command line). No electron import: tested under Node.
 *
 * Secrets never come from argv (other users read the process list): PINs from a file or TALLYPROOF_PINS,
 * the station key passphrase from a file or TALLYPROOF_STATION_PASSPHRASE.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { printerConfigSchema } from '../print/config';
import { err, ok, type Result } from '../../lib/result';
import { scannerConfigSchema, type ScannerConfig } from '../../firmware-bridge/config';
import { checkSerialPath } from '../../firmware-bridge/serial/serial-path';
import { ROLES, type Role } from './api';
import { continuousExportSchema } from './continuous-export-config';
import { IMAGE_RETENTIONS } from './sheet-images';

export const PINS_ENV = 'TALLYPROOF_PINS';
export const STATION_CONFIG_ENV = 'TALLYPROOF_STATION_CONFIG';

export type StationPins = Record<Role, string>;

const pin = z.string().regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits');
const pinsSchema = z
  .strictObject({ 'poll-worker': pin, captain: pin, auditor: pin })
  // One PIN for two roles would let a poll worker close the polls.
  .refine((p) => new Set(Object.values(p)).size === 3, { message: 'each role needs its own PIN' });

/**
 * Parses PINs written either as JSON (`{"poll-worker":"1234","captain":"5678","auditor":"9012"}`) or as
 * `poll-worker=1234,captain=5678,auditor=9012` (the handier form for an environment variable).
 */
export function parsePins(text: string, source: string): Result<StationPins, string> {
  const trimmed = text.trim();
  let raw: unknown;
  if (trimmed.startsWith('{')) {
    try {
      raw = JSON.parse(trimmed);
    } catch (e) {
      return err(`${source}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    const entries: [string, string][] = [];
    for (const part of trimmed.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0)) {
      const at = part.indexOf('=');
      if (at <= 0) return err(`${source}: "${part.replace(/\d/g, '#')}" is not role=PIN (roles: ${ROLES.join(', ')})`);
      entries.push([part.slice(0, at).trim(), part.slice(at + 1).trim()]);
    }
    raw = Object.fromEntries(entries);
  }
  const r = pinsSchema.safeParse(raw);
  if (!r.success) return err(`${source}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(pins)'}: ${i.message}`).join('; ')}`);
  return ok(r.data);
}

/** PINs from `pinsFile` if given, else from $TALLYPROOF_PINS. */
export function readPins(pinsFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Result<StationPins, string> {
  if (pinsFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(pinsFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return err(`cannot read the PIN file ${pinsFile}: ${code === 'ENOENT' ? 'it does not exist' : (e as Error).message}`);
    }
    return parsePins(text, pinsFile);
  }
  const v = env[PINS_ENV];
  if (v === undefined || v.trim().length === 0) {
    return err(`the station needs a PIN for each role: set ${PINS_ENV}="poll-worker=…,captain=…,auditor=…" or pass --pins-file <file>`);
  }
  return parsePins(v, `$${PINS_ENV}`);
}

/** The Electron app's station.json: the same settings as `tallyproof station`'s flags. Relative paths are relative to the file. */
export const stationConfigSchema = z.strictObject({
  data: z.string().min(1),
  election: z.string().min(1),
  keys: z.string().min(1),
  precinct: z.string().min(1),
  calibration: z.string().min(1).optional(),
  scanner: scannerConfigSchema,
  pinsFile: z.string().min(1).optional(),
  passphraseFile: z.string().min(1).optional(),
  /** threads that read sheets beside the station's own work (default 1; 0 reads in the station's thread) */
  readerWorkers: z.number().int().min(0).max(8).optional(),
  /** sheets in a row returned for scanner streaks before the alarm stops the feeder (default 1) */
  streakAlarmAfter: z.number().int().min(1).max(100).optional(),
  /** a staff sign-in unused for this many seconds ends by itself (default 120; 15 s to 1 hour) */
  staffIdleSignOutSeconds: z.number().int().min(15).max(3600).optional(),
  /** a voter's language and text size go back to the start after this many seconds untouched with no sheet in progress (default 60) */
  voterIdleResetSeconds: z.number().int().min(10).max(3600).optional(),
  /** where tapes are printed (app/print/config.ts): escpos device, CUPS queue, simulated; default PDF files only */
  printer: printerConfigSchema.optional(),
  /**
   * the second location of the ledgers' signed heads: the export device or a directory on another disk
   * (app/ledger/README.md); `tallyproof ledger verify --heads <dir>` checks the ledger against it
   */
  signedHeadsDir: z.string().min(1).optional(),
  /** a signed head every this many ledger entries (default 100), besides those at pause, batch and close */
  signHeadsEvery: z.number().int().min(1).max(100_000).optional(),
  /**
   * every cast ballot's CVR to the export device, under a manifest the station key signs (app/county-export/EXPORT.md);
   * off when absent
   */
  continuousExport: continuousExportSchema.optional(),
  /**
   * which scans the station keeps, encrypted at rest in <data>/images (app/station/sheet-images.ts): every
   * side of every sheet (default), only recorded sheets with a marginal mark or a marked write-in, or none
   */
  imageRetention: z.enum(IMAGE_RETENTIONS, { message: `imageRetention must be one of ${IMAGE_RETENTIONS.map((r) => `"${r}"`).join(', ')}` }).optional(),
  /** opens devtools; never set on a polling-place machine */
  dev: z.boolean().optional(),
});
export type StationConfig = z.infer<typeof stationConfigSchema>;

export function loadStationConfig(file: string): Result<StationConfig, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return err(`cannot read the station settings ${file}: ${(e as Error).message}`);
  }
  const r = stationConfigSchema.safeParse(raw);
  if (!r.success) return err(`${file}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ')}`);
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const c = r.data;
  const scanner =
    c.scanner.kind === 'folder'
      ? { ...c.scanner, dir: abs(c.scanner.dir) }
      : c.scanner.kind === 'simulated'
        ? { ...c.scanner, deckDir: abs(c.scanner.deckDir) }
        : c.scanner;
  // a simulated printer's folder is relative to the settings file, like every other path in it
  const printer = c.printer?.kind === 'simulated' ? { ...c.printer, dir: abs(c.printer.dir) } : c.printer;
  return ok({
    ...c,
    ...(printer !== undefined ? { printer } : {}),
    data: abs(c.data),
    election: abs(c.election),
    keys: abs(c.keys),
    ...(c.calibration !== undefined ? { calibration: abs(c.calibration) } : {}),
    ...(c.pinsFile !== undefined ? { pinsFile: abs(c.pinsFile) } : {}),
    ...(c.passphraseFile !== undefined ? { passphraseFile: abs(c.passphraseFile) } : {}),
    ...(c.signedHeadsDir !== undefined ? { signedHeadsDir: abs(c.signedHeadsDir) } : {}),
    ...(c.continuousExport !== undefined ? { continuousExport: { ...c.continuousExport, dir: abs(c.continuousExport.dir) } } : {}),
    scanner,
  });
}

/** The election's public key file: `keys` may name the file or the directory `tallyproof election keys` wrote. */
export function electionPublicKeyFile(keys: string): string {
  try {
    if (fs.statSync(keys).isDirectory()) return path.join(keys, 'election-public.json');
  } catch {
    // not there: startStation names the missing file
  }
  return keys;
}

/**
 * A serial scanner whose path can never be one stops the station before anything starts, with the path and
 * what was expected, instead of a station that serves with no scanner behind it while the driver retries
 * (it retries a port that will not open, for a scanner switched on late). Shared by `tallyproof station`
 * (`setting` = "--serial") and the Electron station process (`setting` = the station.json key); the other
 * scanner kinds are checked where they open.
 */
export function checkScannerDevice(scanner: ScannerConfig, setting: string): Result<void, string> {
  if (scanner.kind !== 'serial') return ok(undefined);
  const usable = checkSerialPath(scanner.path);
  return usable.ok ? usable : err(`cannot use ${setting} ${scanner.path}: ${usable.error}`);
}

