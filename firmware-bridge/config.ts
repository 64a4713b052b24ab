/**
 * Scanner configuration (JSON at the boundary, checked with zod) and the one place that turns it into a
 * ScannerDriver, so the station never needs to know which kind of scanner it talks to.
 */
import { z } from 'zod';
import { assertNever, err, ok, type Result } from '../lib/result';
import type { ScannerDriver } from './driver';
import { FolderScannerDriver } from './folder/folder-driver';
import { SaneScannerDriver } from './sane/sane-driver';
import { SerialScannerDriver } from './serial/serial-driver';
import { parseFaultPlan } from './simulator/faults';
import { startSimulatedScanner } from './simulator/start';

export const scannerConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('serial'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('sane'),
    device: z.string().min(1),
    deviceArgs: z.array(z.string()).optional(),
    duplex: z.boolean().optional(),
    format: z.enum(['png', 'tiff', 'pnm']).optional(),
    resolution: z.number().int().positive().optional(),
  }),
  z.object({ kind: z.literal('folder'), dir: z.string().min(1), journalPath: z.string().min(1).optional() }),
  z.object({
    kind: z.literal('simulated'),
    deckDir: z.string().min(1),
    count: z.number().int().positive().optional(),
    timings: z.enum(['zero', 'realistic']).optional(),
    /** faults the simulated scanner plays, for drills and tests: `3=jam@accepting,7=double-sheet` or `random:SEED:RATE` */
    faults: z
      .string()
      .optional()
      .superRefine((s, ctx) => {
        const p = s === undefined ? undefined : parseFaultPlan(s);
        if (p !== undefined && !p.ok) ctx.addIssue({ code: 'custom', message: p.error });
      }),
  }),
]);

export type ScannerConfig = z.infer<typeof scannerConfigSchema>;

export interface OpenedScanner {
  readonly driver: ScannerDriver;
  /** Closes the driver and anything started for it (the simulator and its pty). */
  close(): Promise<void>;
}

export function parseScannerConfig(json: unknown): Result<ScannerConfig, string> {
  const r = scannerConfigSchema.safeParse(json);
  if (r.success) return ok(r.data);
  return err(r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; '));
}

export async function openScanner(config: ScannerConfig, log?: (m: string) => void): Promise<OpenedScanner> {
  const withLog = log ? { log } : {};
  switch (config.kind) {
    case 'serial': {
      const driver = new SerialScannerDriver({ path: config.path, ...withLog });
      return { driver, close: () => driver.close() };
    }
    case 'sane': {
      const driver = new SaneScannerDriver({ ...config, ...withLog });
      return { driver, close: () => driver.close() };
    }
    case 'folder': {
      const driver = new FolderScannerDriver({ dir: config.dir, ...(config.journalPath ? { journalPath: config.journalPath } : {}), ...withLog });
      return { driver, close: () => driver.close() };
    }
    case 'simulated': {
      const faults = config.faults === undefined ? undefined : parseFaultPlan(config.faults);
      if (faults !== undefined && !faults.ok) throw new Error(`simulated scanner faults: ${faults.error}`);
      const sim = await startSimulatedScanner({
        deckDir: config.deckDir,
        ...(config.count ? { count: config.count } : {}),
        timings: config.timings ?? 'realistic',
        ...(faults !== undefined ? { faults: faults.value } : {}),
        ...withLog,
      });
      const driver = new SerialScannerDriver({ path: sim.path, ...withLog });
      return {
        driver,
        async close() {
          await driver.close();
          await sim.stop();
        },
      };
    }
    default:
      return assertNever(config, 'scanner config');
  }
}
