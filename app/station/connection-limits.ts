/**
 * Bounds on what local programs can hold open on the headless server. Every socket is a file descriptor of
 * the station's one process, the same pool the scanner link, the ledger's SQLite files and the sheet
 * journal draw from: a program opening sockets or event streams without end would otherwise starve the
 * station of descriptors (requests dropped, ballots not journaled, the scanner link lost). So the server
 * holds at most `maxSockets` sockets and `maxStreams` public event streams, and a newcomer over the limit
 * pushes out the oldest one that is not the signed-in or voter screen's: the screens' own connections, once
 * they have shown their cookie, are never pushed out by strangers.
 */
import fs from 'node:fs';
import type http from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** open sockets in all (default 256) */
  readonly maxSockets: number;
  /** event streams of readers that are neither the signed-in browser nor the voter screen (default 32) */
  readonly maxStreams: number;
  /** event streams of the signed-in browser and the voter screen together (default 8: a few tabs, reloads) */
  readonly maxScreenStreams: number;
  /** bytes an event stream may have waiting for a reader that does not read before it is cut (default 256 KiB) */
  readonly maxStreamBacklog: number;
  /**
   * a socket that sends no request for this long is closed (default 10 s; node's own header and keep-alive
   * time-outs start only once a request begins or ends)
   */
  readonly idleSocketMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxSockets: 256, maxStreams: 32, maxScreenStreams: 8, maxStreamBacklog: 256 * 1024, idleSocketMs: 10_000 };

/** Descriptors kept for the station's own work (scanner link, ledgers, journal, tapes, reader threads). */
export const RESERVED_FDS = 128;

/**
 * The socket limit for a process that may open `fdLimit` descriptors (`ulimit -n`): 256, or less where the
 * limit would leave the station fewer than RESERVED_FDS of its own.
 */
export function socketLimitFor(fdLimit: number | null): number {
  if (fdLimit === null) return DEFAULT_CONNECTION_LIMITS.maxSockets;
  return Math.max(16, Math.min(DEFAULT_CONNECTION_LIMITS.maxSockets, fdLimit - RESERVED_FDS));
}

/** This process's soft limit on open descriptors (Linux), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]);
  } catch {
    return null;
  }
}

type SocketUse = 'idle' | 'request' | 'stream';

/**
 * The server's sockets, oldest first. Over the limit, the one pushed out is the oldest idle socket, else
 * the oldest event stream, else the oldest request in progress, and never one that showed a screen's
 * cookie: a stranger's flood of sockets or streams pushes out its own older ones, not a sign-in waiting for
 * its answer or a connection that opened just now.
 */
export class SocketPool {
  private readonly sockets = new Map<Socket, { screen: boolean; use: SocketUse }>();

  constructor(
    server: http.Server,
    private readonly max: number,
    private readonly idleMs: number,
  ) {
    server.on('connection', (s: Socket) => this.admit(s));
    // before the request handler, which may turn the request into a stream
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      // a request in progress may take long (a tape, publishing): only a socket between requests is idle
      socket.setTimeout(0);
      this.use(socket, 'request');
      res.once('close', () => this.use(socket, 'idle'));
    });
  }

  get size(): number {
    return this.sockets.size;
  }

  private admit(socket: Socket): void {
    this.sockets.set(socket, { screen: false, use: 'idle' });
    socket.once('close', () => this.sockets.delete(socket));
    // the http server's own time-out handler destroys the socket when this fires
    socket.setTimeout(this.idleMs);
    if (this.sockets.size <= this.max) return;
    for (const use of ['idle', 'stream', 'request'] as const) {
      for (const [s, info] of this.sockets) {
        if (!info.screen && info.use === use && s !== socket) {
          this.drop(s);
          return;
        }
      }
    }
    this.drop(socket);
  }

  private drop(socket: Socket): void {
    this.sockets.delete(socket);
    socket.destroy();
  }

  private use(socket: Socket, use: SocketUse): void {
    const info = this.sockets.get(socket);
    if (info !== undefined) info.use = use;
  }

  /** The socket carries an event stream (open until the reader or the server ends it). */
  markStream(socket: Socket): void {
    this.use(socket, 'stream');
  }

  /** The socket carried a request with the signed-in browser's or the voter screen's cookie. */
  markScreen(socket: Socket): void {
    const info = this.sockets.get(socket);
    if (info !== undefined) info.screen = true;
  }
}

/** A set of open streams with a limit: adding one over it ends the oldest. */
export class StreamSet<T> {
  private readonly items = new Set<T>();
  constructor(
    private readonly max: number,
    private readonly end: (item: T) => void,
  ) {}

  get size(): number {
    return this.items.size;
  }

  add(item: T): void {
    this.items.add(item);
    while (this.items.size > this.max) {
      const oldest = this.items.values().next();
      if (oldest.done === true) return;
      this.items.delete(oldest.value);
      this.end(oldest.value);
    }
  }

  delete(item: T): void {
    this.items.delete(item);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  clear(): void {
    this.items.clear();
  }
}
