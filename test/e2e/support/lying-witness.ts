/**
 * A lying witness, as its own process: it speaks C2SP tlog-witness like `tallyproof witness` and checks the
 * log's signature, but remembers nothing, so it cosigns any checkpoint the log signed, a split view
 * included. The county-day test must catch it. Usage: run-ts.js lying-witness.ts <witness key file> <log verifier key>
 */
import fs from 'node:fs';
import { serveWitness } from '../../../app/county/witness/witness-server';
import type { WitnessState } from '../../../app/county/witness/add-checkpoint';
import { parseSignerKey, parseVerifierKey, type Signer, type Verifier } from '../../../app/county/tlog/note';

const [keyFile, logVkey] = process.argv.slice(2);
const signer = parseSignerKey(fs.readFileSync(keyFile as string, 'utf8').trim()) as Signer;
const log = parseVerifierKey(logVkey as string) as Verifier;
const amnesia: WitnessState = {
  latest: () => undefined,
  compareAndSet: () => ({ ok: true }),
  recordRefusal: () => undefined,
};
void serveWitness({ signers: [signer], logs: [{ origin: log.name, keys: [log] }], now: () => BigInt(Math.floor(Date.now() / 1000)) }, amnesia, { port: 0, host: '127.0.0.1' }).then((s) => {
  process.stdout.write(`lying witness ${signer.name}: POST ${s.url}/add-checkpoint\n`);
  const stop = (): void => void s.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
