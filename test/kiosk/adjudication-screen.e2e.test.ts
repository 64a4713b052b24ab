/**
 * The auditor's adjudication screen on real parts: the station service with its SQLite ledger and reader
 * (the in-process rig fed by the simulated scanner), served by the headless HTTP server, the kiosk page in
 * Debian's chromium. The day up to the close is played through the station's own calls; the auditor then
 * signs in on the page, reviews the marginal mark and decides it, by keyboard; the ledger verifies and its
 * after tally counts the mark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { contestOptions, loadElection } from '../../ballots/election';
import { adjudicationState } from '../../app/ledger/adjudicated-tally';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { serveStation, type StationServer } from '../../app/station/http-server';
import { outputDir } from '../support/ballots';
import type { Rig } from '../station/support/rig';
import { ELECTION, captainDoes, startRig, waitForStatus, writeSheets } from '../station/support/rig';
import { AUDITOR, newKioskPage, press, signIn, signOut } from './support/kiosk-page';

let browser: Browser;
let rig: Rig | undefined;
let server: StationServer | undefined;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await server?.close();
  await rig?.stop();
});

test('after the close the auditor sees the marginal mark with its clip from the kept scan, decides it, and the decision is a verified ledger entry', async () => {
  const { dir, truth } = await writeSheets([{ kind: 'normal', marginal: true }]);
  rig = await startRig({ deck: dir });
  const st = rig.station;
  await captainDoes(st, 'print-zero-tape', 'open-polls');
  const held = await waitForStatus(st, (s) => s.sheet?.outcome === 'awaiting-voter');
  expect((await st.voterDecision({ sheetId: held.sheet?.sheetId ?? '', decision: 'cast-as-is' })).ok).toBe(true);
  await waitForStatus(st, (s) => s.counts.public === 1);
  await captainDoes(st, 'close-polls');
  const marginal = truth[0]?.marks.find((m) => m.expected === 'marginal');
  if (marginal === undefined) throw new Error('the deck sheet has no marginal mark');
  const election = loadElection(ELECTION);
  if (!election.ok) throw new Error('election');
  const contest = election.value.definition.contests.find((c) => c.id === marginal.contestId);
  if (contest === undefined) throw new Error('contest');
  const label = contestOptions(contest, election.value.definition).find((o) => o.id === marginal.optionId)?.label ?? '?';

  server = await serveStation(st, { port: 0 });
  const { page, consoleErrors } = await newKioskPage(browser);
  const shots = outputDir('adjudication-screen');
  try {
    await page.goto(server.url);
    await signIn(page, AUDITOR, 'Auditor');
    const section = page.locator('#adjudication');
    await section.getByRole('heading', { name: 'Marginal marks and write-ins' }).waitFor();
    await press(page, '#btn-adjudication-load');
    await section.getByText(/waiting for a decision/).waitFor();
    const item = section.locator(`li[data-ballot="${truth[0]?.serial}"][data-option="${marginal.optionId}"]`);
    await item.getByText(`A light mark for ${label}`).waitFor();
    // the clip from the kept scan: the oval with the light mark and its option's name
    const clip = item.locator('img.clip');
    await clip.waitFor();
    expect(await clip.evaluate((img) => { const i = img as unknown as { naturalWidth: number; naturalHeight: number }; return i.naturalWidth > 3 * i.naturalHeight; })).toBe(true);
    await page.screenshot({ path: path.join(shots, '1-list.png'), fullPage: true });
    await press(page, `li[data-option="${marginal.optionId}"] button.counts`);
    await page.locator('#staff-result').getByText(/^Recorded \(ledger entry \d+\): ballot /).waitFor();
    await item.getByText(/^Decided: counts \(ledger entry \d+\)$/).waitFor();
    expect(await item.locator('button').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, '2-decided.png'), fullPage: true });
    await signOut(page);
    expect(await section.isHidden()).toBe(true);
    expect(consoleErrors).toEqual([]);
  } finally {
    await page.close();
  }

  const file = dataLayout(rig.dataDir).ledger('official');
  const report = verifyLedgerFile(file);
  expect(report.ok).toBe(true);
  expect(report.summary?.adjudications).toBe(1);
  const items = adjudicationState(file).items ?? [];
  expect(items.find((i) => i.option === marginal.optionId)?.decision).toMatchObject({ decision: { kind: 'counts' }, adjudicator: { role: 'auditor' } });
  expect(fs.existsSync(path.join(shots, '2-decided.png'))).toBe(true);
});
