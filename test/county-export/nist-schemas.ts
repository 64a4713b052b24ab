import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

/** NIST's published JSON schemas (draft-04), checked in with their sources in schemas/SOURCES.md. */
export type NistSchema = 'cvr' | 'eel' | 'err';
const FILES: Record<NistSchema, string> = {
  cvr: 'NIST_V0_cast_vote_records.json',
  eel: 'NIST_V1_election_event_logging.json',
  err: 'NIST_V2_election_results_reporting.json',
};

const compiled = new Map<NistSchema, ValidateFunction>();

function validatorFor(which: NistSchema): ValidateFunction {
  let v = compiled.get(which);
  if (v === undefined) {
    // strict off: the published schemas use keywords ajv's strict mode flags (e.g. "type" beside "enum" is fine, unknown formats are not in them)
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    v = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas', FILES[which]), 'utf8')) as object);
    compiled.set(which, v);
  }
  return v;
}

/** The schema's errors for a document, as readable lines ([] when it validates). */
export function schemaErrors(which: NistSchema, doc: unknown): string[] {
  const v = validatorFor(which);
  if (v(doc)) return [];
  return (v.errors ?? []).slice(0, 20).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
