import { InvalidArgumentError } from 'commander';

/** Parses a non-negative integer option; commander turns the thrown error into a usage error (exit 2). */
export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw: string) => {
    if (!/^-?\d+$/.test(raw)) throw new InvalidArgumentError(`${name} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}
