/**
 * Connects a FirmwareSimulator to the driver in-process through @serialport/binding-mock: the driver opens a
 * SerialPortMock; what it writes goes to the firmware, what the firmware writes comes out of the port.
 * unplug()/plug() make the device vanish and return, as a USB cable would.
 */
import { MockBinding } from '@serialport/binding-mock';
import { SerialPortMock } from 'serialport';
import { err } from '../../lib/result';
import { wrapStream, type PortOpener } from '../serial/port';
import type { FirmwareSimulator } from './firmware-simulator';

let created = 0;

export interface MockLink {
  readonly path: string;
  readonly opener: PortOpener;
  unplug(): void;
  plug(): void;
}

export function mockLink(sim: FirmwareSimulator): MockLink {
  created += 1;
  const path = `/dev/tallyproof-mock-${process.pid}-${created}`;
  MockBinding.createPort(path, { echo: false, record: false });
  let plugged = true;
  let current: SerialPortMock | undefined;
  const opener: PortOpener = {
    async open(p, callbacks) {
      if (!plugged) return err(`${p}: no such device`);
      const port = new SerialPortMock({ path: p, baudRate: 115200, autoOpen: false });
      const r = await wrapStream(port, callbacks);
      if (!r.ok) return r;
      const binding = port.port;
      if (!binding) return err('mock port did not open');
      const write = binding.write.bind(binding);
      binding.write = async (buf: Buffer) => {
        await write(buf);
        if (current !== port) return;
        // Deliver after the driver's write completes, as bytes on a wire arrive after they were sent.
        setImmediate(() => sim.receive(new Uint8Array(buf)));
      };
      current = port;
      sim.attach((bytes) => {
        if (current === port && binding.isOpen) binding.emitData(Buffer.from(bytes));
      });
      return r;
    },
  };
  return {
    path,
    opener,
    unplug() {
      plugged = false;
      const port = current;
      current = undefined;
      sim.detach();
      if (port) port._disconnected(Object.assign(new Error('device unplugged'), { disconnected: true }));
    },
    plug() {
      plugged = true;
    },
  };
}
