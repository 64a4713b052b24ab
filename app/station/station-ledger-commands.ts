import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../lib/bytes';
import type { AuditEventType } from '../ledger/events';
import { isoSeconds } from '../ledger/events';
import { exportBundle } from '../ledger/export';
import type { DataLayout } from '../ledger/layout';
import type { VerifyOptions } from '../ledger/verify';
import { verifyLedgerFile } from '../ledger/verify';
import type { ApiResult, CommandOutcome, Role } from './api';
import { PACKAGE_FILES, packageDir } from './election-package';
import type { LedgerMode } from './polls';

/** What the staff's ledger commands read: the ledger files, verified as an auditor would. */
export interface LedgerCommandDeps {
  readonly layout: DataLayout;
  readonly now: () => Date;
  verifyOptions(mode: LedgerMode): VerifyOptions;
  event(type: AuditEventType, role: Role, detail: Record<string, string | number | boolean>): void;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/** 'verify-ledger': both ledger files verified from their bytes; the result is itself an audit event. */
export function verifyLedgers(d: LedgerCommandDeps, role: Role): ApiResult<CommandOutcome> {
  const parts: string[] = [];
  let good = true;
  for (const mode of ['official', 'test'] as const) {
    const file = d.layout.ledger(mode);
    if (!fs.existsSync(file)) continue;
    const report = verifyLedgerFile(file, d.verifyOptions(mode));
    const s = report.summary;
    if (report.ok && s) parts.push(`${mode}: ok, ${s.entries} entries, ${s.cast} cast, ${s.returned} returned, ${s.pending} pending, head ${s.head.seq} ${toHex(s.head.hash)}`);
    else {
      good = false;
      parts.push(`${mode}: FAILED at entry ${report.problem?.seq}: ${report.problem?.kind}: ${report.problem?.message}`);
    }
  }
  d.event('ledger-verified', role, { ok: good });
  if (!good) return refused('ledger-bad', parts.join('; '));
  return ok({ message: parts.join('; ') });
}

/** 'export-bundle': the current mode's ledger as an export bundle under `<data>/export/`. */
export function exportLedger(d: LedgerCommandDeps, mode: LedgerMode, role: Role): ApiResult<CommandOutcome> {
  const stamp = isoSeconds(d.now()).replace(/[-:]/g, '');
  const out = path.join(d.layout.root, 'export', `${mode}-${stamp}`);
  try {
    const r = exportBundle(d.layout.ledger(mode), out, { ...d.verifyOptions(mode), electionDefinition: path.join(packageDir(d.layout.root), PACKAGE_FILES.election) });
    d.event('export', role, { mode, records: r.records, batches: r.batches });
    return ok({ message: `Exported ${r.records} record(s) in ${r.batches} batch(es).`, file: r.dir });
  } catch (e) {
    return refused('export-failed', (e as Error).message);
  }
}
