import fs from 'node:fs';

/**
 * How much of a WebAssembly memory of `byteLength` bytes is resident (MiB), from /proc/self/smaps: its
 * read-write mapping is exactly that long. The memory's own length cannot show a leak inside it until the
 * leak fills it; the resident part grows from the first leaked byte. Several memories of the same length
 * (one per reader thread) are listed each; null where /proc is not there.
 */
export function wasmResidentMiB(byteLength: number): number[] | null {
  let smaps: string;
  try {
    smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return null;
  }
  const sizeKb = byteLength / 1024;
  const out: number[] = [];
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = block.slice(0, block.indexOf('\n'));
    if (!/ rw-p /.test(head)) continue;
    if (Number(/\nSize:\s+(\d+) kB/.exec(block)?.[1]) !== sizeKb) continue;
    out.push(Math.round((Number(/\nRss:\s+(\d+) kB/.exec(block)?.[1] ?? 0) / 1024) * 10) / 10);
  }
  return out;
}
