/**
 * End to end on real parts: `tallyproof station --headless` as a child process, the real station service
 * (SQLite ledger, reader), the firmware simulator on a socat pty behind the serial driver, and the kiosk
 * page in Debian's chromium, driven by keyboard. Ctrl-C (SIGINT) must stop it cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EXAMPLES, outputDir, tempDir, writeTestKeys } from '../support/ballots';
import { writeSheets } from '../station/support/rig';

const ROOT = path.join(__dirname, '..', '..');
const PINS = 'poll-worker=1111,captain=2222,auditor=3333';

async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

async function signIn(page: Page, radioSteps: number, pin: string): Promise<void> {
  await tabTo(page, '#staff-button');
  await page.keyboard.press('Enter');
  for (let i = 0; i < radioSteps; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
}

describe('tallyproof station --headless, end to end', () => {
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let browser: Browser;
  // kept after the run (a run's temporary directories are removed at its end): a person looks at them
  const shots = outputDir('kiosk-headless-station');

  afterAll(async () => {
    await browser?.close();
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  test('captain opens polls; counted, overvote cast as is, wrong election rejected; poll worker pauses and resumes; polls close; Ctrl-C stops it', async () => {
    const work = tempDir('kiosk-e2e');
    const keys = writeTestKeys(work);
    fs.mkdirSync(path.join(work, 'deck'));
    const deck = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'overvote', n: 0 }, { kind: 'wrong-election', n: 0 }, { kind: 'normal', n: 1 }], path.join(work, 'deck'));
    const data = path.join(work, 'data');
    child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'scripts', 'run-ts.js'),
        path.join(__dirname, 'support', 'cli-child.ts'),
        'station',
        '--simulate',
        deck.dir,
        '--simulate-timings',
        'zero',
        '--headless',
        '--port',
        '0',
        '--data',
        data,
        '--election',
        path.join(EXAMPLES, 'municipal.json'),
        '--keys',
        keys,
        '--precinct',
        'p-101',
      ],
      { cwd: work, env: { ...process.env, TALLYPROOF_PINS: PINS, TALLYPROOF_STATION_PASSPHRASE: 'e2e station passphrase' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m?.[1] !== undefined) resolve(m[1]);
      };
      child.stdout?.on('data', check);
      void exited.then((code) => reject(new Error(`station exited ${code} before serving:\n${stdout}\n${stderr}`)));
    });

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Limits, not timings: a shared 2-core machine under load can take many seconds per step.
    page.setDefaultTimeout(90_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByRole('heading', { level: 2, name: 'This scanner is not open for voting.' }).waitFor();
    await page.getByText('Precinct 101 – Old Town', { exact: false }).waitFor();
    await page.screenshot({ path: path.join(shots, '1-closed.png') });

    await signIn(page, 1, '2222');
    await page.getByRole('heading', { level: 2, name: 'Precinct captain' }).waitFor();
    // the zero tape first, then the opening with the captain's yes
    await tabTo(page, 'button[data-command="print-zero-tape"]');
    await page.keyboard.press('Enter');
    await page.getByText(/The zero tape is printed/).waitFor();
    await tabTo(page, 'button[data-command="open-polls"]');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Open the polls?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Polls are open.', { exact: false }).waitFor();
    await page.locator('#staff-result[data-ok="true"]').waitFor();
    await page.screenshot({ path: path.join(shots, '2-captain-opened.png') });
    await tabTo(page, '#logout-button');
    await page.keyboard.press('Enter');

    // The simulator feeds the deck as soon as feeding is enabled: one counted, then the overvote is held.
    await page.getByRole('heading', { level: 2, name: 'Your ballot has not been counted yet' }).waitFor();
    await page.getByText('Ballots counted here: 1').waitFor();
    const reasons = await page.locator('#voter-reasons').textContent();
    expect(reasons).toMatch(/too many/i);
    expect(reasons).toMatch(/Contests: /);
    await page.screenshot({ path: path.join(shots, '3-overvote.png') });
    await tabTo(page, '#btn-cast-as-is');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor();
    await page.screenshot({ path: path.join(shots, '4-confirm.png') });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Ballots counted here: 3').waitFor();
    await page.screenshot({ path: path.join(shots, '5-counted.png') });

    // The poll worker pauses and resumes scanning.
    await signIn(page, 0, '1111');
    await page.getByRole('heading', { level: 2, name: 'Poll worker' }).waitFor();
    expect(await page.locator('dd[data-count="counts.rejected"]').textContent()).toBe('1');
    await tabTo(page, 'button[data-command="pause-polls"]');
    await page.keyboard.press('Enter');
    await page.getByText('Paused', { exact: true }).waitFor();
    await page.screenshot({ path: path.join(shots, '6-paused.png') });
    await tabTo(page, 'button[data-command="resume-polls"]');
    await page.keyboard.press('Enter');
    await page.getByText('Polls open', { exact: true }).waitFor();
    await tabTo(page, '#logout-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();

    await signIn(page, 1, '2222');
    await page.getByRole('heading', { level: 2, name: 'Precinct captain' }).waitFor();
    expect(await page.locator('dd[data-count="counts.castAsIs"]').textContent()).toBe('1');
    await tabTo(page, 'button[data-command="close-polls"]');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Close the polls?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Polls closed', { exact: true }).waitFor();
    await page.screenshot({ path: path.join(shots, '7-closed.png') });
    expect(errors).toEqual([]);

    const status = (await (await fetch(new URL('/api/status', url))).json()) as { polls: string; counts: { public: number; castAsIs: number; rejected: number } };
    expect(status).toMatchObject({ polls: 'closed', counts: { public: 3, castAsIs: 1, rejected: 1 } });

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('tallyproof station: SIGINT, stopping');
    expect(stdout).toContain('tallyproof station: stopped');
    process.stdout.write(`end-to-end screenshots in ${shots}\n`);
  }, 400_000);
});
