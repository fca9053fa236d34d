import { InvalidArgumentError } from 'commander';

/** A commander argument parser for a flag taking an integer ≥ 0. */
export const nonNegativeInteger =
  (flag: string) =>
  (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${flag} takes a non-negative integer`);
    return parsed;
  };

/** A commander argument parser for a flag taking an integer ≥ 1. */
export const positiveInteger =
  (flag: string) =>
  (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError(`${flag} takes a positive integer`);
    return parsed;
  };
