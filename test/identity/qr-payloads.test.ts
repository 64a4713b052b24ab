import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import QRCode from 'qrcode';
import type { BallotCodes } from '../../ballots/identity';
import { issueBallotCodes } from '../../ballots/identity';
import { SERIAL, fixedKeys, votingId } from './fixtures';

/*
 * The three payloads must fit small QR codes: modules of at least 0.5 mm, three codes side by side at the
 * bottom of a letter page. At error-correction level M the ballot ID (121 alphanumeric characters) needs
 * version 5 (37 modules, 18.5 mm at 0.5 mm), the longest voting ID (91 characters) version 5 too and a
 * typical one version 3, the address (34 characters, byte mode: base58 has lower case) version 3.
 */
const longest = votingId({ precinctId: 'precinct-32-characters-long-0001', styleId: 'style-32-characters-long-0000002' });

function codesFor(network: Parameters<typeof fixedKeys>[0]): BallotCodes {
  const k = fixedKeys(network);
  return issueBallotCodes(k.private, k.public, longest, SERIAL);
}

describe('QR payloads', () => {
  it('fit QR version 5 at error correction M, the ballot and voting IDs in alphanumeric mode', () => {
    for (const network of ['florincoin-main', 'florincoin-test', 'bitcoin-main', 'litecoin-regtest'] as const) {
      const codes = codesFor(network);
      const versions = {
        address: QRCode.create(codes.address, { errorCorrectionLevel: 'M' }).version,
        ballotId: QRCode.create(codes.ballotId, { errorCorrectionLevel: 'M' }).version,
        votingId: QRCode.create(codes.votingId, { errorCorrectionLevel: 'M' }).version,
      };
      expect({ network, versions }).toEqual({ network, versions: { address: 3, ballotId: 5, votingId: 5 } });
      // Only alphanumeric-mode characters: otherwise the encoder would fall back to byte mode and grow.
      expect(codes.ballotId).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
      expect(codes.votingId).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
    }
    const k = fixedKeys();
    const typical = issueBallotCodes(k.private, k.public, votingId(), SERIAL).votingId;
    expect(QRCode.create(typical, { errorCorrectionLevel: 'M' }).version).toBe(3);
  });

  it('survive a round trip through an independent decoder (zbarimg)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-qr-'));
    try {
      const codes = codesFor('florincoin-main');
      for (const [name, payload] of Object.entries(codes)) {
        const file = path.join(tmp, `${name}.png`);
        await QRCode.toFile(file, payload, { errorCorrectionLevel: 'M', scale: 4, margin: 4 });
        const out = execFileSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
        expect({ name, decoded: out.replace(/\n$/, '') }).toEqual({ name, decoded: payload });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
