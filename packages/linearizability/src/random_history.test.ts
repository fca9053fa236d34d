import { seededRandom } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import { checkHistory, type Operation, type Value } from './index.js';

// Histories recorded from a real sequential register driven by concurrent simulated clients: each
// operation takes effect at one instant strictly inside its interval, so the history is
// linearizable by construction. Then one read is corrupted and the checker must object.

interface Pending {
  readonly operation: Operation;
  applied: boolean;
  /** Set when applied: what the client will be told. */
  result?: { readonly value?: Value; readonly succeeded?: boolean };
}

interface GeneratorOptions {
  readonly seed: number;
  readonly operations: number;
  readonly clients: number;
  readonly keys: readonly string[];
}

/**
 * Each step, one random client moves on: invokes an operation, or applies its pending one to the
 * register, or receives the answer. Some clients crash (outcome unknown, applied or not, replaced
 * by a fresh client id); some requests are refused before applying (outcome fail).
 */
function generateHistory({ seed, operations, clients, keys }: GeneratorOptions): Operation[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const register = new Map<string, Value>();
  const written: Value[] = [null];
  const history: Operation[] = [];
  const slots: (Pending | undefined)[] = Array.from({ length: clients }, () => undefined);
  const clientIds = Array.from({ length: clients }, (_, i) => i);
  let nextClientId = clients;
  let started = 0;
  let now = 0;

  const finish = (slot: number, operation: Operation) => {
    history.push(operation);
    slots[slot] = undefined;
  };

  while (started < operations || slots.some((s) => s !== undefined)) {
    now += 1 + Math.floor(next() * 3);
    const slot = Math.floor(next() * clients);
    const pending = slots[slot];
    const client = clientIds[slot]!;
    if (pending === undefined) {
      if (started >= operations) continue;
      started++;
      const key = pick(keys);
      const roll = next();
      const value = `c${client}-${started}`;
      const base = { client, key, invokedAt: now, outcome: 'ok' as const };
      const operation: Operation =
        roll < 0.45
          ? { ...base, kind: 'read' }
          : roll < 0.8
            ? { ...base, kind: 'write', value }
            : {
                ...base,
                kind: 'cas',
                // Often the value seen now (it may change before this applies), else an old one.
                expected: next() < 0.6 ? (register.get(key) ?? null) : pick(written),
                value,
              };
      slots[slot] = { operation, applied: false };
    } else if (!pending.applied && next() < 0.6) {
      const { operation } = pending;
      const current = register.get(operation.key) ?? null;
      if (next() < 0.04) {
        // Refused before doing anything.
        finish(slot, { ...operation, completedAt: now, outcome: 'fail' });
        continue;
      }
      pending.applied = true;
      if (operation.kind === 'read') pending.result = { value: current };
      else if (operation.kind === 'write') {
        register.set(operation.key, operation.value);
        written.push(operation.value);
      } else {
        const succeeded = current === operation.expected;
        if (succeeded) {
          register.set(operation.key, operation.value);
          written.push(operation.value);
        }
        pending.result = { succeeded };
      }
    } else if (next() < 0.05) {
      // The client crashes before hearing back, whether or not its operation was applied.
      finish(slot, { ...pending.operation, outcome: 'unknown' });
      clientIds[slot] = nextClientId++;
    } else if (pending.applied) {
      finish(slot, { ...pending.operation, ...pending.result, completedAt: now, outcome: 'ok' } as Operation);
    }
  }
  return history;
}

/** Which pairs of operations overlap: proof that the history exercises concurrency. */
function overlappingPairs(history: readonly Operation[]): number {
  const end = (o: Operation) => o.completedAt ?? Infinity;
  let count = 0;
  for (let i = 0; i < history.length; i++) {
    for (let j = i + 1; j < history.length; j++) {
      const a = history[i]!;
      const b = history[j]!;
      if (a.key === b.key && a.invokedAt < end(b) && b.invokedAt < end(a)) count++;
    }
  }
  return count;
}

const isDefiniteWrite = (o: Operation) =>
  o.outcome === 'ok' && (o.kind === 'write' || (o.kind === 'cas' && o.succeeded === true));

/**
 * A read made stale for sure: it returns the value of an acknowledged write W1 although another
 * acknowledged write W2 started after W1 completed and completed before the read began. Values are
 * unique, so nothing else could have brought W1's value back.
 */
function corruptOneReadToStale(history: readonly Operation[]): { history: Operation[]; index: number } | undefined {
  for (let r = history.length - 1; r >= 0; r--) {
    const reader = history[r]!;
    if (reader.kind !== 'read' || reader.outcome !== 'ok') continue;
    for (const w2 of history) {
      if (!isDefiniteWrite(w2) || w2.key !== reader.key || w2.completedAt! >= reader.invokedAt) continue;
      const w1 = history.find(
        (o) => isDefiniteWrite(o) && o.key === reader.key && o.completedAt! < w2.invokedAt && o.value !== reader.value,
      );
      if (w1 === undefined || w1.kind === 'read') continue;
      const corrupted = history.slice();
      corrupted[r] = { ...reader, value: w1.value };
      return { history: corrupted, index: r };
    }
  }
  return undefined;
}

describe('random histories from a real register', () => {
  const seeds = [1, 2, 3, 42, 2024];

  for (const seed of seeds) {
    it(`seed ${seed}: the recorded history passes; one stale read makes it fail`, () => {
      const history = generateHistory({ seed, operations: 1000, clients: 6, keys: ['a', 'b', 'c'] });
      const context = `seed ${seed}`;

      // The generator must produce what the test claims to exercise.
      expect(history.length, context).toBe(1000);
      expect(overlappingPairs(history), context).toBeGreaterThan(400);
      expect(history.filter((o) => o.outcome === 'unknown').length, context).toBeGreaterThan(20);
      expect(history.filter((o) => o.kind === 'cas' && o.outcome === 'ok' && o.succeeded).length, context).toBeGreaterThan(5);
      expect(history.filter((o) => o.kind === 'cas' && o.outcome === 'ok' && !o.succeeded).length, context).toBeGreaterThan(5);

      const clean = checkHistory(history);
      expect(clean.ok, `${context}: ${clean.verdict === 'not-linearizable' ? clean.explanation.message : clean.verdict}`).toBe(true);

      const stale = corruptOneReadToStale(history);
      expect(stale, context).toBeDefined();
      const result = checkHistory(stale!.history);
      expect(result.verdict, context).toBe('not-linearizable');
      if (result.verdict !== 'not-linearizable') return;
      expect(result.key).toBe(history[stale!.index]!.key);
      // The explanation points at the corrupted read (as the stuck operation or one overlapping it).
      const involved = [result.explanation.stuck, ...result.explanation.concurrent].map((e) => e.index);
      expect(involved, result.explanation.message).toContain(stale!.index);
    });
  }

  it('a read of a value never written fails too', () => {
    const history = generateHistory({ seed: 7, operations: 400, clients: 5, keys: ['a', 'b'] });
    expect(checkHistory(history).ok).toBe(true);
    const r = history.findIndex((o, i) => i > 200 && o.kind === 'read' && o.outcome === 'ok');
    const corrupted = history.slice();
    corrupted[r] = { ...history[r]!, value: 'never-written' } as Operation;
    const result = checkHistory(corrupted);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict === 'not-linearizable') {
      const involved = [result.explanation.stuck, ...result.explanation.concurrent].map((e) => e.index);
      expect(involved).toContain(r);
    }
  });
});
