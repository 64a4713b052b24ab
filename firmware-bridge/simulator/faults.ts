/** What can go wrong with one sheet in the simulator, and a seeded plan that picks such faults at random. */
import type { SheetStage } from '../lifecycle';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';

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

const STAGED: Readonly<Record<string, readonly string[]>> = {
  jam: JAM_STAGES,
  'cover-open': ['idle', 'feeding', 'scanning', 'held', 'accepting', 'returning'],
  disconnect: LINK_BREAK_POINTS,
  'power-cycle': LINK_BREAK_POINTS,
};
const PLAIN = ['double-sheet', 'box-full', 'garbage', 'corrupt-frames', 'drop-frames', 'slow-link'];

/** One fault by the name describeFault gives it: `jam@accepting`, `double-sheet`, `disconnect@image`. */
export function parseFault(text: string): Result<SheetFault, string> {
  const [kind = '', at, ...rest] = text.trim().split('@');
  const stages = STAGED[kind];
  if (stages !== undefined) {
    if (at === undefined || rest.length > 0 || !stages.includes(at)) return err(`"${text}" needs a stage: one of ${stages.map((s) => `${kind}@${s}`).join(', ')}`);
    if (kind === 'jam') return ok({ kind, stage: at as JamStage });
    if (kind === 'cover-open') return ok({ kind, stage: at as SheetStage | 'idle' });
    return ok({ kind: kind as 'disconnect' | 'power-cycle', at: at as LinkBreakPoint });
  }
  if (PLAIN.includes(kind)) return at === undefined ? ok({ kind } as SheetFault) : err(`"${text}": ${kind} takes no stage`);
  return err(`"${text}" is no fault; the faults are ${[...Object.keys(STAGED).map((k) => `${k}@<stage>`), ...PLAIN].join(', ')}`);
}

/**
 * A fault plan from a line a person types: `3=jam@accepting,7=double-sheet` (the 3rd and 7th sheet fed, counted
 * from 1), or `random:SEED:RATE` (each sheet faulted with probability RATE, replayable from SEED).
 */
export function parseFaultPlan(spec: string): Result<FaultPlan, string> {
  const random = /^random:(\d+):([0-9.]+)$/.exec(spec.trim());
  if (random !== null) {
    const rate = Number(random[2]);
    if (!(rate >= 0 && rate <= 1)) return err(`${spec}: the rate must be between 0 and 1`);
    return ok(randomFaults(Number(random[1]), rate));
  }
  const plan = new Map<number, SheetFault>();
  for (const item of spec.split(',')) {
    const m = /^\s*(\d+)\s*=\s*(\S+)\s*$/.exec(item);
    if (m === null) return err(`${item.trim() || '(empty)'}: write SHEET=FAULT, e.g. 3=jam@accepting, or random:SEED:RATE`);
    const n = Number(m[1]);
    if (n < 1) return err(`${item.trim()}: sheets are counted from 1`);
    if (plan.has(n - 1)) return err(`${item.trim()}: sheet ${n} already has a fault`);
    const f = parseFault(m[2] ?? '');
    if (!f.ok) return err(`sheet ${n}: ${f.error}`);
    plan.set(n - 1, f.value);
  }
  return ok(faultsAt(plan));
}
