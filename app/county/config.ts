import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseSignerKey, parseVerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519, type Signer, type Verifier } from './tlog/note';
import { TlogError } from './tlog/stored-hashes';
import { StationRegistrySchema, type StationRegistry } from './log/station-entry';
import { CountyAnchorConfigSchema, loadAnchorSettings, type CountyAnchorSettings } from './anchor/anchor-config';
import { PublishError } from '../chain/errors';

/**
 * The county log's, a witness's and a monitor's settings files, validated at the boundary. Keys are C2SP
 * signed-note key strings: verifier keys inline, signer keys in their own file (readable by its owner only).
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const vkey = z.string().refine((s) => !(parseVerifierKey(s) instanceof TlogError), 'a verifier key: <name>+<key ID>+<base64>');

export const CountyLogConfigSchema = z.object({
  format: z.literal('tallyproof-county-log/1'),
  origin: z.string().min(1).max(200).regex(/^[^\s+]+$/, 'one word: a schema-less URL such as county.example/2026-general'),
  keyFile: z.string().min(1),
  stations: z.string().min(1),
  witnesses: z.array(z.object({ url: z.string().url(), key: vkey })).default([]),
  quorum: z.number().int().min(0),
  roundSeconds: z.number().positive().max(3600).default(1),
  /** sockets `county serve` holds at once (app/county/http-util.ts DEFAULT_MAX_CONNECTIONS) */
  maxConnections: z.number().int().min(16).max(60_000).default(4096),
  /** anchoring the published checkpoint once a round (app/county/anchor/anchor-config.ts) */
  anchor: CountyAnchorConfigSchema.optional(),
});

export const WitnessConfigSchema = z.object({
  format: z.literal('tallyproof-witness/1'),
  keyFile: z.string().min(1),
  logs: z.array(z.object({ origin: z.string().min(1), keys: z.array(vkey).min(1) })).min(1),
});

export const TrustConfigSchema = z.object({
  format: z.literal('tallyproof-county-trust/1'),
  log: vkey,
  witnesses: z.array(vkey).default([]),
  quorum: z.number().int().min(0),
});

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the ${what}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${file}: the ${what} is not JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function readSignerKeyFile(file: string, algorithm: typeof ALG_ED25519 | typeof ALG_COSIGNATURE_V1): Signer {
  let text: string;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) throw new ConfigError(`${file}: a signing key must be readable by its owner only (chmod 600)`);
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: cannot read the signing key: ${(e as Error).message}`);
  }
  const key = parseSignerKey(text);
  if (key instanceof TlogError) throw new ConfigError(`${file}: ${key.message}`);
  if (key.algorithm !== algorithm) throw new ConfigError(`${file}: this is a ${key.algorithm === ALG_ED25519 ? 'log' : 'witness'} key, not a ${algorithm === ALG_ED25519 ? 'log' : 'witness'} key`);
  return key;
}

const verifier = (s: string): Verifier => parseVerifierKey(s) as Verifier;

export interface CountyLogSettings {
  readonly origin: string;
  readonly signer: Signer;
  readonly registry: StationRegistry;
  readonly witnesses: { url: string; key: Verifier }[];
  readonly quorum: number;
  readonly intervalMs: number;
  /** sockets the log's HTTP server holds at once */
  readonly maxConnections: number;
  readonly anchor?: CountyAnchorSettings;
}

export function loadCountyLogConfig(file: string): CountyLogSettings {
  const c = readJson(file, CountyLogConfigSchema, 'county log settings');
  const dir = path.dirname(file);
  const signer = readSignerKeyFile(path.resolve(dir, c.keyFile), ALG_ED25519);
  if (signer.name !== c.origin) throw new ConfigError(`${file}: the log key is named ${JSON.stringify(signer.name)}; a log's key is named after its origin ${JSON.stringify(c.origin)}`);
  if (c.quorum > c.witnesses.length) throw new ConfigError(`${file}: a quorum of ${c.quorum} cannot be met by ${c.witnesses.length} witness(es)`);
  let anchor: CountyAnchorSettings | undefined;
  try {
    anchor = c.anchor === undefined ? undefined : loadAnchorSettings(c.anchor, dir, file);
  } catch (e) {
    if (e instanceof PublishError) throw new ConfigError(e.message);
    throw e;
  }
  return {
    ...(anchor === undefined ? {} : { anchor }),
    origin: c.origin,
    signer,
    registry: readJson(path.resolve(dir, c.stations), StationRegistrySchema, 'station registry'),
    witnesses: c.witnesses.map((w) => ({ url: w.url.replace(/\/$/, ''), key: verifier(w.key) })),
    quorum: c.quorum,
    intervalMs: Math.round(c.roundSeconds * 1000),
    maxConnections: c.maxConnections,
  };
}

export function loadWitnessConfig(file: string): { signer: Signer; logs: { origin: string; keys: Verifier[] }[] } {
  const c = readJson(file, WitnessConfigSchema, 'witness settings');
  return {
    signer: readSignerKeyFile(path.resolve(path.dirname(file), c.keyFile), ALG_COSIGNATURE_V1),
    logs: c.logs.map((l) => ({ origin: l.origin, keys: l.keys.map(verifier) })),
  };
}

export function loadTrustConfig(file: string): { log: Verifier; witnesses: Verifier[]; quorum: number } {
  const c = readJson(file, TrustConfigSchema, 'trust policy');
  if (c.quorum > c.witnesses.length) throw new ConfigError(`${file}: a quorum of ${c.quorum} cannot be met by ${c.witnesses.length} witness(es)`);
  return { log: verifier(c.log), witnesses: c.witnesses.map(verifier), quorum: c.quorum };
}

export function loadStationRegistry(file: string): StationRegistry {
  return readJson(file, StationRegistrySchema, 'station registry');
}
