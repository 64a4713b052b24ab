/** How one target (oval) was read: its own module, so the reader and the scoring report both use it without importing each other. */
export type MarkClass = 'filled' | 'marginal' | 'empty';

export interface MarkReading {
  readonly contestId: string;
  readonly optionId: string;
  readonly score: number;
  readonly class: MarkClass;
}
