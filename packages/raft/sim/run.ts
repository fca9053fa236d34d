import type { Mutation, SimulationParams } from './params.js';
import { Simulation, type SimulationResult } from './simulation.js';

export interface SeedRange {
  readonly first: number;
  readonly last: number;
}

/** Parses "A-B" (inclusive) or a single seed "A". */
export function parseSeedRange(text: string): SeedRange {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (match === null) throw new Error(`--seeds takes A-B or A (non-negative integers), not "${text}"`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (last < first) throw new Error(`--seeds ${text}: the range ends before it starts`);
  return { first, last };
}

export function runSeed(
  seed: number,
  mutation?: Mutation,
  trace?: (line: string) => void,
  params?: Partial<SimulationParams>,
): Promise<SimulationResult> {
  return new Simulation({ seed, ...(mutation ? { mutation } : {}), ...(trace ? { trace } : {}), ...(params ? { params } : {}) }).run();
}

/** Runs seeds until `maxFailures` fail; returns the failing results. */
export async function runSeeds(
  range: SeedRange,
  mutation?: Mutation,
  maxFailures = Infinity,
): Promise<{ passed: number; failed: SimulationResult[] }> {
  const failed: SimulationResult[] = [];
  let passed = 0;
  for (let seed = range.first; seed <= range.last && failed.length < maxFailures; seed++) {
    const result = await runSeed(seed, mutation);
    if (result.ok) passed++;
    else failed.push(result);
  }
  return { passed, failed };
}

export function replayCommand(seed: number, mutation?: Mutation): string {
  return `pnpm raft:sim --seed ${seed}${mutation ? ` --mutation ${mutation}` : ''} --trace`;
}
