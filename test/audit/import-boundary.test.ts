import { spawnSync } from 'node:child_process';
import path from 'node:path';

/*
 * The auditor is a product apart from the station: ESLint's no-restricted-imports (BOUNDARIES in
 * eslint.config.mjs) refuses what app/audit and app/formats may not import, and the auditor from the
 * publisher. These tests lint probe sources as if they were files in those folders (ESLint's lintText with a
 * file path; nothing is written to the tree), in a child process because ESLint loads its ESM config with a
 * dynamic import that Jest's CommonJS runtime does not provide.
 */

const root = path.resolve(__dirname, '..', '..');

interface Probe {
  readonly file: string;
  readonly spec: string;
}

/** The no-restricted-imports message for each probe, or null when the import is allowed. */
function lint(probes: readonly Probe[]): (string | null)[] {
  const script = `
    const { ESLint } = require('eslint');
    (async () => {
      const eslint = new ESLint({ cwd: ${JSON.stringify(root)} });
      const probes = JSON.parse(process.argv[1]);
      const out = [];
      for (const p of probes) {
        const code = "import { a } from '" + p.spec + "';\\nexport const b = a;\\n";
        const [r] = await eslint.lintText(code, { filePath: require('node:path').join(${JSON.stringify(root)}, p.file) });
        const m = r.messages.find((x) => x.ruleId === 'no-restricted-imports');
        if (r.messages.some((x) => x.fatal)) throw new Error(p.file + ': ' + r.messages.map((x) => x.message).join('; '));
        out.push(m === undefined ? null : m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(probes)], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as (string | null)[];
}

const refusedFromAudit = [
  '../station/station',
  '../main/main',
  '../print/printer',
  '../chain/publish',
  '../chain/bundle-complete',
  '../cli/main',
  '../reports/signed-tape',
  '../county/log/county-log',
  '../county/client/log-client',
  '../county/anchor/county-proof',
  '../ledger/ledger',
  '../ledger/storage',
  '../ledger/export',
  '../../firmware-bridge/lifecycle',
  '../../calibration/fit',
  '../../app/station/station',
  '../../../elsewhere',
  'electron',
];
const allowedFromAudit = [
  './audit-rpc',
  '../formats/raw-tx',
  '../formats/bundle-files',
  '../county/tlog/note',
  '../county/tlog/proof',
  '../ledger/record',
  '../ledger/record-pack',
  '../ledger/checkpoint',
  '../ledger/merkle',
  '../ledger/tally',
  '../ledger/bundle-format',
  '../../lib/result',
  '../../ballots/identity',
  '../../ballots/read/interpret',
  '../../calibration/profile',
  'zod',
];

const formatsRefused = ['../chain/publish', '../audit/audit-verify', '../station/station', '../ledger/ledger', '../../ballots/identity'];
const formatsAllowed = ['./raw-tx', '../ledger/record', '../ledger/merkle', '../../lib/bytes'];
const chainProbes = ['../audit/audit-verify', '../audit/pending-check', '../formats/raw-tx', './audit-like-name'];

const probes: Probe[] = [
  ...refusedFromAudit.map((spec) => ({ file: 'app/audit/boundary-probe.ts', spec })),
  ...allowedFromAudit.map((spec) => ({ file: 'app/audit/boundary-probe.ts', spec })),
  ...[...formatsRefused, ...formatsAllowed].map((spec) => ({ file: 'app/formats/boundary-probe.ts', spec })),
  ...chainProbes.map((spec) => ({ file: 'app/chain/boundary-probe.ts', spec })),
];
let results: Map<string, string | null>;

/** The message for one probe, linted with the others in one ESLint process (loading it is the slow part). */
function lintOne(file: string, specs: readonly string[]): (string | null)[] {
  return specs.map((spec) => {
    const k = `${file} ${spec}`;
    if (!results.has(k)) throw new Error(`no probe ${k}`);
    return results.get(k) as string | null;
  });
}

beforeAll(() => {
  const messages = lint(probes);
  results = new Map(probes.map((p, i) => [`${p.file} ${p.spec}`, messages[i] ?? null]));
});

test('a file in app/audit importing the station, the publisher, the printer, the ledger storage or electron is refused', () => {
  const messages = lintOne('app/audit/boundary-probe.ts', refusedFromAudit);
  refusedFromAudit.forEach((spec, i) => {
    const m = messages[i];
    if (spec === 'electron') expect(m).toContain('Only app/main and app/preload may import electron.');
    else expect({ spec, m }).toEqual({ spec, m: expect.stringContaining('app/audit may import only app/formats') });
  });
});

test('a file in app/audit may import the contract, the ledger read-only modules, lib, ballots and calibration/profile', () => {
  const messages = lintOne('app/audit/boundary-probe.ts', allowedFromAudit);
  expect(allowedFromAudit.map((spec, i) => ({ spec, m: messages[i] }))).toEqual(allowedFromAudit.map((spec) => ({ spec, m: null })));
});

test('the contract (app/formats) may import neither product nor the station, only the ledger read-only modules and lib', () => {
  expect(lintOne('app/formats/boundary-probe.ts', formatsRefused)).toEqual(formatsRefused.map(() => expect.stringContaining('app/formats may import only')));
  expect(lintOne('app/formats/boundary-probe.ts', formatsAllowed)).toEqual(formatsAllowed.map(() => null));
});

test('the publisher (app/chain) may not import the auditor, and may import the contract', () => {
  expect(lintOne('app/chain/boundary-probe.ts', chainProbes)).toEqual([expect.stringContaining('must not import the auditor'), expect.stringContaining('must not import the auditor'), null, null]);
});
