import { InvalidArgumentError } from 'commander';

/** A flag that takes a whole number ≥ min: anything else is refused with what was expected. */
export function countOption(flag: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} expects an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}
