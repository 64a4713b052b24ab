import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * The import rules of .dependency-cruiser.cjs (no cycles; the layers of README "Repository layout": lib/ ←
 * ballots/ calibration/ firmware-bridge/ ← app/ledger ← the station's parts ← app/cli app/main; the renderer
 * apart; electron only in the kiosk; the auditor apart from the station), checked by dependency-cruiser on
 * the tree, and on a fixture tree that breaks each rule once, so a rule that stopped biting is seen too.
 */
jest.setTimeout(600_000);

const ROOT = path.join(__dirname, '..', '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
/** the package's exports do not list its bin, so it is found where npm puts it */
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
  readonly cycle?: readonly { readonly name: string }[];
}

/** Runs depcruise in `cwd` on `dirs` and returns its violations (it exits non-zero when there are any). */
function cruise(cwd: string, dirs: readonly string[]): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      let out: { summary: { violations: Violation[]; totalCruised: number } };
      try {
        out = JSON.parse(stdout) as typeof out;
      } catch {
        reject(new Error(`depcruise gave no report (${error?.message ?? 'no error'}): ${stderr}`));
        return;
      }
      if (out.summary.totalCruised === 0) reject(new Error(`depcruise cruised nothing in ${cwd}: ${stderr}`));
      else resolve(out.summary.violations);
    });
  });
}

const describeViolation = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle !== undefined && v.cycle.length > 0 ? ` (cycle: ${v.from} → ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

describe('import rules (.dependency-cruiser.cjs)', () => {
  it('the tree has no import cycle and no import against the layers', async () => {
    const dirs = ['app', 'ballots', 'calibration', 'firmware-bridge', 'lib'].filter((d) => fs.existsSync(path.join(ROOT, d)));
    const violations = await cruise(ROOT, dirs);
    // each violation on its own line, so the failure says what to fix
    expect(violations.map(describeViolation)).toEqual([]);
  });

  describe('each rule bites (a fixture tree breaking each once)', () => {
    let dir: string;
    let found: string[];
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depcruise-fixture-'));
      const files: Record<string, string> = {
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node10', strict: true, allowJs: true } }),
        'node_modules/electron/package.json': JSON.stringify({ name: 'electron', main: 'index.js' }),
        'node_modules/electron/index.js': 'module.exports = {};\n',
        // a type-only cycle, as ballots/read/interpret.ts ↔ debug-image.ts was
        'ballots/read/interpret.ts': "import { scoringImage } from './debug-image';\nexport interface MarkReading { score: number }\nexport const x = scoringImage;\n",
        'ballots/read/debug-image.ts': "import type { MarkReading } from './interpret';\nexport function scoringImage(m: MarkReading): number { return m.score; }\n",
        'lib/bytes.ts': "import { tally } from '../app/ledger/tally';\nexport const b = tally;\n",
        'calibration/profile.ts': "import { station } from '../app/station/station';\nexport const p = station;\n",
        'app/ledger/tally.ts': "import { tape } from '../reports/tapes';\nexport const tally = tape;\n",
        'app/reports/tapes.ts': 'export const tape = 1;\n',
        'app/station/station.ts': "import { run } from '../cli/main';\nexport const station = run;\n",
        // the demo's cycle: a command importing the CLI's main, which imports every command
        'app/cli/main.ts': "import { demo } from './commands/demo';\nexport const run = demo;\n",
        'app/cli/commands/demo.ts': "import { run } from '../main';\nimport { kiosk } from '../../main/main';\nexport const demo = () => run;\nexport const k = kiosk;\n",
        'app/main/main.ts': "import electron from 'electron';\nexport const kiosk = electron;\n",
        'app/chain/publish.ts': "import electron from 'electron';\nexport const publish = electron;\n",
        'app/chain/formats.ts': 'export const format = 1;\n',
        'app/county/log/county-log.ts': 'export const countyLog = 1;\n',
        'app/county/tlog/note.ts': 'export const note = 1;\n',
        'app/audit/verify.ts': "import { publish } from '../chain/publish';\nimport { format } from '../chain/formats';\nimport { station } from '../station/station';\nimport { countyLog } from '../county/log/county-log';\nimport { note } from '../county/tlog/note';\nexport const v = [publish, format, station, countyLog, note];\n",
        'app/renderer/static/js/app.mjs': "import { format } from '../../../chain/formats.ts';\nexport const a = format;\n",
      };
      for (const [f, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
      }
      found = (await cruise(dir, ['app', 'ballots', 'calibration', 'lib'])).map(describeViolation);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const expectFound = (rule: string, from: string, to: string | RegExp): void => {
      const want = (v: string): boolean => v.startsWith(`${rule}: ${from} → `) && (typeof to === 'string' ? v.slice(`${rule}: ${from} → `.length).startsWith(to) : to.test(v));
      expect(found.filter(want)).not.toEqual([]);
    };

    it('cycles, type-only ones included', () => {
      expectFound('no-cycle', 'ballots/read/debug-image.ts', 'ballots/read/interpret.ts');
      expectFound('no-cycle', 'app/cli/commands/demo.ts', 'app/cli/main.ts');
    });
    it('lib/ imports nothing of the project; the domain folders never import app/', () => {
      expectFound('lib-imports-nothing', 'lib/bytes.ts', 'app/ledger/tally.ts');
      expectFound('domain-not-app', 'calibration/profile.ts', 'app/station/station.ts');
    });
    it('the ledger imports nothing above it; nothing below imports an entry point', () => {
      expectFound('ledger-imports-nothing-above', 'app/ledger/tally.ts', 'app/reports/tapes.ts');
      expectFound('entry-points-on-top', 'app/station/station.ts', 'app/cli/main.ts');
      expectFound('cli-not-electron-app', 'app/cli/commands/demo.ts', 'app/main/main.ts');
    });
    it('electron only in the kiosk; the renderer imports no Node code', () => {
      expectFound('electron-only-in-the-kiosk', 'app/chain/publish.ts', /node_modules\/electron\//);
      expect(found.filter((v) => v.startsWith('electron-only-in-the-kiosk: app/main/'))).toEqual([]);
      expectFound('renderer-is-browser-code', 'app/renderer/static/js/app.mjs', 'app/chain/formats.ts');
    });
    it('the auditor: not the station, not the publisher; the shared formats are allowed', () => {
      expectFound('auditor-apart-from-the-station', 'app/audit/verify.ts', 'app/station/station.ts');
      expectFound('auditor-apart-from-the-station', 'app/audit/verify.ts', 'app/chain/publish.ts');
      expect(found.filter((v) => v.includes('app/audit/verify.ts → app/chain/formats.ts'))).toEqual([]);
      // the county log is the station's side too; only its C2SP formats (app/county/tlog) are the auditor's to read
      expectFound('auditor-apart-from-the-station', 'app/audit/verify.ts', 'app/county/log/county-log.ts');
      expect(found.filter((v) => v.includes('app/audit/verify.ts → app/county/tlog/note.ts'))).toEqual([]);
    });
  });
});
