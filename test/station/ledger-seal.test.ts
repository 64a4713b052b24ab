import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { readSignedHeadsFile, signedHeadsFile } from '../../app/ledger/signed-heads-file';
import { readHeadsFile, verifyLedgerFile } from '../../app/ledger/verify';
import { tempDir } from '../support/ballots';
import type { Rig } from './support/rig';
import { PINS, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs) await r.stop();
  rigs = [];
});

function eventsOf(file: string): Array<{ seq: number; ev: AuditEvent }> {
  const out: Array<{ seq: number; ev: AuditEvent }> = [];
  verifyLedgerFile(file, {}, { onEvent: (ev, seq) => out.push({ seq, ev }) });
  return out;
}

async function command(rig: Rig, c: Parameters<Rig['station']['command']>[0]['command']): Promise<string> {
  // the captain answers yes where the station asks (open, close, test mode); the polls open after the zero tape
  if (c === 'open-polls') await command(rig, 'print-zero-tape');
  const r = await rig.station.command({ command: c, confirm: true });
  if (!r.ok) throw new Error(`${c}: ${r.error.message}`);
  return r.value.message;
}

describe('the station seals its ledger at close and checks it at start-up (issue 14)', () => {
  it('close seals the official ledger; signed heads go to the second location at start, pause and close; a restart that lost state.json keeps the polls closed', async () => {
    const { dir: deck } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }]);
    const second = tempDir('station-heads');
    const rig = await startRig({ deck, signedHeadsDir: second });
    rigs.push(rig);
    const s = rig.station;
    await s.login({ role: 'captain', pin: PINS.captain });
    await command(rig, 'open-polls');
    await waitForStatus(s, (x) => x.counts.public === 2);
    await command(rig, 'pause-polls');
    await command(rig, 'resume-polls');
    expect(await command(rig, 'close-polls')).toMatch(/^Polls are closed: 2 ballot\(s\) in batch 1, root [0-9a-f]{64}, ledger sealed at entry \d+, head \d+ [0-9a-f]{64}\.$/);
    const layout = dataLayout(rig.dataDir);
    const file = layout.ledger('official');
    const v = verifyLedgerFile(file, { expectedHeads: readHeadsFile(layout.heads('official')), signedHeadsDir: second });
    expect(v.problem).toBeUndefined();
    expect(v.summary?.sealedAt).toBe(v.summary?.head.seq);
    const stationId = v.summary?.genesis.station.id as string;
    const lines = readSignedHeadsFile(signedHeadsFile(second, stationId, 'official'))?.lines ?? [];
    const reasons = lines.map((l) => /\nreason (\w+)\n$/.exec(l.statement)?.[1]);
    expect(reasons[0]).toBe('start');
    expect(reasons).toContain('pause');
    expect(reasons[reasons.length - 1]).toBe('seal');
    await rig.stop();
    rigs = [];

    // the station state is lost: the seal in the ledger is what says the polls are closed
    fs.rmSync(path.join(rig.dataDir, 'station', 'state.json'));
    const again = await startRig({ deck, dataDir: rig.dataDir, signedHeadsDir: second });
    rigs.push(again);
    expect(again.station.status().polls).toBe('closed');
    await again.station.login({ role: 'captain', pin: PINS.captain });
    expect((await again.station.command({ command: 'open-polls' })).ok).toBe(false);
    await command(again, 'print-results-tape');
    await command(again, 'verify-ledger');
    const after = verifyLedgerFile(file, { expectedHeads: readHeadsFile(layout.heads('official')), signedHeadsDir: second });
    expect(after.problem).toBeUndefined();
    expect(after.summary?.cast).toBe(2);
    expect(after.summary?.sealedAt).toBe(v.summary?.sealedAt);
    expect(eventsOf(file).filter((e) => e.seq > (v.summary?.sealedAt as number)).map((e) => e.ev.type)).toEqual(
      expect.arrayContaining(['software-started', 'login', 'tape-printed', 'ledger-verified']),
    );
  });

  it('entering test mode again clears the test ledger and its signed heads in the second location together', async () => {
    const { dir: deck } = await writeSheets([{ kind: 'normal', n: 4, mode: 'test' }]);
    const second = tempDir('station-heads');
    const rig = await startRig({ deck, signedHeadsDir: second, signHeadsEvery: 2 });
    rigs.push(rig);
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    await command(rig, 'enter-test-mode');
    await waitForStatus(rig.station, (x) => x.counts.public === 1);
    const file = dataLayout(rig.dataDir).ledger('test');
    expect(verifyLedgerFile(file, { signedHeadsDir: second }).summary?.signedHeads.size).toBeGreaterThan(0);
    await command(rig, 'enter-test-mode');
    const v = verifyLedgerFile(file, { signedHeadsDir: second });
    expect(v.problem).toBeUndefined();
    expect(v.summary?.cast).toBe(0);
    // the official polls open after leaving test mode and printing the official zero tape
    await command(rig, 'leave-test-mode');
    await command(rig, 'open-polls');
    expect(verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), { signedHeadsDir: second }).problem).toBeUndefined();
  });

  it('a write-ahead log cut short while the station was down raises the ledger alarm at start-up (the scanner stays off while it stands) and the ledger records it', async () => {
    const { dir: deck } = await writeSheets([{ kind: 'normal', n: 2 }, { kind: 'normal', n: 3 }]);
    const rig = await startRig({ deck });
    rigs.push(rig);
    const s = rig.station;
    await s.login({ role: 'captain', pin: PINS.captain });
    await command(rig, 'open-polls');
    await waitForStatus(s, (x) => x.counts.public === 2);
    // a running station's last entries: a failed login and a logout
    await s.logout();
    await s.login({ role: 'captain', pin: '000000' });
    // the files as a station killed outright leaves them
    const copy = tempDir('station-killed');
    fs.cpSync(rig.dataDir, copy, { recursive: true });
    const file = dataLayout(copy).ledger('official');
    fs.writeFileSync(`${file}.open`, `${spawnSync(process.execPath, ['-e', '']).pid}\n`);
    await rig.stop();
    rigs = [];
    const wal = `${file}-wal`;
    const page = fs.readFileSync(wal).readUInt32BE(8);
    fs.truncateSync(wal, fs.statSync(wal).size - (24 + page));

    const again = await startRig({ deck, dataDir: copy });
    rigs.push(again);
    const status = again.station.status();
    expect(status.attention).toMatch(new RegExp(`^LEDGER ALARM: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the write-ahead log's index says \\d+ frame\\(s\\) were committed, but only \\d+ can be read`));
    expect(status.attention).toContain('copies kept:');
    expect(status.counts.public).toBe(2);
    const damaged = eventsOf(file).filter((e) => e.ev.type === 'ledger-damaged');
    expect(damaged).toHaveLength(1);
    expect(damaged[0]?.ev.detail).toMatchObject({ mode: 'official', what: 'write-ahead-log' });
    const v = verifyLedgerFile(file);
    expect(v.ok).toBe(true);
    expect(v.unchecked?.some((u) => u.startsWith(`at entry ${damaged[0]?.seq} the station found its official ledger damaged at start-up`))).toBe(true);
    // the poll worker (or captain) clears it once the election office has been called
    await again.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] });
    await command(again, 'clear-alarm');
    expect(again.station.status().attention).toBeNull();
  });
});
