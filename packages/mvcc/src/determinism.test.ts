import { describe, expect, test } from 'vitest';
import { compareBytes } from './bytes.js';
import { applyCommand } from './command.js';
import { MvccStore } from './mvcc_store.js';
import { dec, FROM_KEY, randomCommand, seededRandom, show } from './test_support.js';
import type { KeyValue } from './types.js';

const everything = { key: FROM_KEY, rangeEnd: FROM_KEY };
const state = (kvs: KeyValue[]): string[] => kvs.map(show);

describe('determinism', () => {
  test.each([11, 12, 13])('seed %i: members applying the same commands stay byte-identical', (seed) => {
    const random = seededRandom(seed);
    const members = [new MvccStore(), new MvccStore(), new MvccStore()];
    let refused = 0;
    for (let step = 0; step < 300; step++) {
      const command = randomCommand(random, members[0]!.revision);
      const before = members[0]!.snapshot();
      const outcomes = members.map((m) => applyCommand(m, command));
      expect(outcomes[1], `step ${step}`).toEqual(outcomes[0]);
      expect(outcomes[2], `step ${step}`).toEqual(outcomes[0]);
      if (!outcomes[0]!.ok) {
        refused++;
        expect(compareBytes(members[0]!.snapshot(), before), `refused step ${step} changed the state`).toBe(0);
      }
      const [first, ...others] = members.map((m) => m.snapshot());
      for (const other of others) expect(compareBytes(other, first!), `step ${step}: snapshots differ`).toBe(0);
    }
    // The random mix must exercise refusals too, or this test proves less than it says.
    expect(refused).toBeGreaterThan(10);
  });

  test.each([21, 22, 23])('seed %i: every revision since compaction answers as it did when it was current', (seed) => {
    const random = seededRandom(seed);
    const store = new MvccStore();
    const seen = new Map<number, string[]>([[1, []]]);
    for (let step = 0; step < 400; step++) {
      applyCommand(store, randomCommand(random, store.revision));
      seen.set(store.revision, state(store.range(everything).kvs));
    }
    expect(store.compactRevision).toBeGreaterThan(1);
    for (const [revision, kvs] of seen) {
      if (revision < store.compactRevision) continue;
      expect(state(store.range({ ...everything, revision }).kvs), `revision ${revision}`).toEqual(kvs);
    }
  });

  test.each([31, 32])('seed %i: replaying the watch history from the compaction rebuilds the current state', (seed) => {
    const random = seededRandom(seed);
    const store = new MvccStore();
    const seen = new Map<number, KeyValue[]>([[1, []]]);
    for (let step = 0; step < 400; step++) {
      applyCommand(store, randomCommand(random, store.revision));
      seen.set(store.revision, store.range(everything).kvs);
    }
    const start = Math.max(store.compactRevision, 1);
    const replayed = new Map((seen.get(start) ?? []).map((kv) => [dec(kv.key), kv]));
    const history = store.eventsSince(start + 1, FROM_KEY, FROM_KEY, { maxRevisions: 10_000 });
    if (history.compacted) throw new Error('history unexpectedly compacted');
    for (const event of history.events) {
      if (event.type === 'PUT') replayed.set(dec(event.kv.key), event.kv);
      else replayed.delete(dec(event.kv.key));
    }
    const rebuilt = [...replayed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, kv]) => kv);
    expect(state(rebuilt)).toEqual(state(store.range(everything).kvs));
  });
});
