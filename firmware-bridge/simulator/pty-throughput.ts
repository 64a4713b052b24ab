/** The raw speed of a socat pty: the baseline the bridge benchmarks set every protocol figure against. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialPortOpener } from '../serial/port';
import { startPtyPair } from './pty';

export async function rawPtyThroughput(totalBytes: number): Promise<{ bytesPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-raw-'));
  const pty = await startPtyPair(dir);
  const opener = serialPortOpener();
  let received = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const host = await opener.open(pty.hostPath, {
    onData: (b) => {
      received += b.length;
      if (received >= totalBytes) resolveDone();
    },
    onClose: () => undefined,
  });
  const dev = await opener.open(pty.devicePath, { onData: () => undefined, onClose: () => undefined });
  if (!host.ok || !dev.ok) throw new Error('cannot open the benchmark pty');
  const block = new Uint8Array(8192).map((_, i) => (i * 31) & 0xff);
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < totalBytes; sent += block.length) dev.value.write(block);
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await host.value.close();
  await dev.value.close();
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
  return { bytesPerSecond: totalBytes / s };
}
