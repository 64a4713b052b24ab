import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadElection } from '../../ballots/election';
import { encodeVotingId } from '../../ballots/identity/voting-id';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture } from '../../app/ledger/record';
import type { SheetDetail } from '../../app/ledger/sheet-detail';
import { loadOrCreateStationKey } from '../../app/ledger/station-key';
import { contestMap } from '../../app/station/election-package';
import { runCli } from '../support/cli';
import { tempDir } from '../ledger/fixtures';

const MUNICIPAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'municipal.json');
const CHEAP = { N: 1 << 10, r: 8, p: 1 };
const PASS = 'correct horse battery';

const election = (() => {
  const r = loadElection(MUNICIPAL);
  if (!r.ok) throw new Error('municipal.json does not load');
  return r.value;
})();
const CONTESTS = contestMap(election);
const VOTING_ID = encodeVotingId({ electionHashPrefix: election.hash.slice(0, 16), precinctId: 'p-101', styleId: 'ward-1', side: 'front', mode: 'official' });

/** contest index → [marked options, marginal options]; ward-1 has mayor (0), council-at-large (1), council-ward-1 (2), measure-a (4). */
function ballot(ballotId: string, marks: Record<number, [number[], number[]]>, withDetail: boolean): BallotCapture {
  const contests = Object.entries(marks).map(([k, [options, marginal]]) => {
    const contest = Number(k);
    const def = CONTESTS[contest] as { options: string[]; seats: number };
    return { contest, options, overvote: options.length > def.seats, undervote: options.length < def.seats, marginal: marginal.length > 0, writeIn: options.some((o) => /^write-in-/.test(def.options[o] as string)) };
  });
  const detail: SheetDetail = {
    sides: [{ imageId: crypto.randomBytes(16).toString('hex'), sha256: new Uint8Array(crypto.createHash('sha256').update(ballotId).digest()), kept: false }],
    contests: Object.entries(marks).map(([k, [options, marginal]]) => ({ contest: Number(k), scores: (CONTESTS[Number(k)] as { options: string[] }).options.map((_, i) => (options.includes(i) ? 9000 : marginal.includes(i) ? 2500 : 100)), marginal })),
  };
  return {
    ballotId,
    votingId: VOTING_ID,
    mode: 'official',
    castAsIs: true,
    imageSha256: new Uint8Array(crypto.createHash('sha256').update(ballotId).digest()),
    readerVersion: 1,
    calibrationVersion: 1,
    contests,
    ...(withDetail ? { detail } : {}),
  };
}

const N1 = 'N00000000001';
const N2 = 'N00000000002';
const O1 = 'R00000000001';

/** A station data directory after the close: key, sealed official ledger with ballots that need decisions. */
function closedStation(seal = true): { dir: string } {
  const dir = tempDir('adjudicate-cli-');
  const layout = dataLayout(dir);
  const key = loadOrCreateStationKey(layout.stationKey, 'station-3', PASS, CHEAP);
  const l = Ledger.create(layout.ledger('official'), {
    format: 'tallyproof-ledger/1',
    mode: 'official',
    election: { hash: election.hash, title: election.definition.election.title, contests: CONTESTS },
    station: { id: 'station-3', number: 3, publicKey: Buffer.from(key.publicKey).toString('hex') },
  });
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  for (const b of [
    // a light mark for zoe-odegard in mayor, nothing counted there
    ballot(N1, { 0: [[], [1]], 1: [[0, 1], []], 2: [[0], []], 4: [[0], []] }, true),
    // mayor and council-at-large write-ins marked; a marginal write-in in council-ward-1
    ballot(N2, { 0: [[3], []], 1: [[2, 5], []], 2: [[], [2]], 4: [[1], []] }, true),
    // recorded without sheet detail (pending format 1): a marginal mark somewhere in mayor
    ballot(O1, { 0: [[0], [2]], 1: [[0, 3], []], 2: [[1], []], 4: [[0], []] }, false),
  ]) {
    const p = l.appendPending(b);
    if (!p.ok) throw new Error(`append: ${JSON.stringify(p.error)}`);
    l.confirmCast(p.value.seq);
  }
  l.recordEvent({ type: 'polls-closed', role: 'captain' });
  if (!l.closeBatch(key).ok) throw new Error('close');
  if (seal && !l.seal(key).ok) throw new Error('seal');
  l.close();
  fs.writeFileSync(path.join(dir, 'pass.txt'), `${PASS}\n`);
  return { dir };
}

interface Listed {
  decisions: number;
  undecided: number;
  items: Array<{ ballotId: string; contest: string; option: string | null; kind: string; decision?: unknown; clip?: { file?: string; why?: string } }>;
}

describe('tallyproof adjudicate', () => {
  it('lists the items, records decisions signed with the station key, and the tally changes only through them', async () => {
    const { dir } = closedStation();
    const listed = await runCli(['adjudicate', 'list', '--data', dir, '--json']);
    expect(listed.code).toBe(0);
    const before = JSON.parse(listed.stdout) as Listed;
    expect(before.items.map((i) => `${i.ballotId} ${i.contest}/${i.option ?? '*'} ${i.kind}`)).toEqual([
      `${N1} mayor/zoe-odegard marginal`,
      `${N2} mayor/write-in-1 write-in`,
      `${N2} council-at-large/write-in-1 write-in`,
      `${N2} council-ward-1/write-in-1 write-in`,
      `${O1} mayor/* contest-marginal`,
    ]);
    expect(before.undecided).toBe(5);

    const heads = fs.mkdtempSync(path.join(dir, 'heads-'));
    const decide = (...args: string[]) => runCli(['adjudicate', 'decide', '--data', dir, '--passphrase-file', path.join(dir, 'pass.txt'), ...args, '--heads', heads]);
    const d1 = await decide('--ballot', N1, '--contest', 'mayor', '--option', 'zoe-odegard', '--counts');
    expect(d1.stderr).toBe('');
    expect(d1.code).toBe(0);
    expect(JSON.parse(d1.stdout)).toMatchObject({ ballot: N1, contest: 'mayor', option: 'zoe-odegard', decision: { kind: 'counts' }, adjudicator: { role: 'auditor' }, signedHead: expect.any(Number) });
    const d2 = await decide('--ballot', N2.toLowerCase(), '--contest', 'council-ward-1', '--option', 'write-in-1', '--write-in', '  Ada   Lovelace ', '--role', 'captain');
    expect(d2.code).toBe(0);
    expect(JSON.parse(d2.stdout)).toMatchObject({ decision: { kind: 'write-in', name: 'Ada Lovelace' }, adjudicator: { role: 'captain' } });
    // each decision's signed head reached the second location too: the ledger verifies against it
    expect(fs.readdirSync(heads).length).toBeGreaterThan(0);
    expect((await runCli(['ledger', 'verify', '--data', dir, '--heads', heads])).code).toBe(0);
    expect((await decide('--ballot', N2, '--contest', 'mayor', '--option', 'write-in-1', '--not-a-vote')).code).toBe(0);
    expect((await decide('--ballot', O1, '--contest', 'mayor', '--whole-contest', '--marks', '-')).code).toBe(0);

    const again = await decide('--ballot', N1, '--contest', 'mayor', '--option', 'zoe-odegard', '--not-counted');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not recorded \(decided\): ballot N00000000001, contest "mayor", option "zoe-odegard" was already decided \(entry \d+\)/);

    const verified = await runCli(['ledger', 'verify', '--data', dir, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, adjudications: 4 });

    const tally = await runCli(['ledger', 'tally', '--data', dir]);
    expect(tally.code).toBe(0);
    const t = JSON.parse(tally.stdout) as {
      contests: Array<{ id: string; votes: Record<string, number> }>;
      adjudication: { after: { contests: Array<{ id: string; votes: Record<string, number> }> }; writeIns: Array<{ id: string; writeInNames: Record<string, Record<string, number>> }>; undecided: number };
    };
    const votes = (list: Array<{ id: string; votes: Record<string, number> }>, id: string) => list.find((c) => c.id === id)?.votes;
    expect(votes(t.contests, 'mayor')).toEqual({ 'jose-nunez': 1, 'zoe-odegard': 0, 'vladimir-petrov': 0, 'write-in-1': 1 });
    expect(votes(t.adjudication.after.contests, 'mayor')).toEqual({ 'jose-nunez': 1, 'zoe-odegard': 1, 'vladimir-petrov': 0, 'write-in-1': 0 });
    expect(votes(t.adjudication.after.contests, 'council-ward-1')).toMatchObject({ 'francois-lefevre': 1, 'grace-okafor': 1, 'write-in-1': 1 });
    expect(t.adjudication.writeIns.find((w) => w.id === 'council-ward-1')?.writeInNames).toEqual({ 'write-in-1': { 'Ada Lovelace': 1 } });
    expect(t.adjudication.undecided).toBe(1);

    const after = JSON.parse((await runCli(['adjudicate', 'list', '--data', dir, '--json', '--all'])).stdout) as Listed;
    expect(after.items.filter((i) => i.decision === undefined).map((i) => `${i.ballotId} ${i.contest}/${i.option}`)).toEqual([`${N2} council-at-large/write-in-1`]);
    const text = await runCli(['adjudicate', 'list', '--data', dir]);
    expect(text.stdout).toContain('1 item(s) waiting for a decision, 4 decided');
    expect(text.stdout).toContain(`${N2}  council-at-large/write-in-1 (write-in)  counted: chen-wei,write-in-1  undecided`);
  });

  it('writes clips where a scan was kept and says why for each item where none was', async () => {
    const { dir } = closedStation();
    const clips = path.join(dir, 'clips');
    expect((await runCli(['adjudicate', 'list', '--data', dir, '--clips', clips])).code).toBe(2);
    const r = await runCli(['adjudicate', 'list', '--data', dir, '--clips', clips, '--election', MUNICIPAL, '--passphrase-file', path.join(dir, 'pass.txt'), '--json']);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as Listed;
    expect(listed.items.map((i) => i.clip?.why)).toEqual([
      expect.stringContaining('was not kept'),
      expect.stringContaining('was not kept'),
      expect.stringContaining('was not kept'),
      expect.stringContaining('was not kept'),
      expect.stringContaining('recorded before the station kept per-sheet detail'),
    ]);
    const other = path.join(dir, 'general.json');
    fs.copyFileSync(path.join(path.dirname(MUNICIPAL), 'general.json'), other);
    const wrong = await runCli(['adjudicate', 'list', '--data', dir, '--clips', clips, '--election', other, '--passphrase-file', path.join(dir, 'pass.txt')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("is not the ledger's");
  });

  it('refuses bad input with a clear error and records nothing', async () => {
    const { dir } = closedStation();
    const file = dataLayout(dir).ledger('official');
    const entries = () => fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
    const base = ['adjudicate', 'decide', '--data', dir, '--passphrase-file', path.join(dir, 'pass.txt'), '--ballot', N1, '--contest', 'mayor', '--without-second-location'];
    const size = entries();
    const cases: Array<[string[], number, RegExp]> = [
      [[...base, '--option', 'zoe-odegard'], 2, /give exactly one decision/],
      [[...base, '--option', 'zoe-odegard', '--counts', '--not-counted'], 2, /give exactly one decision: .* got 2/],
      [[...base, '--counts'], 2, /give --option <id> or --whole-contest/],
      [[...base, '--option', 'zoe-odegard', '--whole-contest', '--counts'], 2, /give --option <id> or --whole-contest/],
      [[...base, '--option', 'zoe-odegard', '--write-in', '   '], 2, /--write-in: the write-in name is empty/],
      [[...base, '--option', 'zoe-odegard', '--counts', '--role', 'poll-worker'], 2, /poll-worker/],
      [[...base, '--whole-contest', '--marks', 'a,,b'], 2, /--marks: give option ids/],
      [['adjudicate', 'decide', '--data', path.join(dir, 'nope'), '--ballot', N1, '--contest', 'mayor', '--option', 'x', '--counts', '--without-second-location'], 1, /no such station data directory/],
      // a decision cut off the end of the ledger, with its signed head, is seen only against the second location
      [base.filter((a) => a !== '--without-second-location').concat(['--option', 'zoe-odegard', '--counts']), 2, /adjudicate decide needs --heads <dir>, the second location of the station's signed heads/],
      [[...base, '--heads', dir, '--option', 'zoe-odegard', '--counts'], 2, /give --heads <dir> or --without-second-location, not both/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await runCli(argv);
      expect(`${r.code} ${r.stderr}`).toMatch(new RegExp(`^${code} [\\s\\S]*${message.source}`));
    }
    const noPass = await runCli(base.filter((a, i) => a !== '--passphrase-file' && base[i - 1] !== '--passphrase-file').concat(['--option', 'zoe-odegard', '--counts']));
    expect(noPass.code).toBe(1);
    expect(noPass.stderr).toContain('TALLYPROOF_STATION_PASSPHRASE');
    fs.writeFileSync(path.join(dir, 'wrong.txt'), 'not the passphrase\n');
    const wrongPass = await runCli([...base.slice(0, 4), '--passphrase-file', path.join(dir, 'wrong.txt'), ...base.slice(6), '--option', 'zoe-odegard', '--counts']);
    expect(wrongPass.code).toBe(1);
    expect(wrongPass.stderr).toContain('wrong passphrase for the station key');
    expect(entries()).toBe(size);
    // the ledger's own refusals: an option with no marginal mark, a ballot never cast
    const unmarginal = await runCli([...base, '--option', 'jose-nunez', '--counts']);
    expect(unmarginal.code).toBe(1);
    expect(unmarginal.stderr).toMatch(/not recorded \(not-adjudicable\): option "jose-nunez" in contest "mayor" is not a marginal mark on ballot N00000000001/);
    const ghost = await runCli([...base.slice(0, 6), '--ballot', 'Z99999999999', '--contest', 'mayor', '--option', 'zoe-odegard', '--counts', '--without-second-location']);
    expect(ghost.stderr).toMatch(/not recorded \(not-cast\): ballot Z99999999999 was not cast/);
    const oldFormat = await runCli([...base.slice(0, 6), '--ballot', O1, '--contest', 'mayor', '--option', 'vladimir-petrov', '--counts', '--without-second-location']);
    expect(oldFormat.stderr).toMatch(/recorded without per-sheet detail/);
    expect((await runCli(['ledger', 'verify', '--data', dir])).code).toBe(0);
  });

  it('refuses before the close, and while the station has the ledger open', async () => {
    const open = closedStation(false);
    const argv = (dir: string) => ['adjudicate', 'decide', '--data', dir, '--passphrase-file', path.join(dir, 'pass.txt'), '--ballot', N1, '--contest', 'mayor', '--option', 'zoe-odegard', '--counts', '--without-second-location'];
    const early = await runCli(argv(open.dir));
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('the polls have not closed (the ledger is not sealed)');
    const { dir } = closedStation();
    const station = Ledger.open(dataLayout(dir).ledger('official'));
    try {
      station.recordEvent({ type: 'login', role: 'auditor' });
      const busy = await runCli(argv(dir));
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain('has this ledger open: decide on its auditor screen');
    } finally {
      station.close();
    }
  });
});
