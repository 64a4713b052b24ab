import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { AuditReport } from '../../app/audit/audit-verify';
import { exportBundle } from '../../app/ledger/export';
import type { Genesis } from '../../app/ledger/entries';
import { Ledger } from '../../app/ledger/ledger';
import { captureOf } from '../../app/station/capture';
import { contestMap } from '../../app/station/election-package';
import type { BallotCodes, VotingId } from '../../ballots/identity';
import { encodeVotingId, issueBallotCodes } from '../../ballots/identity';
import type { RenderedSheet } from '../../ballots/testdeck';
import { TestDeck } from '../../ballots/testdeck';
import { EXAMPLES, example, tempDir, testKeys, writeTestKeys } from '../support/ballots';
import { runCli } from '../support/cli';
import { deckOptions } from '../support/reader';
import { testSigner } from '../ledger/fixtures';
import { publishOffline } from './offline-publication';

/*
 * `audit verify --ballot-codes / --ballot-image`: a paper ballot against a bundle. Real parts throughout:
 * the municipal example election, election keys written as real key files, test-deck sheets rendered by
 * ballots/testdeck (the printer's layout and QR codes), their codes as ballots/identity issues them, a real
 * ledger holding the deck's ballots as the station records them (captureOf), `ledger export` with the
 * election definition, and a publication on made-up regtest chains (offline-publication.ts).
 */

const election = example('municipal');
const definitionFile = path.join(EXAMPLES, 'municipal.json');
const keys = testKeys();
const otherKeys = testKeys('another election office');
const prefix = election.hash.slice(0, 16);

let work: string;
let bundle: string;
let bundleNoDefinition: string;
let keysFile: string;
let otherKeysFile: string;
const sheets: RenderedSheet[] = [];
let counterfeitSheet: RenderedSheet;
let misScaledSheet: RenderedSheet;

function votingIdOf(s: RenderedSheet, over: Partial<VotingId> = {}): string {
  return encodeVotingId({ electionHashPrefix: prefix, precinctId: s.truth.precinctId, styleId: s.truth.styleId, side: 'front', mode: s.truth.mode, ...over });
}

function codesOf(s: RenderedSheet, over: Partial<VotingId> = {}, k = keys): BallotCodes {
  return issueBallotCodes(k.private, k.public, { electionHashPrefix: prefix, precinctId: s.truth.precinctId, styleId: s.truth.styleId, side: 'front', mode: s.truth.mode, ...over }, s.truth.serial);
}

function sheet(i: number): RenderedSheet {
  const s = sheets[i];
  if (s === undefined) throw new Error(`no sheet ${i}`);
  return s;
}

let fileNo = 0;
function writeFile(content: string | Buffer, ext = 'txt'): string {
  const f = path.join(work, `input-${fileNo++}.${ext}`);
  fs.writeFileSync(f, content);
  return f;
}

const codesJson = (c: BallotCodes): string => writeFile(JSON.stringify(c), 'json');

async function audit(args: readonly string[], dir = bundle): Promise<{ code: number; report: AuditReport; stderr: string }> {
  const r = await runCli(['audit', 'verify', '--bundle', dir, '--json', ...args]);
  if (r.stdout === '') throw new Error(`no report (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as AuditReport, stderr: r.stderr };
}

const line = (r: AuditReport, check: string): string => {
  const c = r.checks.find((x) => x.check === check);
  return c === undefined ? `(no ${check} check)` : `${c.ok ? 'ok' : 'FAIL'} ${c.detail}`;
};

/*
 * Sheets 0-4 are normal ballots of precinct p-101. The ledger holds 0, 1 and 3 as read; 2 recorded with
 * another style's voting ID (a record that is not this paper's); 3 recorded with its marks changed in one
 * contest; 4 never recorded. A sheet printed at the wrong scale (which the reader refuses to align) is
 * recorded too, as if another reader had taken it.
 */
beforeAll(async () => {
  work = tempDir('audit-paper');
  keysFile = path.join(writeTestKeys(work), 'election-public.json');
  otherKeysFile = path.join(writeTestKeys(path.join(work, 'other'), 'another election office'), 'election-public.json');

  const deck = new TestDeck(deckOptions({ kinds: { normal: 1 }, seed: 'audit-paper', markKinds: ['full'] }));
  for (let i = 0; i < 5; i++) sheets.push(await deck.sheet(i));
  const fakes = new TestDeck(deckOptions({ kinds: { counterfeit: 1 }, seed: 'audit-paper-counterfeit', markKinds: ['full'] }));
  counterfeitSheet = await fakes.sheet(0);
  misScaledSheet = await new TestDeck(deckOptions({ kinds: { 'mis-scaled': 1 }, seed: 'audit-paper-scale', markKinds: ['full'] })).sheet(0);

  const signer = testSigner(9);
  const genesis: Genesis = {
    format: 'tallyproof-ledger/1',
    mode: 'official',
    election: { hash: election.hash, title: election.definition.election.title, contests: contestMap(election) },
    station: { id: 'station-3', number: 3, publicKey: Buffer.from(signer.publicKey).toString('hex') },
  };
  const file = path.join(work, 'official.sqlite');
  const ledger = Ledger.create(file, genesis);
  const otherStyle = election.definition.ballotStyles.find((st) => st.id !== sheet(2).truth.styleId);
  if (otherStyle === undefined) throw new Error('the example needs two styles');
  const recorded: [number, string, RenderedSheet['truth']['expected']['contests']][] = [
    [0, votingIdOf(sheet(0)), sheet(0).truth.expected.contests],
    [1, votingIdOf(sheet(1)), sheet(1).truth.expected.contests],
    [2, votingIdOf(sheet(2), { styleId: otherStyle.id, precinctId: otherStyle.precincts[0] as string }), sheet(2).truth.expected.contests],
    [3, votingIdOf(sheet(3)), alterOneContest(sheet(3).truth.expected.contests)],
    [5, votingIdOf(misScaledSheet), misScaledSheet.truth.expected.contests],
  ];
  for (const [i, votingId, contests] of recorded) {
    const s = i === 5 ? misScaledSheet : sheet(i);
    const p = ledger.appendPending(
      captureOf({ ballotId: s.truth.serial, votingId, mode: 'official', castAsIs: false, images: s.images.map((im) => im.bytes), calibrationVersion: 1, contests }, genesis.election.contests),
    );
    if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
    ledger.confirmCast(p.value.seq);
    if (i === 1 && !ledger.closeBatch(signer).ok) throw new Error('close refused');
  }
  if (!ledger.closeBatch(signer).ok) throw new Error('close refused');
  ledger.close();

  bundle = path.join(work, 'bundle');
  exportBundle(file, bundle, { electionDefinition: definitionFile });
  expect(publishOffline(bundle)).toMatchObject({ publications: 2, proofs: 5 });
  bundleNoDefinition = path.join(work, 'bundle-plain');
  exportBundle(file, bundleNoDefinition);
  publishOffline(bundleNoDefinition);
}, 60_000);

/** The same contests with the first candidate contest's selection moved to another candidate. */
function alterOneContest(contests: RenderedSheet['truth']['expected']['contests']): RenderedSheet['truth']['expected']['contests'] {
  const out = { ...contests };
  for (const [id, c] of Object.entries(contests)) {
    const def = election.definition.contests.find((x) => x.id === id);
    if (def?.type !== 'candidate' || c.selections.length !== 1) continue;
    const other = def.candidates.find((k) => !c.selections.includes(k.id));
    if (other === undefined) continue;
    out[id] = { ...c, selections: [other.id] };
    return out;
  }
  throw new Error('no contest to alter');
}

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('a paper ballot given by its three QR texts', () => {
  it('checks a genuine paper and its record, then prints the record, its transactions and its proof', async () => {
    const s = sheet(0);
    const r = await audit(['--ballot-codes', codesJson(codesOf(s)), '--election-keys', keysFile]);
    expect(r.report.failures).toEqual([]);
    expect(r.code).toBe(0);
    expect(line(r.report, 'ballot-codes')).toMatch(new RegExp(`^ok issued by the election office: .*signature verifies under the issuing key of ${keys.public.fingerprint}; address \\w+ is serial ${s.truth.serial}'s under the election xpub; the voting ID names this bundle's election \\(${prefix}\\), precinct p-101`));
    expect(line(r.report, 'election-keys')).toMatch(/^ok unchecked: the bundle names no key fingerprint; .*election-public\.json \(florincoin-regtest\) has fingerprint /);
    expect(line(r.report, 'ballot-record')).toMatch(new RegExp(`^ok batch 1: the record of serial ${s.truth.serial} has the paper's voting-ID digest [0-9a-f]{16} and mode official$`));
    expect(r.report.paper).toMatchObject({ serial: s.truth.serial, ...codesOf(s), keysFingerprint: keys.public.fingerprint });
    expect(r.report.ballot).toMatchObject({ ballotId: s.truth.serial, found: true, ok: true, batch: 1, problems: [] });
    expect(r.report.ballot?.recordsTx?.txid).toMatch(/^[0-9a-f]{64}$/);
    expect(r.report.ballot?.anchorTx?.height).toBe(210);

    const text = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-codes', codesJson(codesOf(s)), '--election-keys', keysFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`paper ${s.truth.serial}: codes from `);
    expect(text.stdout).toContain(`ballot ${s.truth.serial}: ok: recorded, published, anchored and proven`);
    expect(text.stdout).toMatch(/ok {3}ballot-codes ballot \w{12}: issued by the election office/);
    expect(text.stdout).toMatch(/anchor tx: {2}btc-anchor \w{64} \(block 210 /);
  });

  it('takes the three lines a QR reader app gives, in any order, and a fingerprint to compare', async () => {
    const c = codesOf(sheet(1));
    const file = writeFile(`\r\n${c.votingId}\r\n\r\n  ${c.address}\n${c.ballotId}\n\n`);
    const r = await audit(['--ballot-codes', file, '--election-keys', keysFile, '--key-fingerprint', keys.public.fingerprint.toLowerCase().replace(/-/g, ' ')]);
    expect(r.report.failures).toEqual([]);
    expect(r.code).toBe(0);
    expect(line(r.report, 'election-keys')).toMatch(/^ok .* has fingerprint [0-9A-F-]{19}, the one given with --key-fingerprint/);
    expect(r.report.ballot).toMatchObject({ ballotId: sheet(1).truth.serial, ok: true, batch: 1 });

    const wrong = await audit(['--ballot-codes', file, '--election-keys', keysFile, '--key-fingerprint', otherKeys.public.fingerprint]);
    expect(wrong.code).toBe(1);
    expect(wrong.report.failures.map((f) => f.check)).toEqual(['election-keys']);
    expect(line(wrong.report, 'election-keys')).toContain(`not ${otherKeys.public.fingerprint} given with --key-fingerprint: these are not the election's keys`);
  });

  it("accepts the other side's voting ID of the recorded sheet, and says so", async () => {
    const r = await audit(['--ballot-codes', codesJson(codesOf(sheet(0), { side: 'back' })), '--election-keys', keysFile]);
    expect(r.report.failures).toEqual([]);
    expect(line(r.report, 'ballot-record')).toMatch(/the record's voting-ID digest is of the sheet's other side \(TPV1:[0-9A-F]{16}:P-101:[A-Z0-9-]+:F:O\)/);
  });

  it('fails a counterfeit: a genuine serial under a signature the election office did not make', async () => {
    const s = sheet(0);
    const r = await audit(['--ballot-codes', codesJson(codesOf(s, {}, otherKeys)), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(r.report.failures.map((f) => f.check)).toEqual(['ballot-codes']);
    expect(line(r.report, 'ballot-codes')).toMatch(/^FAIL bad-signature: This ballot was not issued by the election office/);
    // the record of that serial is still shown: it is the genuine ballot's, not this paper's
    expect(line(r.report, 'ballot-record')).toMatch(/^ok batch 1/);
    expect(r.report.ballot?.ok).toBe(false);
    expect(r.stderr).toMatch(/audit failed: ballot-codes: bad-signature/);
  });

  it('fails a genuine paper checked against another election office\'s keys file', async () => {
    const r = await audit(['--ballot-codes', codesJson(codesOf(sheet(0))), '--election-keys', otherKeysFile]);
    expect(r.code).toBe(1);
    expect(line(r.report, 'ballot-codes')).toMatch(/^FAIL bad-signature/);
    expect(line(r.report, 'election-keys')).toContain(`has fingerprint ${otherKeys.public.fingerprint}`);
  });

  it('fails the codes of another election, naming both election hashes', async () => {
    const other = 'f00dfeedf00dfeed';
    const r = await audit(['--ballot-codes', codesJson(codesOf(sheet(0), { electionHashPrefix: other }, otherKeys)), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(line(r.report, 'ballot-codes')).toBe(`FAIL wrong-election: This ballot belongs to a different election. (votingId: expected ${prefix}, found ${other})`);
    expect(line(r.report, 'ballot-record')).toMatch(/^FAIL batch 1: its voting-ID digest [0-9a-f]{16} is not the digest of the paper's voting ID TPV1:F00DFEEDF00DFEED:/);
  });

  it('fails a test-mode paper against an official bundle, in the codes and in the record', async () => {
    const r = await audit(['--ballot-codes', codesJson(codesOf(sheet(0), { mode: 'test' })), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(line(r.report, 'ballot-codes')).toMatch(/^FAIL test-ballot-in-official-mode: This is a test ballot/);
    expect(line(r.report, 'ballot-record')).toMatch(/the paper is a test ballot, its record is official$/);
  });

  it('fails a genuine paper whose serial the bundle does not hold', async () => {
    const s = sheet(4);
    const r = await audit(['--ballot-codes', codesJson(codesOf(s)), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(line(r.report, 'ballot-codes')).toMatch(/^ok issued by the election office/);
    expect(line(r.report, 'ballot-record')).toBe(`FAIL ballot ${s.truth.serial} is not in any batch of this bundle: no record of this paper was published`);
    expect(r.report.ballot).toMatchObject({ found: false, ok: false });
  });

  it("fails a genuine paper whose voting ID is not the one its record was made from", async () => {
    const s = sheet(2);
    const r = await audit(['--ballot-codes', codesJson(codesOf(s)), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(r.report.failures.map((f) => f.check)).toEqual(['ballot-record']);
    expect(line(r.report, 'ballot-record')).toMatch(
      new RegExp(`^FAIL batch 2: its voting-ID digest [0-9a-f]{16} is not the digest of the paper's voting ID ${votingIdOf(s)} \\([0-9a-f]{16}\\): the record was made from another voting ID than this paper's$`),
    );
    expect(r.report.ballot?.problems.join('\n')).toContain('ballot-record: batch 2: its voting-ID digest');
  });

  it.each([
    ['a missing file', () => path.join(work, 'no-such-codes.txt'), /no-such-codes\.txt: cannot read the ballot codes file: no such file/],
    ['an empty file', () => writeFile('\n\n'), /the file is empty: it should hold the three QR texts/],
    ['binary garbage', () => writeFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2, 0xff]), 'bin'), /not a text file \(it holds NUL bytes\)/],
    ['a line of garbage', () => writeFile(`${codesOf(sheet(0)).ballotId}\nhello, world!\n${codesOf(sheet(0)).votingId}`), /line 2 is neither a ballot ID \(TPB1:…\), a voting ID \(TPV1:…\) nor a blockchain address: "hello, world!"/],
    ['only two codes', () => writeFile(`${codesOf(sheet(0)).ballotId}\n${codesOf(sheet(0)).votingId}\n`), /only 2 of the three codes \(the ballot ID code \(QR 2, TPB1:…\), the voting ID code \(QR 3, TPV1:…\)\): the address code \(QR 1\) is missing/],
    ['two ballot IDs', () => writeFile(`${codesOf(sheet(0)).ballotId}\n${codesOf(sheet(1)).ballotId}\n${codesOf(sheet(0)).votingId}\n`), /lines 1 and 2 both hold the ballot ID code/],
    ['JSON missing a code', () => writeFile(JSON.stringify({ address: codesOf(sheet(0)).address, ballotId: codesOf(sheet(0)).ballotId }), 'json'), /not a ballot codes object \{address, ballotId, votingId\}: \$\.votingId: /],
    ['JSON with codes swapped', () => writeFile(JSON.stringify({ ...codesOf(sheet(0)), votingId: codesOf(sheet(0)).ballotId }), 'json'), /\$\.votingId holds the ballot ID code \(QR 2, TPB1:…\), not the voting ID code/],
    ['broken JSON', () => writeFile('{"address": ', 'json'), /not valid JSON \(/],
  ])('refuses %s (exit 1)', async (_name, make, message) => {
    const r = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-codes', make(), '--election-keys', keysFile]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(message);
  });

  it('refuses a missing or broken keys file (exit 1)', async () => {
    const codes = codesJson(codesOf(sheet(0)));
    const none = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-codes', codes, '--election-keys', path.join(work, 'nope.json')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^tallyproof: key-file-unreadable: Cannot read the election public key file \S*nope\.json: it does not exist\.$/m);
    const pub = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as Record<string, string>;
    const changed = writeFile(JSON.stringify({ ...pub, xpub: otherKeys.public.xpub }), 'json');
    const bad = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-codes', codes, '--election-keys', changed]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/key-file-fingerprint-mismatch: The election public key file .* was changed after it was made/);
  });

  it.each([
    ['codes without keys', ['--ballot-codes', 'x.txt'], /--ballot-codes needs --election-keys <election-public\.json>/],
    ['codes and an image', ['--ballot-codes', 'x.txt', '--ballot-image', 'y.png', '--election-keys', 'k.json'], /give either --ballot-codes or --ballot-image, not both/],
    ['codes and --ballot-id', ['--ballot-codes', 'x.txt', '--ballot-id', 'ABC', '--election-keys', 'k.json'], /give either --ballot-id or --ballot-codes/],
    ['keys alone', ['--election-keys', 'k.json'], /--election-keys, --key-fingerprint and --election go with a paper ballot/],
  ])('is a usage error (exit 2): %s', async (_name, args, message) => {
    const r = await runCli(['audit', 'verify', '--bundle', bundle, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('a paper ballot given by a scan', () => {
  it('reads the codes and marks of PNG, JPEG and PGM scans with the election definition the bundle carries', async () => {
    const s = sheet(1);
    const raster = s.rasters[0];
    if (raster === undefined) throw new Error('no raster');
    const raw = () => sharp(Buffer.from(raster.data), { raw: { width: raster.width, height: raster.height, channels: 1 } });
    const files = {
      png: writeFile(s.images[0]?.bytes ?? Buffer.alloc(0), 'png'),
      jpg: writeFile(await raw().jpeg({ quality: 60 }).toBuffer(), 'jpg'),
      pgm: writeFile(Buffer.concat([Buffer.from(`P5\n${raster.width} ${raster.height}\n255\n`), Buffer.from(raster.data)]), 'pgm'),
    };
    for (const [kind, file] of Object.entries(files)) {
      const r = await audit(['--ballot-image', file, '--election-keys', keysFile]);
      expect({ kind, failures: r.report.failures }).toEqual({ kind, failures: [] });
      expect(r.code).toBe(0);
      expect(r.report.paper).toMatchObject({ ...codesOf(s), located: 'registered', serial: s.truth.serial });
      expect(line(r.report, 'ballot-marks')).toMatch(/^ok front side: the marks read in \d+ contest\(s\) equal the record's selections/);
      expect(r.report.ballot).toMatchObject({ ballotId: s.truth.serial, ok: true });
    }
  });

  it('needs --election when the bundle carries no definition, and takes it', async () => {
    const png = writeFile(sheet(0).images[0]?.bytes ?? Buffer.alloc(0), 'png');
    const usage = await runCli(['audit', 'verify', '--bundle', bundleNoDefinition, '--ballot-image', png, '--election-keys', keysFile]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--ballot-image needs the election definition to read the scan: the bundle carries none .* give --election <election\.json>/);
    const r = await audit(['--ballot-image', png, '--election-keys', keysFile, '--election', definitionFile], bundleNoDefinition);
    expect(r.report.failures).toEqual([]);
    expect(r.code).toBe(0);
    const wrong = await runCli(['audit', 'verify', '--bundle', bundleNoDefinition, '--ballot-image', png, '--election-keys', keysFile, '--election', path.join(EXAMPLES, 'general.json')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`general\\.json: election hash [0-9a-f]{64}, the bundle is for election ${election.hash}`));
  });

  it('fails a scan whose marks differ from its record, naming the contest', async () => {
    const s = sheet(3);
    const r = await audit(['--ballot-image', writeFile(s.images[0]?.bytes ?? Buffer.alloc(0), 'png'), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(r.report.failures.map((f) => f.check)).toEqual(['ballot-marks']);
    expect(line(r.report, 'ballot-marks')).toMatch(/^FAIL front side: contest [a-z0-9-]+: the scan reads \[[a-z0-9-]+\], the record has \[[a-z0-9-]+\]$/);
  });

  it('finds the codes over the whole page when the scan does not align, and says the marks are unchecked', async () => {
    const s = misScaledSheet;
    const r = await audit(['--ballot-image', writeFile(s.images[0]?.bytes ?? Buffer.alloc(0), 'png'), '--election-keys', keysFile]);
    expect(r.report.failures).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.report.paper).toMatchObject({ ...codesOf(s), located: 'whole-page' });
    expect(line(r.report, 'ballot-codes')).toMatch(/^ok issued by the election office/);
    expect(line(r.report, 'ballot-record')).toMatch(/^ok batch 2/);
    expect(line(r.report, 'ballot-marks')).toMatch(/^ok unchecked: the reader rejected the scan \(mis-scaled: the ballot is printed at \d+\.\d % of its size; 97–103 % is accepted\), so its marks are not compared/);
    const text = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-image', writeFile(s.images[0]?.bytes ?? Buffer.alloc(0), 'png'), '--election-keys', keysFile]);
    expect(text.stdout).toContain('(found over the whole page: it did not align)');
  });

  it('fails a scanned counterfeit', async () => {
    const r = await audit(['--ballot-image', writeFile(counterfeitSheet.images[0]?.bytes ?? Buffer.alloc(0), 'png'), '--election-keys', keysFile]);
    expect(r.code).toBe(1);
    expect(line(r.report, 'ballot-codes')).toMatch(/^FAIL bad-signature: This ballot was not issued by the election office/);
    expect(line(r.report, 'ballot-record')).toMatch(/is not in any batch of this bundle/);
  });

  it.each([
    ['a missing image', () => path.join(work, 'no-scan.png'), /no-scan\.png: cannot read the ballot image: no such file/],
    ['a text file', () => writeFile('not an image at all\n', 'png'), /unreadable-image: not a readable image/],
    ['a blank page', async () => writeFile(await sharp({ create: { width: 1275, height: 1650, channels: 3, background: '#ffffff' } }).png().toBuffer(), 'png'), /could not decode the address, ballotId, votingId codes of the scan \(the page did not align: /],
  ])('refuses %s (exit 1)', async (_name, make, message) => {
    const r = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-image', await make(), '--election-keys', keysFile]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(message);
  });
});

describe('a two-sided sheet', () => {
  const general = example('general');
  let dir: string;
  let twoSided: RenderedSheet;

  beforeAll(async () => {
    dir = path.join(work, 'general');
    fs.mkdirSync(dir);
    twoSided = await new TestDeck(deckOptions({ election: general, precinctId: 'p-0001', kinds: { normal: 1 }, seed: 'audit-paper-sides', markKinds: ['full'] })).sheet(0);
    const signer = testSigner(11);
    const genesis: Genesis = {
      format: 'tallyproof-ledger/1',
      mode: 'official',
      election: { hash: general.hash, title: general.definition.election.title, contests: contestMap(general) },
      station: { id: 'station-4', number: 4, publicKey: Buffer.from(signer.publicKey).toString('hex') },
    };
    const file = path.join(dir, 'official.sqlite');
    const ledger = Ledger.create(file, genesis);
    const t = twoSided.truth;
    // as the station does: one record per sheet, both sides' contests, the voting ID of the first image read
    const firstSide = t.images[0]?.side ?? 'front';
    const votingId = encodeVotingId({ electionHashPrefix: general.hash.slice(0, 16), precinctId: t.precinctId, styleId: t.styleId, side: firstSide, mode: t.mode });
    const p = ledger.appendPending(
      captureOf({ ballotId: t.serial, votingId, mode: 'official', castAsIs: false, images: twoSided.images.map((im) => im.bytes), calibrationVersion: 1, contests: t.expected.contests }, genesis.election.contests),
    );
    if (!p.ok) throw new Error('append refused');
    ledger.confirmCast(p.value.seq);
    if (!ledger.closeBatch(signer).ok) throw new Error('close refused');
    ledger.close();
    exportBundle(file, path.join(dir, 'bundle'), { electionDefinition: path.join(EXAMPLES, 'general.json') });
    publishOffline(path.join(dir, 'bundle'));
  }, 60_000);

  it("checks each side's scan: its codes, the sheet's one record, and that side's contests", async () => {
    expect(twoSided.images).toHaveLength(2);
    const seen: string[] = [];
    for (const [k, im] of twoSided.images.entries()) {
      const side = twoSided.truth.images[k]?.side;
      const r = await audit(['--ballot-image', writeFile(im.bytes, 'png'), '--election-keys', keysFile], path.join(dir, 'bundle'));
      expect({ side, failures: r.report.failures }).toEqual({ side, failures: [] });
      expect(line(r.report, 'ballot-record')).toMatch(k === 0 ? /^ok batch 1: the record of serial \w{12} has the paper's voting-ID digest [0-9a-f]{16} and mode official$/ : /\(the record's voting-ID digest is of the sheet's other side \(TPV1:.*\)\)$/);
      const marks = line(r.report, 'ballot-marks');
      expect(marks).toMatch(new RegExp(`^ok ${side} side: the marks read in \\d+ contest\\(s\\) equal the record's selections`));
      seen.push(marks);
    }
    // each side compares its own contests, not the whole record
    const counts = seen.map((m) => Number(/in (\d+) contest/.exec(m)?.[1]));
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(Object.keys(twoSided.truth.expected.contests).length);
  });
});
