import { CountyReporter, type SignedStationCheckpoint } from '../county/report/station-reporter';
import type { CountyReportSettings } from '../county/report/report-settings';

export type { CountyReporter };

/**
 * The station's reporter to the county log (app/county/report), or none without a county setting. With a
 * continuous export, the export device is the one the captain carries to the county (`county carry --out`),
 * so the proofs `county submit --trust` wrote on it are taken from there when it comes back: a kiosk has
 * no command line to run `county receipts` on.
 */
export function startCountyReporter(
  opts: { readonly dataDir: string; readonly county?: CountyReportSettings; readonly continuousExport?: { readonly dir: string }; readonly log?: (m: string) => void },
  checkpoints: () => readonly SignedStationCheckpoint[],
  changed: () => void,
): CountyReporter | undefined {
  if (opts.county === undefined) return undefined;
  return new CountyReporter({
    settings: opts.county,
    dataDir: opts.dataDir,
    checkpoints,
    changed,
    ...(opts.continuousExport === undefined ? {} : { carriedFrom: opts.continuousExport.dir }),
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
}
