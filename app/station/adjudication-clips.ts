import type { ValidElection } from '../../ballots/election';
import type { BallotLayout, Rect, SideLayout } from '../../ballots/layout';
import { layoutCache } from '../../ballots/layout';
import { parseVotingId } from '../../ballots/identity/voting-id';
import type { LocatedPage } from '../../ballots/read/clip';
import { clipRect, locatePage } from '../../ballots/read/clip';
import type { AdjudicationItem } from '../ledger/adjudicated-tally';
import type { ImageStore } from '../ledger/image-store';
import type { SheetDetail } from '../ledger/sheet-detail';

/** What a person is shown of one item: a PNG clip, or why there is none. */
export type ItemClip = { readonly png: Buffer; readonly side: string } | { readonly why: string };

/** A kept image by its ID, checked against the ledger's SHA-256: the decrypted scan, or why it cannot be had (file gone, altered, another image). */
export type KeptImage = (imageId: string, sha256: Uint8Array) => Promise<{ readonly bytes: Uint8Array } | { readonly why: string }>;

/** The station's image store (app/ledger/image-store.ts) as a KeptImage. */
export function keptFromStore(store: () => ImageStore): KeptImage {
  return async (imageId, sha256) => {
    const r = store().get(imageId, sha256);
    return r.ok ? { bytes: r.value.bytes } : { why: `the kept scan cannot be read (${r.error.kind}): ${r.error.message}` };
  };
}

/** How much of the ballot around an item a clip shows, in mm: enough to see the mark and what it is beside. */
const AROUND_OVAL_MM = 2;
const AROUND_WRITE_IN_MM = 1;
/** how far under the oval an option's row goes (its party line) */
const OPTION_ROW_BELOW_OVAL_MM = 4;

/** The page rectangle a clip of an item shows: the oval with its option's name; a write-in line with its oval; a whole contest. */
export function itemRect(side: SideLayout, item: Pick<AdjudicationItem, 'contest' | 'option'>): Rect | undefined {
  const box = side.contests.find((c) => c.contestId === item.contest);
  if (box === undefined) return undefined;
  if (item.option === null) return box;
  const t = side.targets.find((x) => x.contestId === item.contest && x.optionId === item.option);
  if (t === undefined) return undefined;
  const a = t.writeInArea;
  if (a !== undefined) return union(t, a);
  // the oval's row: the name beside it and, under the name, the party line
  return { x: t.x, y: t.y - 1, width: box.x + box.width - t.x, height: t.height + OPTION_ROW_BELOW_OVAL_MM };
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/**
 * Clips for items of one election: each ballot's kept sides are decrypted and aligned once, and each item is
 * cut from the side its contest is printed on. `votingIdOf` and `detailOf` read the ballot's pending entry.
 */
export class AdjudicationClipper {
  private readonly layouts: (styleId: string) => BallotLayout;
  private readonly located = new Map<string, Promise<Array<{ page: LocatedPage } | { why: string }>>>();

  constructor(
    private readonly election: ValidElection,
    private readonly kept: KeptImage,
  ) {
    this.layouts = layoutCache(election.definition);
  }

  async clip(item: AdjudicationItem, votingId: string, detail: SheetDetail | undefined): Promise<ItemClip> {
    const v = parseVotingId(votingId);
    if (!v.ok) return { why: `the ballot's voting ID "${votingId}" does not parse: ${v.error.message}` };
    let layout: BallotLayout;
    try {
      layout = this.layouts(v.value.styleId);
    } catch (e) {
      return { why: `no layout for ballot style "${v.value.styleId}" in this election: ${(e as Error).message}` };
    }
    const side = layout.sides.find((s) => s.contests.some((c) => c.contestId === item.contest));
    const rect = side === undefined ? undefined : itemRect(side, item);
    if (side === undefined || rect === undefined) return { why: `contest "${item.contest}"${item.option === null ? '' : ` option "${item.option}"`} is not on ballot style "${v.value.styleId}"` };
    if (detail === undefined) return { why: 'the ballot was recorded before the station kept per-sheet detail: no image to clip (look at the paper)' };
    const pages = await this.pagesOf(item.ballotId, detail, layout.page);
    const found = pages.find((p): p is { page: LocatedPage } => 'page' in p && (p.page.side === side.side || (layout.sides.length === 1 && p.page.side === undefined)));
    if (found === undefined) {
      const whys = pages.filter((p): p is { why: string } => 'why' in p).map((p) => p.why);
      return { why: whys.length > 0 ? whys.join('; ') : `the ${side.side} side of the ballot was not found among its kept images` };
    }
    const png = await clipRect(found.page, rect, item.option !== null && side.targets.some((t) => t.optionId === item.option && t.contestId === item.contest && t.writeInArea !== undefined) ? AROUND_WRITE_IN_MM : AROUND_OVAL_MM);
    return { png, side: side.side };
  }

  private pagesOf(ballotId: string, detail: SheetDetail, page: { width: number; height: number }): Promise<Array<{ page: LocatedPage } | { why: string }>> {
    let p = this.located.get(ballotId);
    if (p === undefined) {
      p = Promise.all(
        detail.sides.map(async (s, i): Promise<{ page: LocatedPage } | { why: string }> => {
          if (!s.kept) return { why: `scan ${i + 1} of the sheet was not kept (the station's image retention setting)` };
          const img = await this.kept(s.imageId, s.sha256);
          if ('why' in img) return { why: `scan ${i + 1}: ${img.why}` };
          const located = await locatePage(img.bytes, page);
          return located.ok ? { page: located.value } : { why: `scan ${i + 1} could not be aligned: ${located.error}` };
        }),
      );
      this.located.set(ballotId, p);
    }
    return p;
  }
}
