import fs from 'node:fs';
import path from 'node:path';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { PINS, captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('the polls state survives a restart, and opening needs an empty official ledger', () => {
  it('resumes paused after a restart; with the state file lost, opening and test mode are refused because official ballots exist', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const dataDir = rig.dataDir;
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 1);
    await captainDoes(rig.station, 'pause-polls');
    await rig.stop();

    rig = await startRig({ deck: dir, dataDir });
    // the count comes from the ledger, the polls state from the state file
    expect(rig.station.status()).toMatchObject({ polls: 'paused', counts: { public: 1, lifetime: 1 } });
    await rig.stop();

    // the state file is lost: the station comes up configured, but the ledger still holds a ballot
    fs.rmSync(path.join(dataDir, 'station', 'state.json'));
    rig = await startRig({ deck: dir, dataDir });
    expect(rig.station.status().polls).toBe('configured');
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    const open = await rig.station.command({ command: 'open-polls' });
    expect(open).toEqual({ ok: false, error: { code: 'official-ballots-exist', message: expect.stringContaining('1 ballot') } });
    expect((await rig.station.command({ command: 'enter-test-mode', confirm: true })).ok).toBe(false);
    // both attempts are in the ledger, once each, with the reason
    const refused: { role: string; detail: Record<string, unknown> }[] = [];
    verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e) => e.type === 'command-refused' && refused.push({ role: e.role, detail: e.detail }) });
    expect(refused).toEqual([
      { role: 'captain', detail: { command: 'open-polls', code: 'official-ballots-exist', polls: 'configured', reason: expect.stringContaining('already holds 1 ballot') } },
      { role: 'captain', detail: { command: 'enter-test-mode', code: 'official-ballots-exist', polls: 'configured', reason: expect.stringContaining('1 official ballot(s) are already counted') } },
    ]);
    expect(fs.existsSync(dataLayout(dataDir).ledger('test'))).toBe(false);
    expect(verifyLedgerFile(dataLayout(dataDir).ledger('official')).summary?.cast).toBe(1);
  });

  it('a data directory made for one election refuses another, naming it', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const dataDir = rig.dataDir;
    await rig.stop();
    rig = undefined;
    const other = path.join(path.dirname(dataDir), `${path.basename(dataDir)}-other.json`);
    const def = JSON.parse(fs.readFileSync(path.join(dataDir, 'election', 'election.json'), 'utf8')) as { election: { id: string; title: string } };
    def.election.id = 'other-2027';
    def.election.title = 'Another Election';
    fs.writeFileSync(other, JSON.stringify(def));
    await expect(startRig({ deck: dir, dataDir, election: other })).rejects.toThrow(/configured for "Springfield Municipal Election" \(springfield-2026\).*not for "Another Election" \(other-2027\)/);
    // nothing of the first election was replaced
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'election', 'election.json'), 'utf8')).election.id).toBe('springfield-2026');
  });

  it('close-polls closes the batch and records the head; the auditor can then verify and export', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal' }, { kind: 'normal', n: 1 }]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 2);
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    const closed = await rig.station.command({ command: 'close-polls', confirm: true });
    expect(closed.ok && closed.value.message).toMatch(/Polls are closed: 2 ballot\(s\) in batch 1, root [0-9a-f]{64}/);
    const publish = await rig.station.command({ command: 'publish', confirm: true });
    expect(publish.ok).toBe(false);
    await rig.station.logout();
    await rig.station.login({ role: 'auditor', pin: PINS.auditor });
    const v = await rig.station.command({ command: 'verify-ledger' });
    expect(v.ok && v.value.message).toMatch(/^official: ok, \d+ entries, 2 cast/);
    const e = await rig.station.command({ command: 'export-bundle' });
    expect(e).toEqual({ ok: true, value: expect.objectContaining({ message: expect.stringMatching(/^Exported 2 record/) }) });
    if (e.ok) expect(fs.existsSync(path.join(e.value.file ?? '', 'manifest.json'))).toBe(true);
    const found = await rig.station.lookupBallot({ ballotId: truth[1]!.serial });
    expect(found.ok && found.value).toMatchObject({ state: 'cast', batch: 1 });
    const heads = fs.readFileSync(dataLayout(rig.dataDir).heads('official'), 'utf8');
    expect(heads).toMatch(/polls closed, batch 1/);
  });
});
