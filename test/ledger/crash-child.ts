/**
 * The process the crash test kills: it appends ballots through the station's code path (Ledger.create /
 * open, reconcile after a restart, appendPending, confirmCast / markReturned, closeBatch) and reports each
 * entry on stdout only after the call that made it durable has returned.
 *
 *   node scripts/run-ts.js test/ledger/crash-child.ts <ledger file> <seed> <ballots>
 *
 * Lines: `START <unreconciled count>`, `ACK <seq> <entry hash hex>`, `DONE`.
 */
import fs from 'node:fs';
import { toHex } from '../../lib/bytes';
import type { ScannerReport } from '../../app/ledger/ledger';
import { Ledger } from '../../app/ledger/ledger';
import { genesisFor, mulberry32, randomCapture, testSigner } from './fixtures';

function say(line: string): void {
  // synchronous: a line the parent reads is a line that was written before the kill
  fs.writeSync(1, `${line}\n`);
}

function main(): void {
  const [file, seedRaw, countRaw] = process.argv.slice(2);
  if (file === undefined || seedRaw === undefined || countRaw === undefined) {
    process.stderr.write('usage: crash-child.ts <ledger file> <seed> <ballots>\n');
    process.exit(2);
  }
  const rand = mulberry32(Number(seedRaw));
  const signer = testSigner();
  const ledger = fs.existsSync(file) ? Ledger.open(file) : Ledger.create(file, genesisFor('official', signer));
  // heads signed every 7 entries into the ledger and a second location beside it: kills land in those writes too
  ledger.useHeadSigning({ signer, every: 7, dir: `${file}.heads` });
  const leftover = ledger.unreconciledBallots();
  say(`START ${leftover.length}`);
  if (leftover.length > 0) {
    const reports = new Map<number, ScannerReport>(leftover.map((b) => [b.pendingSeq, (['dropped', 'returned', 'unknown'] as const)[Math.floor(rand() * 3)] as ScannerReport]));
    const r = ledger.reconcile(reports);
    if (!r.ok) throw new Error(`reconcile refused: ${JSON.stringify(r.error)}`);
    say(`ACK ${ledger.headNow().seq} ${toHex(ledger.headNow().hash)}`);
  }
  const ack = (a: { seq: number; entryHash: Uint8Array }): void => say(`ACK ${a.seq} ${toHex(a.entryHash)}`);
  for (let i = 0; i < Number(countRaw); i++) {
    const p = ledger.appendPending(randomCapture(rand));
    if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
    ack(p.value);
    const x = rand();
    const settled = x < 0.8 ? ledger.confirmCast(p.value.seq) : ledger.markReturned(p.value.seq, 'overvote:mayor');
    if (!settled.ok) throw new Error('settle refused');
    ack(settled.value);
    if (rand() < 0.02) {
      const c = ledger.closeBatch(signer);
      if (!c.ok) throw new Error('close refused');
      // the batch's signed head follows its checkpoint within the call: the head now is what is durable
      say(`ACK ${ledger.headNow().seq} ${toHex(ledger.headNow().hash)}`);
    }
  }
  ledger.close();
  say('DONE');
}

main();
