import { dataLayout } from '../../app/ledger/layout';
import { adjudicationState } from '../../app/ledger/adjudicated-tally';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ELECTION, PASSPHRASE, PINS, captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';
import { runCli } from '../support/cli';
import { tempDir } from '../support/ballots';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('adjudication at the station (the auditor screen’s calls)', () => {
  it('after the close an auditor lists the marginal mark, decides it, and the after tally counts it; nobody else, and not before', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', marginal: true }]);
    rig = await startRig({ deck: dir });
    const st = rig.station;
    await captainDoes(st, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(st, (s) => s.sheet?.outcome === 'awaiting-voter');
    expect((await st.voterDecision({ sheetId: held.sheet?.sheetId ?? '', decision: 'cast-as-is' })).ok).toBe(true);
    await waitForStatus(st, (s) => s.counts.public === 1);

    // before the close: refused, even for the auditor
    expect((await st.login({ role: 'auditor', pin: PINS.auditor })).ok).toBe(true);
    expect(await st.adjudicationList({})).toMatchObject({ ok: false, error: { code: 'polls-not-closed' } });
    await st.logout();
    await captainDoes(st, 'close-polls');

    // a poll worker may not
    expect((await st.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).ok).toBe(true);
    expect(await st.adjudicationList({})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await st.logout();

    expect((await st.login({ role: 'auditor', pin: PINS.auditor })).ok).toBe(true);
    const listed = await st.adjudicationList({});
    if (!listed.ok) throw new Error(listed.error.message);
    const marginal = truth[0]?.marks.find((m) => m.expected === 'marginal');
    if (marginal === undefined) throw new Error('the deck sheet has no marginal mark');
    const item = listed.value.items.find((i) => i.kind === 'marginal');
    expect(item).toMatchObject({ ballotId: truth[0]?.serial, contest: marginal.contestId, option: marginal.optionId, clip: { dataUrl: expect.stringMatching(/^data:image\/png;base64,/) } });
    // the clip is the oval and its option's name, cut from the kept scan: the light mark is there
    const png = Buffer.from(String((item?.clip as { dataUrl: string }).dataUrl).split(',')[1] ?? '', 'base64');
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBeGreaterThan(info.height * 3);
    expect([...data].filter((v) => v < 128).length).toBeGreaterThan(20);
    // the same clip from the command line, decrypted with the station key's passphrase
    const clips = tempDir('adjudication-clips');
    const cli = await runCli(['adjudicate', 'list', '--data', rig.dataDir, '--clips', clips, '--election', ELECTION, '--json'], undefined);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('TALLYPROOF_STATION_PASSPHRASE');
    fs.writeFileSync(path.join(clips, '..', 'pass-adj.txt'), `${PASSPHRASE}\n`);
    const withKey = await runCli(['adjudicate', 'list', '--data', rig.dataDir, '--clips', clips, '--election', ELECTION, '--passphrase-file', path.join(clips, '..', 'pass-adj.txt'), '--json']);
    expect(withKey.code).toBe(0);
    const listedCli = JSON.parse(withKey.stdout) as { items: Array<{ option: string | null; clip: { file?: string } }> };
    const clipFile = listedCli.items.find((i) => i.option === marginal.optionId)?.clip.file;
    expect(clipFile !== undefined && fs.readFileSync(clipFile).equals(png)).toBe(true);
    expect(item?.options.find((o) => o.id === marginal.optionId)).toMatchObject({ counted: false });
    if (item === undefined) throw new Error('no item');

    // bad input is refused with a sentence and records nothing
    expect(await st.adjudicate({ ballotId: item.ballotId, contest: item.contest, option: item.option, decision: 'write-in', name: 'X' })).toMatchObject({ ok: false, error: { code: 'not-adjudicable' } });
    expect(await st.adjudicate({ ballotId: 'bad', contest: item.contest, option: item.option, decision: 'counts' } as never)).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('12-character serial') } });

    const decided = await st.adjudicate({ ballotId: item.ballotId, contest: item.contest, option: item.option, decision: 'counts' });
    expect(decided).toMatchObject({ ok: true, value: { message: expect.stringMatching(/^Recorded \(ledger entry \d+\)/) } });
    expect(await st.adjudicate({ ballotId: item.ballotId, contest: item.contest, option: item.option, decision: 'not-counted' })).toMatchObject({ ok: false, error: { code: 'decided' } });
    const after = await st.adjudicationList({ all: true });
    expect(after.ok && after.value.items.find((i) => i.option === item.option)?.decision?.text).toBe('counts');
    await st.logout();

    const file = dataLayout(rig.dataDir).ledger('official');
    expect(verifyLedgerFile(file).summary?.adjudications).toBe(1);
    const t = adjudicationState(file).tally;
    const before = t?.before.contests.find((c) => c.id === item.contest);
    const afterC = t?.after.contests.find((c) => c.id === item.contest);
    if (before === undefined || afterC === undefined) throw new Error('no contest tally');
    // the mark now counts: a vote, or, where the voter had already used every vote, an overvote
    const counted = item.options.filter((o) => o.counted).length;
    if (counted + 1 <= before.seats) expect(afterC.votes[marginal.optionId]).toBe((before.votes[marginal.optionId] ?? 0) + 1);
    else expect([afterC.overvotedBallots, afterC.votes[marginal.optionId]]).toEqual([before.overvotedBallots + 1, 0]);
    expect(afterC.marginalBallots).toBe(before.marginalBallots - 1);
  });
});
