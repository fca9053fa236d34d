import { beforeEach, describe, expect, test } from 'vitest';
import { ERR_COMPACTED, ERR_FUTURE_REV } from './errors.js';
import { MvccStore } from './mvcc_store.js';
import {
  HEADER_BYTES,
  keyBytes,
  PUT_OVERHEAD_BYTES,
  REVISION_OVERHEAD_BYTES,
  TRAILER_BYTES,
} from './snapshot_layout.js';
import { enc, expectEtcdError, FROM_KEY, show } from './test_support.js';

/**
 * rev 2 a=1   rev 3 a=2   rev 4 b=1   rev 5 delete b   rev 6 c=1   rev 7 delete c   rev 8 a=3
 */
let store: MvccStore;
beforeEach(() => {
  store = new MvccStore();
  store.put({ key: enc('a'), value: enc('1') });
  store.put({ key: enc('a'), value: enc('2') });
  store.put({ key: enc('b'), value: enc('1') });
  store.deleteRange({ key: enc('b') });
  store.put({ key: enc('c'), value: enc('1') });
  store.deleteRange({ key: enc('c') });
  store.put({ key: enc('a'), value: enc('3') });
  expect(store.revision).toBe(8);
});

const all = (revision = 0) => store.range({ key: FROM_KEY, rangeEnd: FROM_KEY, revision }).kvs.map(show);

describe('compact', () => {
  test('answers with the current revision and takes none', () => {
    expect(store.compact({ revision: 4 })).toEqual({ revision: 8 });
    expect([store.revision, store.compactRevision]).toEqual([8, 4]);
  });

  test('a revision at or below the last compaction is refused as compacted', () => {
    store.compact({ revision: 4 });
    expectEtcdError(() => store.compact({ revision: 4 }), ERR_COMPACTED);
    expectEtcdError(() => store.compact({ revision: 3 }), ERR_COMPACTED);
  });

  test('a revision beyond the current one is refused as future', () => {
    expectEtcdError(() => store.compact({ revision: 9 }), ERR_FUTURE_REV);
    expect(store.compactRevision).toBe(-1);
  });

  test('compacting at the current revision is allowed', () => {
    store.compact({ revision: 8 });
    expect(all()).toEqual(['a=3@8/v3']);
  });

  test('ranges before the compaction revision fail; at and after it they answer as before', () => {
    const before = [4, 5, 6, 7, 8].map((rev) => all(rev));
    store.compact({ revision: 4 });
    expectEtcdError(() => all(3), ERR_COMPACTED);
    expect([4, 5, 6, 7, 8].map((rev) => all(rev))).toEqual(before);
  });

  test('the latest version of every live key is kept; deleted keys go', () => {
    store.compact({ revision: 7 });
    expect(all(7)).toEqual(['a=2@3/v2']);
    expect(all()).toEqual(['a=3@8/v3']);
    expect(store.range({ key: enc('b'), revision: 7 }).count).toBe(0);
  });

  test('history is dropped: the snapshot shrinks, and sizeBytes with it', () => {
    const size = store.sizeBytes();
    store.compact({ revision: 7 });
    expect(store.sizeBytes()).toBeLessThan(size);
    expect(store.sizeBytes()).toBe(store.snapshot().length);
  });

  test('compaction past a tombstone drops the key entirely', () => {
    store.compact({ revision: 8 });
    const alone = new MvccStore();
    alone.put({ key: enc('a'), value: enc('3') });
    expect(store.sizeBytes()).toBe(alone.sizeBytes());
  });

  test('a key deleted exactly at the compaction revision keeps its tombstone until the next one', () => {
    store.compact({ revision: 7 }); // c's tombstone is at 7
    const oneByteValue = REVISION_OVERHEAD_BYTES + PUT_OVERHEAD_BYTES + 1;
    const tombstone = REVISION_OVERHEAD_BYTES;
    // Kept: a's value at 7 (written at 3) and at 8, and c's tombstone at 7.
    const expected = HEADER_BYTES + TRAILER_BYTES + keyBytes(enc('a')) + 2 * oneByteValue + keyBytes(enc('c')) + tombstone;
    expect(store.sizeBytes()).toBe(expected);
    const deleteEvent = {
      type: 'DELETE',
      kv: { key: enc('c'), createRevision: 0, modRevision: 7, version: 0, value: new Uint8Array(0), lease: '0' },
    };
    expect(store.eventsSince(7, enc('c'))).toEqual({ compacted: false, events: [deleteEvent], nextRevision: 9 });
    store.put({ key: enc('d'), value: enc('') }); // 9
    store.compact({ revision: 8 });
    expect(store.eventsSince(8, enc('c'))).toEqual({ compacted: false, events: [], nextRevision: 10 });
  });

  test('a key recreated after compaction continues from its kept version', () => {
    store.compact({ revision: 8 });
    store.put({ key: enc('a'), value: enc('4') });
    expect(show(store.range({ key: enc('a') }).kvs[0])).toBe('a=4@9/v4');
    store.put({ key: enc('b'), value: enc('new') });
    expect(store.range({ key: enc('b') }).kvs[0]?.createRevision).toBe(10);
  });

  test('watch history before the compaction revision is gone; from it on it is whole', () => {
    store.compact({ revision: 5 });
    expect(store.eventsSince(4, enc('a'), FROM_KEY)).toEqual({ compacted: true, compactRevision: 5 });
    const history = store.eventsSince(5, enc('a'), FROM_KEY);
    expect(history.compacted).toBe(false);
    if (history.compacted) return;
    expect(history.events.map((e) => `${e.type} ${show(e.kv)}`)).toEqual([
      'DELETE b=@5/v0',
      'PUT c=1@6/v1',
      'DELETE c=@7/v0',
      'PUT a=3@8/v3',
    ]);
    // prevKv needs the revision before the event: the event at 5 has none (4 is compacted).
    expect(history.events.map((e) => show(e.prevKv))).toEqual(['-', '-', 'c=1@6/v1', 'a=2@3/v2']);
  });
});
