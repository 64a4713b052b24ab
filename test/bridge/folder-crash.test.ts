import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FolderScannerDriver, JOURNAL_FILE } from '../../firmware-bridge/folder/folder-driver';

const root = join(__dirname, '../..');

describe('folder driver killed mid-run', () => {
  it('after SIGKILL and restart, every file is taken once and decided once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-folder-crash-'));
    const files = 60;
    for (let i = 0; i < files; i += 1) writeFileSync(join(dir, `scan-${String(i).padStart(3, '0')}.png`), Buffer.from(`fake png ${i} `.repeat(50)));
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), join(root, 'test/bridge/support/folder-child.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const accepted: string[] = [];
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        accepted.push(l.split(' ')[1] as string);
        if (accepted.length === 20) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));

    const restarted = new FolderScannerDriver({ dir });
    const seenAgain: string[] = [];
    restarted.on((e) => {
      if (e.type === 'sheet-scanned') {
        seenAgain.push(e.sheetId);
        void restarted.accept(e.sheetId);
      }
    });
    expect((await restarted.connect()).ok).toBe(true);
    for (let i = 0; i < 4; i += 1) await restarted.scan();
    await restarted.close();
    // nothing the child had accepted comes back
    expect(seenAgain.filter((id) => accepted.includes(id))).toEqual([]);
    const entries = readFileSync(join(dir, JOURNAL_FILE), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { op: string; file?: string; sheetId: string });
    const taken = entries.filter((e) => e.op === 'taken');
    const done = entries.filter((e) => e.op === 'done');
    expect(new Set(taken.map((e) => e.file)).size).toBe(files);
    expect(taken).toHaveLength(files);
    expect(done).toHaveLength(files);
    expect(new Set(done.map((e) => e.sheetId)).size).toBe(files);
  });
});
