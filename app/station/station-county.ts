import { CountyReporter, type SignedStationCheckpoint } from '../county/report/station-reporter';
import type { CountyReportSettings } from '../county/report/report-settings';

export type { CountyReporter };

/** The station's reporter to the county log (app/county/report), or none without a county setting. */
export function startCountyReporter(
  opts: { readonly dataDir: string; readonly county?: CountyReportSettings; readonly log?: (m: string) => void },
  checkpoints: () => readonly SignedStationCheckpoint[],
  changed: () => void,
): CountyReporter | undefined {
  if (opts.county === undefined) return undefined;
  return new CountyReporter({ settings: opts.county, dataDir: opts.dataDir, checkpoints, changed, ...(opts.log === undefined ? {} : { log: opts.log }) });
}
