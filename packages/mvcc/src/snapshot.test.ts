import { describe, expect, test } from 'vitest';
import { applyCommand } from './command.js';
import { MvccStore } from './mvcc_store.js';
import { SnapshotFormatError } from './snapshot.js';
import { enc, FROM_KEY, randomCommand, seededRandom } from './test_support.js';

function busyStore(): MvccStore {
  const store = new MvccStore();
  store.leaseGrant('9223372036854775807', 100);
  store.leaseGrant('-3', 5);
  store.put({ key: enc('a'), value: enc('1'), lease: '9223372036854775807' });
  store.put({ key: new Uint8Array([0, 255]), value: new Uint8Array([1, 2, 3]) });
  store.put({ key: enc('a'), value: enc('2'), lease: '-3' });
  store.deleteRange({ key: new Uint8Array([0, 255]) });
  store.put({ key: enc('b'), value: enc('x') });
  store.compact({ revision: 4 });
  store.put({ key: enc('c'), value: enc('y'.repeat(1000)) });
  return store;
}

describe('snapshot and restore', () => {
  test('restore gives back the same state: same bytes, same answers', () => {
    const store = busyStore();
    const bytes = store.snapshot();
    const restored = MvccStore.restore(bytes);
    expect(restored.snapshot()).toEqual(bytes);
    expect([restored.revision, restored.compactRevision, restored.sizeBytes()]).toEqual([store.revision, 4, bytes.length]);
    const everything = { key: FROM_KEY, rangeEnd: FROM_KEY };
    for (const revision of [0, 4, 5, 6, 7]) {
      expect(restored.range({ ...everything, revision })).toEqual(store.range({ ...everything, revision }));
    }
    expect(restored.eventsSince(4, FROM_KEY, FROM_KEY)).toEqual(store.eventsSince(4, FROM_KEY, FROM_KEY));
    expect(restored.leases()).toEqual(store.leases());
  });

  test('lease attachments are rebuilt: revoking after restore deletes the keys', () => {
    const restored = MvccStore.restore(busyStore().snapshot());
    expect(restored.lease('-3')?.keys).toEqual([enc('a')]);
    expect(restored.leaseRevoke('-3').events.map((e) => e.type)).toEqual(['DELETE']);
    expect(restored.lease('9223372036854775807')?.keys).toEqual([]);
  });

  test('an empty store round-trips', () => {
    const empty = new MvccStore();
    const restored = MvccStore.restore(empty.snapshot());
    expect([restored.revision, restored.compactRevision, restored.sizeBytes()]).toEqual([1, -1, empty.sizeBytes()]);
  });

  test('sizeBytes is the snapshot length after every kind of change', () => {
    const store = new MvccStore();
    const random = seededRandom(7);
    for (let i = 0; i < 300; i++) {
      applyCommand(store, randomCommand(random, store.revision));
      expect(store.sizeBytes()).toBe(store.snapshot().length);
    }
  });

  test('a snapshot encoded a step at a time, while writes and compactions go on, is the one of the state it was made at', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const store = new MvccStore();
      const random = seededRandom(seed);
      for (let i = 0; i < 200; i++) applyCommand(store, randomCommand(random, store.revision));
      const expected = store.snapshot();
      const encoder = store.snapshotEncoder();
      let steps = 0;
      while (!encoder.step(1)) {
        steps += 1;
        for (let i = 0; i < 3; i++) applyCommand(store, randomCommand(random, store.revision));
        // Every key's history cut back as far as it goes, while the encoder still holds it.
        if (steps % 5 === 0) store.compact({ revision: store.revision });
      }
      expect(steps, `seed ${seed}`).toBeGreaterThan(2);
      expect(Buffer.from(encoder.finish()).equals(Buffer.from(expected)), `seed ${seed}`).toBe(true);
    }
  });

  test('damaged bytes are refused, not half-restored', () => {
    const bytes = busyStore().snapshot();
    const flipped = bytes.slice();
    flipped[40] = (flipped[40] as number) ^ 1;
    expect(() => MvccStore.restore(flipped)).toThrow(SnapshotFormatError);
    expect(() => MvccStore.restore(bytes.slice(0, bytes.length - 1))).toThrow(SnapshotFormatError);
    expect(() => MvccStore.restore(new Uint8Array(3))).toThrow(SnapshotFormatError);
  });

  test.each([1, 2, 3, 4, 5])('seed %i: a member restored from a snapshot midway answers like one that never stopped', (seed) => {
    const random = seededRandom(seed);
    const steady = new MvccStore();
    let restarted = new MvccStore();
    for (let step = 0; step < 400; step++) {
      if (step === 200) restarted = MvccStore.restore(restarted.snapshot());
      const command = randomCommand(random, steady.revision);
      expect(applyCommand(restarted, command), `step ${step}`).toEqual(applyCommand(steady, command));
    }
    expect(restarted.snapshot()).toEqual(steady.snapshot());
    expect(restarted.eventsSince(1, FROM_KEY, FROM_KEY)).toEqual(steady.eventsSince(1, FROM_KEY, FROM_KEY));
  });
});
