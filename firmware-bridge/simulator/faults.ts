/** What can go wrong with one sheet in the simulator, and a seeded plan that picks such faults at random. */
import type { SheetStage } from '../lifecycle';

export type JamStage = Exclude<SheetStage, 'held'>;
export const JAM_STAGES: readonly JamStage[] = ['feeding', 'scanning', 'accepting', 'returning'];

/** Where the link breaks: during one of the paper stages, or while the host is fetching the sheet's images. */
export type LinkBreakPoint = SheetStage | 'image';

export type SheetFault =
  | { readonly kind: 'jam'; readonly stage: JamStage }
  | { readonly kind: 'double-sheet' }
  | { readonly kind: 'cover-open'; readonly stage: SheetStage | 'idle' }
  | { readonly kind: 'box-full' }
  | { readonly kind: 'garbage' }
  | { readonly kind: 'corrupt-frames' }
  | { readonly kind: 'drop-frames' }
  | { readonly kind: 'slow-link' }
  | { readonly kind: 'disconnect'; readonly at: LinkBreakPoint }
  | { readonly kind: 'power-cycle'; readonly at: LinkBreakPoint };

export const LINK_BREAK_POINTS: readonly LinkBreakPoint[] = ['feeding', 'scanning', 'image', 'held', 'accepting', 'returning'];

export type FaultKind = SheetFault['kind'];

/** Chooses the fault, if any, for the n-th sheet fed (0-based). */
export type FaultPlan = (sheetIndex: number) => SheetFault | undefined;

export const noFaults: FaultPlan = () => undefined;

export function faultsAt(map: ReadonlyMap<number, SheetFault> | Record<number, SheetFault>): FaultPlan {
  const m = map instanceof Map ? map : new Map(Object.entries(map).map(([k, v]) => [Number(k), v as SheetFault]));
  return (i) => m.get(i);
}

/** A small deterministic PRNG (mulberry32) so that a failing soak can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALL_FAULTS: readonly SheetFault[] = [
  ...JAM_STAGES.map((stage): SheetFault => ({ kind: 'jam', stage })),
  { kind: 'double-sheet' },
  ...(['idle', 'feeding', 'scanning', 'held', 'accepting', 'returning'] as const).map((stage): SheetFault => ({ kind: 'cover-open', stage })),
  { kind: 'box-full' },
  { kind: 'garbage' },
  { kind: 'corrupt-frames' },
  { kind: 'drop-frames' },
  { kind: 'slow-link' },
  ...LINK_BREAK_POINTS.map((at): SheetFault => ({ kind: 'disconnect', at })),
  ...LINK_BREAK_POINTS.map((at): SheetFault => ({ kind: 'power-cycle', at })),
];

export function randomFaults(seed: number, rate: number, pool: readonly SheetFault[] = ALL_FAULTS): FaultPlan {
  const rnd = seededRandom(seed);
  const chosen = new Map<number, SheetFault | undefined>();
  return (i) => {
    if (!chosen.has(i)) chosen.set(i, rnd() < rate ? pool[Math.floor(rnd() * pool.length)] : undefined);
    return chosen.get(i);
  };
}

export function describeFault(f: SheetFault): string {
  switch (f.kind) {
    case 'jam':
    case 'cover-open':
      return `${f.kind}@${f.stage}`;
    case 'disconnect':
    case 'power-cycle':
      return `${f.kind}@${f.at}`;
    default:
      return f.kind;
  }
}
