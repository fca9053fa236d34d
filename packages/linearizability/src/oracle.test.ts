import { seededRandom } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import { checkHistory, type Operation, type Value } from './index.js';

// The checker's search prunes (memoization, dominance among unknown operations); a brute-force
// oracle that tries every order of every subset of unknown operations referees it on many small
// arbitrary histories, linearizable or not.

const VALUES: readonly Value[] = [null, 'a', 'b'];

function arbitraryHistory(seed: number, size: number): Operation[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return Array.from({ length: size }, (_, i): Operation => {
    const invokedAt = Math.floor(next() * 10);
    const completedAt = invokedAt + Math.floor(next() * 4);
    const roll = next();
    const outcome = roll < 0.65 ? 'ok' : roll < 0.92 ? 'unknown' : 'fail';
    const base = { client: i, key: 'x', invokedAt, outcome } as const;
    const timing = outcome === 'unknown' ? {} : { completedAt };
    const kind = pick(['read', 'write', 'cas'] as const);
    if (kind === 'read') return { ...base, ...timing, kind, value: pick(VALUES) };
    if (kind === 'write') return { ...base, ...timing, kind, value: pick(VALUES.slice(1)) };
    return { ...base, ...timing, kind, expected: pick(VALUES), value: pick(VALUES.slice(1)), succeeded: next() < 0.5 };
  });
}

/** Every permutation of every set holding all definite operations and any of the unknown ones. */
function bruteForce(history: readonly Operation[]): boolean {
  const ops = history.filter((o) => o.outcome !== 'fail' && !(o.kind === 'read' && o.outcome !== 'ok'));
  const end = (o: Operation) => (o.outcome === 'unknown' ? Infinity : o.completedAt!);
  const unknown = ops.filter((o) => o.outcome === 'unknown');
  const definite = ops.filter((o) => o.outcome === 'ok');
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...definite, ...unknown.filter((_, i) => mask & (1 << i))];
    if (somePermutation(chosen, [], null, end)) return true;
  }
  return false;
}

function somePermutation(left: Operation[], done: Operation[], value: Value, end: (o: Operation) => number): boolean {
  if (left.length === 0) return true;
  for (let i = 0; i < left.length; i++) {
    const op = left[i]!;
    // Real-time order: nothing still to place may have completed before `op` was invoked.
    if (left.some((other) => other !== op && end(other) < op.invokedAt)) continue;
    let after: Value;
    if (op.kind === 'read') {
      if (op.value !== value) continue;
      after = value;
    } else if (op.kind === 'write') {
      after = op.value;
    } else if (op.outcome === 'unknown') {
      after = value === op.expected ? op.value : value;
    } else if (op.succeeded) {
      if (value !== op.expected) continue;
      after = op.value;
    } else {
      if (value === op.expected) continue;
      after = value;
    }
    if (somePermutation([...left.slice(0, i), ...left.slice(i + 1)], [...done, op], after, end)) return true;
  }
  return false;
}

describe('agreement with a brute-force oracle', () => {
  it('agrees on 10000 small arbitrary histories (both verdicts well represented)', () => {
    let linearizable = 0;
    for (let seed = 0; seed < 10_000; seed++) {
      const history = arbitraryHistory(seed, 4 + (seed % 6));
      const expected = bruteForce(history);
      const result = checkHistory(history);
      expect(result.verdict, `seed ${seed}: ${JSON.stringify(history)}`).toBe(expected ? 'linearizable' : 'not-linearizable');
      if (expected) linearizable++;
    }
    expect(linearizable).toBeGreaterThan(2_000);
    expect(linearizable).toBeLessThan(8_000);
  });
});
