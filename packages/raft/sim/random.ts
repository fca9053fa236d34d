import { seededRandom } from '@k8ts/base';
import type { RandomSource } from '../src/index.js';

/** The simulator's draws over @k8ts/base's seeded PRNG (mulberry32). One seed reproduces a whole simulation. */
export class SeededRandom implements RandomSource {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** An independent stream, for a component that must not perturb the others' draws. */
  fork(): SeededRandom {
    return new SeededRandom(this.int(0x1_0000_0000));
  }
}
