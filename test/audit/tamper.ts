import fs from 'node:fs';
import path from 'node:path';
import type { AuditReport } from '../../app/audit/audit-verify';
import { ManifestSchema, manifestText, otsPath, readJson, sha256HexOfBytes } from '../../app/formats/bundle-files';
import type { Publication } from '../../app/formats/publication-formats';

/*
 * A forger's edits to a completed bundle, one thing each, with the failure `audit verify` must name.
 * Both bundles the tests complete have batches 1 (records), 2 (empty) and 3 (records over several chunks).
 */

export interface TamperContext {
  /** a ballot of batch 1 */
  readonly firstBallot: string;
  /** the first leaf index of batch 3 */
  readonly batch3Start: number;
}

export interface TamperCase {
  readonly name: string;
  readonly mutate: (dir: string, c: TamperContext) => void;
  readonly expected: (c: TamperContext) => RegExp;
  /** rewrite the manifest to match, as a forger would (false: leave it, to test the manifest itself) */
  readonly remanifest?: boolean;
}

interface BatchJson {
  records: { leafIndex: number; record: string; inclusionProof: string[] }[];
}

export function editJson<T>(file: string, edit: (v: T) => void): void {
  const v = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  edit(v);
  fs.writeFileSync(file, `${JSON.stringify(v, null, 1)}\n`);
}

/** A copy of the bundle with one thing changed (and the manifest rewritten to match unless told not to). */
export function tampered(bundle: string, into: string, mutate: (dir: string) => void, remanifest = true): string {
  fs.cpSync(bundle, into, { recursive: true });
  mutate(into);
  if (remanifest) {
    const m = readJson(into, 'manifest.json', ManifestSchema);
    const files = m.files.map((f) => {
      const data = fs.readFileSync(path.join(into, f.path));
      return { path: f.path, bytes: data.length, sha256: sha256HexOfBytes(data) };
    });
    fs.writeFileSync(path.join(into, 'manifest.json'), manifestText({ ...m, files }));
  }
  return into;
}

export function failedLines(r: AuditReport): string[] {
  return r.failures.map((f) => `${f.check}${f.batch !== undefined ? ` b${f.batch}` : ''}${f.ballot !== undefined ? ` ${f.ballot}` : ''}: ${f.detail}`);
}

const flipHex = (s: string, at: number): string => `${s.slice(0, at)}${s[at] === '0' ? '1' : '0'}${s.slice(at + 1)}`;

export const TAMPER_CASES: readonly TamperCase[] = [
  {
    name: 'a changed record',
    mutate: (d) =>
      editJson<BatchJson>(path.join(d, 'batches/batch-000003.json'), (b) => {
        const r = b.records[4] as { record: string };
        r.record = flipHex(r.record, r.record.length - 1);
      }),
    expected: (c) => new RegExp(`^inclusion b3 \\w+: leaf ${c.batch3Start + 4}: inclusion proof leads to a different root`, 'm'),
  },
  {
    name: 'a changed proof hash',
    mutate: (d) =>
      editJson<BatchJson>(path.join(d, 'batches/batch-000001.json'), (b) => {
        const p = (b.records[2] as { inclusionProof: string[] }).inclusionProof;
        p[0] = flipHex(p[0] as string, 0);
      }),
    expected: () => /^inclusion b1 \w+: leaf 2: /m,
  },
  {
    name: 'a bad checkpoint signature',
    mutate: (d) =>
      editJson<{ signature: string }[]>(path.join(d, 'checkpoints.json'), (l) => {
        const c = l[2] as { signature: string };
        c.signature = flipHex(c.signature, 10);
      }),
    expected: () => /^checkpoint b3: checkpoints\/batch-000003.txt: the signature is not the station key's/m,
  },
  {
    name: 'a changed anchor commitment',
    mutate: (d) =>
      editJson<Publication>(path.join(d, 'publication/batch-000001.json'), (p) => {
        p.anchor.tx.hex = flipHex(p.anchor.tx.hex, p.anchor.tx.hex.indexOf('54504101') + 8 + 64);
      }),
    expected: () => /^anchor b1: the anchor's commitment \w+ is not SHA-256/m,
  },
  {
    name: 'a changed header',
    mutate: (d) =>
      editJson<Publication>(path.join(d, 'publication/batch-000003.json'), (p) => {
        const h = p.anchor.headersAfter[0] as { header: string };
        h.header = flipHex(h.header, 156); // a nonce byte
      }),
    expected: () => /^anchor-headers b3: the header at height \d+ (does not link|\(.*\) does not meet)/m,
  },
  {
    name: 'a dropped records chunk',
    mutate: (d) =>
      editJson<Publication>(path.join(d, 'publication/batch-000003.json'), (p) => {
        p.records.txs.splice(1, 1);
      }),
    expected: () => /^records-chain b3: chunk 1 of \d+ is missing/m,
  },
  {
    name: 'a duplicated records chunk',
    mutate: (d) =>
      editJson<Publication>(path.join(d, 'publication/batch-000003.json'), (p) => {
        p.records.txs.push(p.records.txs[0] as (typeof p.records.txs)[number]);
      }),
    expected: () => /^records-chain b3: records tx \w+: chunk 0 appears more than once/m,
  },
  {
    name: 'swapped tally numbers',
    mutate: (d) =>
      editJson<{ contests: { votes: Record<string, number> }[] }>(path.join(d, 'tally.json'), (t) => {
        const v = (t.contests[0] as { votes: Record<string, number> }).votes;
        const [a, b] = Object.keys(v) as [string, string];
        const x = v[a] as number;
        v[a] = (v[b] as number) + 1;
        v[b] = x;
      }),
    expected: () => /^tally: the tally recomputed from the records differs from tally.json at contests\[0\]\.votes\./m,
  },
  {
    name: 'a corrupt .ots',
    mutate: (d, c) => {
      const f = path.join(d, otsPath(c.firstBallot));
      const b = fs.readFileSync(f);
      b[b.length - 20] = (b[b.length - 20] as number) ^ 0x10;
      fs.writeFileSync(f, b);
    },
    expected: (c) => new RegExp(`^ots b1 ${c.firstBallot}: ots/${c.firstBallot}.ots: `, 'm'),
  },
  {
    name: 'a file changed behind the manifest',
    mutate: (d) => fs.appendFileSync(path.join(d, 'election.json'), ' '),
    expected: () => /^manifest: election.json: changed since the manifest was written/m,
    remanifest: false,
  },
];
