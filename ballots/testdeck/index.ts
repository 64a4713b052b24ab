export * from './deck';
export * from './truth';
export * from '../gray-image';
export { MARK_KINDS, EXPECTED_CLASS } from './marks';
export type { MarkKind, MarkClass } from './marks';
export type { Distortion, DistortionProfile } from './distort';
export { Rng } from './rng';
export { renderDeck } from './parallel';
export type { SheetOutput } from './parallel';
