import { z } from 'zod';

/**
 * station.json `continuousExport`: after every cast ballot its CVR goes to this directory (the export USB
 * stick's mount point), flushed, under a manifest signed by the station key (app/county-export/EXPORT.md).
 */
export const continuousExportSchema = z.strictObject({
  /** the export device's mount point */
  dir: z.string().min(1, 'the export directory is a path (the USB stick’s mount point)'),
  /**
   * when the device is missing or full: 'stop' takes no more ballots until it is back (the voter is asked to
   * wait for a poll worker, as VxScan does); 'warn' raises the alarm and keeps scanning (the ledger keeps
   * every ballot; the missing files are written when the device is back)
   */
  whenDeviceFails: z.enum(['stop', 'warn'], { message: 'whenDeviceFails is "stop" (no ballots until the device is back) or "warn" (alarm, keep scanning)' }),
  /** the directory must be a mount point (default true): an unmounted stick's empty directory must not take the export */
  mustBeMountPoint: z.boolean().optional(),
});
export type ContinuousExportConfig = z.infer<typeof continuousExportSchema>;
