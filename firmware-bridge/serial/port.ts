/**
 * Opening a serial device as a plain byte pipe. The driver only needs write, close and two callbacks, so the
 * real port (a USB-serial adapter, a pty) and @serialport/binding-mock sit behind the same small interface.
 */
import { SerialPort } from 'serialport';
import { err, ok, type Result } from '../../lib/result';

export interface PortHandle {
  write(bytes: Uint8Array): void;
  close(): Promise<void>;
}

export interface PortCallbacks {
  onData(bytes: Uint8Array): void;
  /** The device went away (unplugged, pty closed) or the port failed. Called at most once per handle. */
  onClose(reason: string): void;
}

export interface PortOpener {
  open(path: string, callbacks: PortCallbacks): Promise<Result<PortHandle, string>>;
}

/** The subset of SerialPortStream both SerialPort and SerialPortMock offer. */
export interface StreamLike {
  open(cb: (e: Error | null) => void): void;
  write(data: Buffer, cb?: (e: Error | null | undefined) => void): boolean;
  close(cb?: (e: Error | null) => void): void;
  on(event: 'data', fn: (d: Buffer) => void): unknown;
  on(event: 'close' | 'error', fn: (e?: Error) => void): unknown;
  readonly isOpen: boolean;
}

export function wrapStream(port: StreamLike, callbacks: PortCallbacks): Promise<Result<PortHandle, string>> {
  return new Promise((resolve) => {
    let closed = false;
    const closeOnce = (reason: string): void => {
      if (closed) return;
      closed = true;
      callbacks.onClose(reason);
    };
    port.on('data', (d) => {
      if (!closed) callbacks.onData(d);
    });
    port.on('close', (e) => closeOnce(e ? `port closed: ${e.message}` : 'port closed'));
    port.on('error', (e) => {
      closeOnce(`port error: ${e?.message ?? 'unknown'}`);
      if (port.isOpen) port.close(() => undefined);
    });
    port.open((e) => {
      if (e) {
        closed = true;
        resolve(err(e.message));
        return;
      }
      resolve(
        ok({
          write(bytes) {
            if (closed) return;
            port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (we) => {
              if (we) closeOnce(`write failed: ${we.message}`);
            });
          },
          close() {
            closed = true;
            return new Promise<void>((res) => {
              if (!port.isOpen) return res();
              port.close(() => res());
            });
          },
        }),
      );
    });
  });
}

export const serialPortOpener = (baudRate = 115200): PortOpener => ({
  open(path, callbacks) {
    let port: SerialPort;
    try {
      port = new SerialPort({ path, baudRate, autoOpen: false, hupcl: false });
    } catch (e) {
      return Promise.resolve(err((e as Error).message));
    }
    return wrapStream(port, callbacks);
  },
});
