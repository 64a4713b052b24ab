import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readCastSheetDetails } from '../../app/ledger/cast-sheet-details';
import type { ImageDisposition } from '../../app/ledger/image-store';
import { FIXED_FILE_TIME } from '../../app/ledger/image-store';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { needsAdjudication } from '../../app/station/sheet-images';
import { loadStationConfig } from '../../app/station/station-config';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';
import { stationImageStore } from './support/images';
import type { Rig, SheetSpec } from './support/rig';
import { PASSPHRASE, captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

/**
 * A day's pile with every disposition: a counted ballot, an overvote the voter takes back, a ballot of another
 * election (rejected), the first ballot fed again (the ledger refuses the duplicate: rejected after its
 * pending entry was attempted), a marginal mark cast as is.
 */
const PILE: readonly SheetSpec[] = [{ kind: 'normal' }, { kind: 'overvote' }, { kind: 'wrong-election' }, { kind: 'normal' }, { kind: 'normal', n: 3, marginal: true }];

async function runPile(imageRetention?: 'all' | 'adjudication' | 'none'): Promise<{ truth: Awaited<ReturnType<typeof writeSheets>>['truth'] }> {
  const { dir, truth } = await writeSheets(PILE);
  rig = await startRig({ deck: dir, ...(imageRetention !== undefined ? { imageRetention } : {}) });
  await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
  const overvote = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
  expect((await rig.station.voterDecision({ sheetId: overvote.sheet?.sheetId ?? '', decision: 'return' })).ok).toBe(true);
  const marginal = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter' && s.sheet.sheetId !== overvote.sheet?.sheetId);
  expect((await rig.station.voterDecision({ sheetId: marginal.sheet?.sheetId ?? '', decision: 'cast-as-is' })).ok).toBe(true);
  const done = await waitForStatus(rig.station, (s) => s.counts.public === 2 && s.counts.rejected === 2 && s.counts.returned === 1);
  expect(done.counts).toMatchObject({ public: 2, returned: 1, rejected: 2 });
  expect(verifyLedgerFile(dataLayout(rig.dataDir).ledger('official')).ok).toBe(true);
  return { truth };
}

function dispositions(dataDir: string): ImageDisposition[] {
  const store = stationImageStore(dataDir);
  return store
    .list()
    .map((id) => {
      const r = store.get(id);
      if (!r.ok) throw r.error;
      return r.value.meta.disposition;
    })
    .sort();
}

describe('which scans the station keeps (imageRetention)', () => {
  it('all (the default): every sheet, recorded, returned and rejected, flagged as such; each cast side matches the ledger', async () => {
    await runPile();
    const file = dataLayout(rig.dataDir).ledger('official');
    const store = stationImageStore(rig.dataDir);
    const cast = readCastSheetDetails(file);
    expect(cast).toHaveLength(2);
    for (const b of cast) {
      for (const side of b.detail?.sides ?? []) {
        expect(side.kept).toBe(true);
        const img = store.get(side.imageId, side.sha256);
        expect(img.ok && img.value.meta.disposition).toBe('recorded');
        expect(fs.statSync(store.pathOf(side.imageId)).mtimeMs).toBe(FIXED_FILE_TIME.getTime());
      }
    }
    // one side each: two cast, the overvote returned, the other election's ballot and the duplicate rejected
    expect(dispositions(rig.dataDir)).toEqual(['recorded', 'recorded', 'rejected', 'rejected', 'returned']);
    expect(fs.statSync(dataLayout(rig.dataDir).images).mode & 0o777).toBe(0o700);
  });

  it('adjudication: only recorded sheets with a marginal mark or a marked write-in; the others keep their hash only', async () => {
    const { truth } = await runPile('adjudication');
    const store = stationImageStore(rig.dataDir);
    const cast = readCastSheetDetails(dataLayout(rig.dataDir).ledger('official'));
    const byBallot = new Map(truth.map((t) => [t.serial, t]));
    let kept = 0;
    for (const b of cast) {
      const t = byBallot.get(b.ballotId);
      if (t === undefined) throw new Error(`ballot ${b.ballotId} is not in the pile`);
      const wanted = needsAdjudication({ contests: t.expected.contests });
      for (const side of b.detail?.sides ?? []) {
        expect(side.kept).toBe(wanted);
        expect(store.get(side.imageId, side.sha256).ok).toBe(wanted);
        if (wanted) kept += 1;
      }
    }
    expect(kept).toBeGreaterThan(0);
    expect(dispositions(rig.dataDir)).toEqual(Array.from({ length: kept }, () => 'recorded'));
  });

  it('none: no image file at all; the ledger still has every side hashed under a random image ID', async () => {
    await runPile('none');
    expect(fs.existsSync(dataLayout(rig.dataDir).images)).toBe(false);
    const cast = readCastSheetDetails(dataLayout(rig.dataDir).ledger('official'));
    expect(cast).toHaveLength(2);
    for (const b of cast) {
      expect(b.detail?.sides.length).toBe(1);
      for (const side of b.detail?.sides ?? []) {
        expect(side.kept).toBe(false);
        expect(side.imageId).toMatch(/^[0-9a-f]{32}$/);
      }
    }
  });

  it('tallyproof images export: the auditor with the passphrase gets each cast side as scanned, checked against the ledger', async () => {
    const { truth } = await runPile();
    await rig.stop();
    const data = rig.dataDir;
    const pass = path.join(tempDir('pass'), 'passphrase');
    fs.writeFileSync(pass, `${PASSPHRASE}\n`);
    const cast = readCastSheetDetails(dataLayout(data).ledger('official'));
    const out = path.join(tempDir('images-out'), 'all');
    const r = await runCli(['images', 'export', '--data', data, '--out', out, '--passphrase-file', pass]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ out, exported: 2, notKept: 0, noDetail: 0, failed: 0 });
    const listed = JSON.parse(fs.readFileSync(path.join(out, 'images.json'), 'utf8')) as { images: { ballotId: string; file: string; sha256: string; imageId: string }[] };
    expect(listed.images.map((i) => i.ballotId).sort()).toEqual(cast.map((c) => c.ballotId).sort());
    for (const i of listed.images) {
      const bytes = fs.readFileSync(path.join(out, i.file));
      expect(i.file).toMatch(/^[0-9A-Z]{12}-side1\.png$/);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(i.sha256);
      expect(cast.find((c) => c.ballotId === i.ballotId)?.detail?.sides.map((x) => Buffer.from(x.sha256).toString('hex'))).toEqual([i.sha256]);
      expect(fs.statSync(path.join(out, i.file)).mode & 0o777).toBe(0o600);
    }

    const one = truth[0]?.serial ?? '';
    const single = path.join(tempDir('images-out'), 'one');
    expect((await runCli(['images', 'export', '--data', data, '--out', single, '--ballot', one.toLowerCase(), '--passphrase-file', pass])).code).toBe(0);
    expect(fs.readdirSync(single).sort()).toEqual([`${one}-side1.png`, 'images.json']);
    const again = await runCli(['images', 'export', '--data', data, '--out', single, '--passphrase-file', pass]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('the output directory already holds files');
    const notCast = await runCli(['images', 'export', '--data', data, '--out', path.join(tempDir('images-out'), 'x'), '--ballot', 'ZZZZZZZZZZZZ', '--passphrase-file', pass]);
    expect(notCast.stderr).toContain('ballot ZZZZZZZZZZZZ is not a cast ballot of this ledger');

    const wrong = path.join(tempDir('pass'), 'wrong');
    fs.writeFileSync(wrong, 'not the passphrase\n');
    const refused = await runCli(['images', 'export', '--data', data, '--out', path.join(tempDir('images-out'), 'w'), '--passphrase-file', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('wrong passphrase for the station key');

    // one cast side's file altered on the disk: named, not exported, exit 1; the other ballot still comes out
    const victim = cast[1]?.detail?.sides[0]?.imageId ?? '';
    const f = path.join(dataLayout(data).images, victim);
    const b = fs.readFileSync(f);
    b[b.length - 40] = (b[b.length - 40] as number) ^ 0xff;
    fs.writeFileSync(f, b);
    const damaged = path.join(tempDir('images-out'), 'd');
    const d = await runCli(['images', 'export', '--data', data, '--out', damaged, '--passphrase-file', pass]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`side 1: altered: image ${victim}`);
    expect(JSON.parse(d.stdout)).toMatchObject({ exported: 1, failed: 1 });
  });

  it('station.json takes the three values and refuses any other with a sentence', () => {
    const dir = tempDir('station-json');
    const file = path.join(dir, 'station.json');
    const base = { data: 'data', election: 'e.json', keys: 'k', precinct: 'p-101', scanner: { kind: 'simulated', deckDir: 'deck' } };
    for (const imageRetention of ['all', 'adjudication', 'none'] as const) {
      fs.writeFileSync(file, JSON.stringify({ ...base, imageRetention }));
      expect(loadStationConfig(file)).toMatchObject({ ok: true, value: { imageRetention } });
    }
    fs.writeFileSync(file, JSON.stringify(base));
    const r = loadStationConfig(file);
    expect(r.ok && r.value.imageRetention).toBeUndefined();
    for (const bad of ['some', 'ALL', true, 3]) {
      fs.writeFileSync(file, JSON.stringify({ ...base, imageRetention: bad }));
      expect(loadStationConfig(file)).toEqual({ ok: false, error: `${file}: imageRetention: imageRetention must be one of "all", "adjudication", "none"` });
    }
  });
});
