/**
 * A gate on loopback in front of a county log: every read passes through, and each `POST /add-entry` is held
 * until the test opens the gate, as a log holds a submission until its round integrates it (seconds, with
 * `county serve`'s rounds). The test can thus look at the station while its report is in flight.
 */
import http from 'node:http';

export interface LogGate {
  readonly url: string;
  /** resolves when the first submission arrived (and is held) */
  readonly posted: Promise<void>;
  /** lets the held submissions and every later one through to the log */
  open(): void;
  close(): Promise<void>;
}

export async function startLogGate(target: string): Promise<LogGate> {
  let opened = false;
  const held: (() => void)[] = [];
  let arrived: () => void = () => undefined;
  const posted = new Promise<void>((resolve) => (arrived = resolve));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = (): void => {
        const body = req.method === 'POST' ? Buffer.concat(chunks) : undefined;
        fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', ...(body === undefined ? {} : { body }) }).then(
          async (up) => {
            const type = up.headers.get('content-type');
            const retry = up.headers.get('retry-after');
            res.writeHead(up.status, { ...(type === null ? {} : { 'Content-Type': type }), ...(retry === null ? {} : { 'Retry-After': retry }) });
            res.end(Buffer.from(await up.arrayBuffer()));
          },
          () => res.destroy(),
        );
      };
      if (req.method === 'POST' && !opened) {
        held.push(forward);
        arrived();
      } else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    posted,
    open() {
      opened = true;
      for (const f of held.splice(0)) f();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
