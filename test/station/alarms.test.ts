import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { faultsAt } from '../../firmware-bridge/simulator/faults';
import type { Rig } from './support/rig';
import { captainDoes, paperLocations, startRig, waitForStatus, waitUntil, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig;
afterEach(async () => rig?.stop());

const alarmLog = (r: Rig): string[] => r.events.flatMap((e) => (e.type === 'alarm' ? [`${e.alarm}:${e.active}`] : []));

describe('scanner alarms', () => {
  it('cover opened while a ballot is held: alarm and cue, the drop waits, closing the cover lets it count', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir, faults: faultsAt({ 0: { kind: 'cover-open', stage: 'held' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const open = await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('cover-open'));
    expect(open.counts.public).toBe(0);
    expect(rig.events.some((e) => e.type === 'cue' && e.cue === 'alarm')).toBe(true);
    // the station recorded the ballot and asked for the drop; the scanner refused with the cover open
    await waitUntil(() => verifyLedgerFile(dataLayout(rig.dataDir).ledger('official')).summary?.pending === 1);
    expect(rig.sim.state.path).toBe('held');
    rig.sim.closeCover();
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(s.scanner.alarms).toEqual([]);
    expect(alarmLog(rig)).toEqual(['cover-open:true', 'cover-open:false']);
    expect(await paperLocations(rig, 1)).toEqual(['box']);
  });

  it('box full: the next ballot goes back uncounted, feeding stops; once emptied the voter feeds it again and it counts', async () => {
    // the third sheet is the second ballot fed again
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 1 }]);
    rig = await startRig({ deck: dir, boxCapacity: 1 });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('box-full') && s.counts.public === 1);
    // feeding stops while the box is full: the second ballot waits at the entry, or was given back uncounted
    await waitUntil(() => !rig.sim.state.feedEnabled);
    const before = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official')).summary;
    expect(before?.cast).toBe(1);
    expect(before?.pending).toBe(0);
    rig.sim.emptyBox();
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 2 && x.scanner.alarms.length === 0);
    expect(s.counts.public).toBe(2);
    expect(alarmLog(rig)).toEqual(['box-full:true', 'box-full:false']);
    const locations = await paperLocations(rig, rig.sim.physical.length);
    expect(locations.filter((l) => l === 'box')).toHaveLength(2);
  });
});
