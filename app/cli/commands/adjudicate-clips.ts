import fs from 'node:fs';
import path from 'node:path';
import { loadElection } from '../../../ballots/election';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import type { AdjudicationItem } from '../../ledger/adjudicated-tally';
import { EntryKind, decodeCast, decodeGenesis, decodePending } from '../../ledger/entries';
import { openDb } from '../../ledger/storage';
import type { KeptImage } from '../../station/adjudication-clips';
import { AdjudicationClipper } from '../../station/adjudication-clips';
import { CommandFailure } from '../context';

export interface ClipWritten {
  /** the PNG written, or why there is none */
  readonly file?: string;
  readonly why?: string;
}

/** The file name of an item's clip: ballot, contest and option (or `contest` for the contest as a whole). */
export function clipFileName(i: Pick<AdjudicationItem, 'ballotId' | 'contest' | 'option'>): string {
  return `${i.ballotId}-${i.contest}-${i.option ?? 'contest'}.png`;
}

/**
 * Writes a clip of each item into `out` from the ballot's kept scan (decrypted by `kept`), or says why there
 * is none. The election definition must be the ledger's (same hash).
 */
export async function writeAdjudicationClips(input: {
  readonly ledgerFile: string;
  readonly electionFile: string;
  readonly out: string;
  readonly items: readonly AdjudicationItem[];
  readonly kept: KeptImage;
}): Promise<ClipWritten[]> {
  const loaded = loadElection(input.electionFile);
  if (!loaded.ok) throw new CommandFailure(`${input.electionFile}: ${loaded.error.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const election = loaded.value;
  const db = openDb(input.ledgerFile, { readonly: true });
  const entryAt = db.prepare('SELECT kind, payload FROM entries WHERE seq = ?');
  let pendingOf: (castSeq: number) => ReturnType<typeof decodePending>;
  try {
    const genesis = decodeGenesis((entryAt.get(1) as { payload: Buffer }).payload);
    if (genesis.election.hash !== election.hash) throw new CommandFailure(`${input.electionFile}: this election (hash ${election.hash.slice(0, 16)}…) is not the ledger's (${genesis.election.hash.slice(0, 16)}…)`);
    const cache = new Map<number, ReturnType<typeof decodePending>>();
    pendingOf = (castSeq) => {
      let p = cache.get(castSeq);
      if (p === undefined) {
        const cast = entryAt.get(castSeq) as { kind: number; payload: Buffer };
        if (cast.kind !== EntryKind.cast) throw new CommandFailure(`entry ${castSeq} is not a cast entry`);
        p = decodePending((entryAt.get(decodeCast(cast.payload)) as { payload: Buffer }).payload);
        cache.set(castSeq, p);
      }
      return p;
    };
    for (const i of input.items) pendingOf(i.castSeq);
  } finally {
    db.close();
  }
  fs.mkdirSync(input.out, { recursive: true });
  const clipper = new AdjudicationClipper(election, input.kept);
  const out: ClipWritten[] = [];
  for (const item of input.items) {
    const p = pendingOf(item.castSeq);
    const clip = await clipper.clip(item, p.votingId, p.detail);
    if ('why' in clip) {
      out.push({ why: clip.why });
      continue;
    }
    const file = path.join(input.out, clipFileName(item));
    replaceFileAtomically(file, clip.png);
    out.push({ file });
  }
  return out;
}
