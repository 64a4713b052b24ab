import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';

const ROOT = path.resolve(__dirname, '..', '..');
const Report = z.object({ decodes: z.number(), found: z.number(), before: z.array(z.number()).nullable(), after: z.array(z.number()).nullable() });

// A station decodes three codes per side all day: whatever a decode leaves behind in the decoder's WASM
// memory adds up (zxing-wasm 3.1.4 kept each call's result vector: +1.1 MB per 3,000 decodes). The memory's
// length cannot show it (it only grows once full); its resident pages do.
describe('the QR decoder', () => {
  it('keeps nothing from one decode to the next: its WASM memory stays as resident as it was', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(__dirname, 'support', 'decode-loop.ts'), '1000'], { encoding: 'utf8', timeout: 240_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = Report.parse(JSON.parse(run.stdout));
    expect(report.found).toBe(report.decodes); // every decode found its code
    expect(report.decodes).toBe(3000);
    // one decoder in its own process: exactly one memory of its length
    expect(report.before).toHaveLength(1);
    expect(report.after).toHaveLength(1);
    // 3,000 decodes at the old leak's ~370 bytes each would be ~1.1 MB; allow a few pages of allocator slack
    expect((report.after?.[0] ?? 0) - (report.before?.[0] ?? 0)).toBeLessThan(0.15);
  });
});
