import fs from 'node:fs';
import { z } from 'zod';
import { err, ok, type Result } from '../../../lib/result';
import { ALG_COSIGNATURE_V1, ALG_ED25519, parseVerifierKey, type Verifier } from '../tlog/note';
import { TlogError } from '../tlog/stored-hashes';
import type { TrustPolicy } from '../client/log-client';

/**
 * A station's county setting (station.json `county`): where the county log is and whose signatures its
 * answers must carry. The log key names the log's origin (a log's key is named after it), so a station
 * cannot be pointed at another election's log by a URL alone: every proof it keeps is opened with this key
 * and, with `quorum`, the witnesses'.
 */

const keyOf = (algorithm: number, what: string) =>
  z.string().superRefine((s, ctx) => {
    const v = parseVerifierKey(s);
    if (v instanceof TlogError) ctx.addIssue({ code: 'custom', message: `${what}: a verifier key <name>+<key ID>+<base64> as \`tallyproof county keys\` prints it (${v.message})` });
    else if (v.algorithm !== algorithm) ctx.addIssue({ code: 'custom', message: `${what}: this is a ${v.algorithm === ALG_ED25519 ? 'log' : 'witness'} key` });
  });

export const countyReportSettingsSchema = z
  .strictObject({
    /** the county log's URL: where POST /add-entry, /checkpoint and /tile/ are */
    log: z
      .string()
      .url('the county log\'s URL, e.g. https://county.example/log')
      .refine((u) => /^https?:\/\//.test(u), 'the county log\'s URL starts with http:// or https://'),
    /** the log's verifier key; its name is the log's origin */
    logKey: keyOf(ALG_ED25519, "the county log's key"),
    /** witnesses whose cosignatures a published checkpoint must carry (`quorum` of them) */
    witnesses: z.array(keyOf(ALG_COSIGNATURE_V1, "a witness's key")).max(32).default([]),
    quorum: z.number().int().min(0).default(0),
  })
  .refine((c) => c.quorum <= c.witnesses.length, { message: 'more cosignatures than witnesses listed', path: ['quorum'] });

export type CountyReportConfig = z.input<typeof countyReportSettingsSchema>;

export interface CountyReportSettings {
  readonly url: string;
  readonly trust: TrustPolicy;
}

/** The validated setting as the reporter uses it (keys decoded, no trailing slash). */
export function countyReportSettings(c: z.output<typeof countyReportSettingsSchema>): CountyReportSettings {
  return {
    url: c.log.replace(/\/+$/, ''),
    trust: { log: parseVerifierKey(c.logKey) as Verifier, witnesses: c.witnesses.map((w) => parseVerifierKey(w) as Verifier), quorum: c.quorum },
  };
}

/** `tallyproof station --county <file>`: the same setting as station.json's `county`, in a file of its own. */
export function loadCountyReportSettings(file: string): Result<CountyReportSettings, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return err(`cannot read the county setting ${file}: ${(e as Error).message}`);
  }
  const r = countyReportSettingsSchema.safeParse(raw);
  if (!r.success) return err(`${file}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ')}`);
  return ok(countyReportSettings(r.data));
}

/**
 * `county receipts --county <file>`: the file `tallyproof station --county` takes, or the station.json
 * (the kiosk's settings) whose `county` it is.
 */
export function loadStationCountySetting(file: string): Result<CountyReportSettings, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return err(`cannot read the county setting ${file}: ${(e as Error).message}`);
  }
  const inStationJson = typeof raw === 'object' && raw !== null && !('logKey' in raw) && 'county' in raw;
  const r = countyReportSettingsSchema.safeParse(inStationJson ? (raw as { county: unknown }).county : raw);
  if (!r.success) return err(`${file}: ${r.error.issues.map((i) => `${[...(inStationJson ? ['county'] : []), ...i.path].join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return ok(countyReportSettings(r.data));
}
