import { beforeEach, describe, expect, test } from 'vitest';
import { ERR_COMPACTED, ERR_EMPTY_KEY, ERR_FUTURE_REV } from './errors.js';
import { MvccStore } from './mvcc_store.js';
import { dec, enc, expectEtcdError, FROM_KEY, keys, prefixEnd } from './test_support.js';
import type { RangeRequest, SortTarget } from './types.js';

/**
 * The fixture, written at revisions 2..8:
 *   rev 2 a=3      rev 3 b=1       rev 4 c=2      rev 5 a=1 (a v2)
 *   rev 6 ab=9     rev 7 b=1 (b v2) rev 8 b=2 (b v3)
 * now: a=1 (create 2, mod 5, v2)  ab=9 (6, 6, v1)  b=2 (3, 8, v3)  c=2 (4, 4, v1)
 */
let store: MvccStore;
beforeEach(() => {
  store = new MvccStore();
  for (const [k, v] of [['a', '3'], ['b', '1'], ['c', '2'], ['a', '1'], ['ab', '9'], ['b', '1'], ['b', '2']] as const) {
    store.put({ key: enc(k), value: enc(v) });
  }
  expect(store.revision).toBe(8);
});

type Options = Omit<RangeRequest, 'key' | 'rangeEnd'> & { key: string; end?: Uint8Array | string };
const range = ({ key, end, ...options }: Options) =>
  store.range({ ...options, key: enc(key), rangeEnd: typeof end === 'string' ? enc(end) : end });

describe('which keys', () => {
  test('a single key, with its revisions and version', () => {
    const r = range({ key: 'b' });
    expect(r.kvs).toEqual([{ key: enc('b'), value: enc('2'), createRevision: 3, modRevision: 8, version: 3, lease: '0' }]);
    expect([r.count, r.more, r.revision]).toEqual([1, false, 8]);
  });

  test('a missing single key is an empty answer, not an error', () => {
    expect(range({ key: 'zz' })).toEqual({ kvs: [], count: 0, more: false, revision: 8 });
  });

  test('a prefix is [prefix, prefix+1)', () => {
    expect(keys(range({ key: 'a', end: prefixEnd('a') }))).toEqual(['a', 'ab']);
  });

  test('rangeEnd [0] is every key >= key; key [0] with it is every key', () => {
    expect(keys(range({ key: 'ab', end: FROM_KEY }))).toEqual(['ab', 'b', 'c']);
    expect(keys(store.range({ key: FROM_KEY, rangeEnd: FROM_KEY }))).toEqual(['a', 'ab', 'b', 'c']);
  });

  test('an end at or before the key selects nothing', () => {
    expect(range({ key: 'b', end: 'b' }).count).toBe(0);
    expect(range({ key: 'c', end: 'a' }).count).toBe(0);
  });

  test('keys are ordered bytewise, binary keys included', () => {
    const s = new MvccStore();
    for (const k of [[0xff], [0x00], [0x61, 0x00], [0x61], [0x7f, 0xff]]) s.put({ key: new Uint8Array(k), value: enc('') });
    const all = s.range({ key: FROM_KEY, rangeEnd: FROM_KEY }).kvs.map((kv) => [...kv.key]);
    // A from-key range starting at [0x00] includes the key [0x00] itself.
    expect(all).toEqual([[0x00], [0x61], [0x61, 0x00], [0x7f, 0xff], [0xff]]);
  });

  test('an empty key is refused, as etcd does', () => {
    expectEtcdError(() => store.range({ key: new Uint8Array(0) }), ERR_EMPTY_KEY);
  });
});

describe('limit, count and more', () => {
  test('limit cuts the answer; count is every key in the range; more says there were more', () => {
    const r = range({ key: 'a', end: FROM_KEY, limit: 2 });
    expect([keys(r), r.count, r.more]).toEqual([['a', 'ab'], 4, true]);
  });

  test('a limit equal to the number of keys has no more', () => {
    const r = range({ key: 'a', end: FROM_KEY, limit: 4 });
    expect([r.kvs.length, r.more]).toEqual([4, false]);
  });

  test('countOnly returns the count and no kvs, whatever the limit', () => {
    expect(range({ key: 'a', end: FROM_KEY, countOnly: true, limit: 1 })).toEqual({ kvs: [], count: 4, more: false, revision: 8 });
  });

  test('keysOnly drops values and keeps everything else', () => {
    const [kv] = range({ key: 'b', keysOnly: true }).kvs;
    expect(kv).toEqual({ key: enc('b'), value: new Uint8Array(0), createRevision: 3, modRevision: 8, version: 3, lease: '0' });
    expect(dec(range({ key: 'b' }).kvs[0]!.value)).toBe('2'); // the stored value is untouched
  });
});

describe('historical revisions', () => {
  test('a range at an old revision sees the values of that revision', () => {
    const r = range({ key: 'a', end: FROM_KEY, revision: 4 });
    expect(r.kvs.map((kv) => `${dec(kv.key)}=${dec(kv.value)} v${kv.version}`)).toEqual(['a=3 v1', 'b=1 v1', 'c=2 v1']);
    expect(r.revision).toBe(8); // the header revision is always the current one
  });

  test('revision 0 or below means the current revision', () => {
    expect(range({ key: 'a', revision: 0 }).kvs[0]!.version).toBe(2);
    expect(range({ key: 'a', revision: -3 }).kvs[0]!.version).toBe(2);
  });

  test('revision 1 is the empty store', () => {
    expect(range({ key: 'a', end: FROM_KEY, revision: 1 }).count).toBe(0);
  });

  test('a future revision is refused', () => {
    expectEtcdError(() => range({ key: 'a', revision: 9 }), ERR_FUTURE_REV);
  });

  test('a revision before the compaction is refused; the compaction revision itself is fine', () => {
    store.compact({ revision: 5 });
    expectEtcdError(() => range({ key: 'a', revision: 4 }), ERR_COMPACTED);
    expect(keys(range({ key: 'a', end: FROM_KEY, revision: 5 }))).toEqual(['a', 'b', 'c']);
  });
});

describe('sorting', () => {
  const sorted = (sortTarget: SortTarget, sortOrder: 'ASCEND' | 'DESCEND' | 'NONE', limit = 0) =>
    keys(range({ key: 'a', end: FROM_KEY, sortTarget, sortOrder, limit }));

  test.each([
    // target, ascending, descending (ties keep ascending key order both ways, as etcd for few keys)
    ['KEY', ['a', 'ab', 'b', 'c'], ['c', 'b', 'ab', 'a']],
    ['VERSION', ['ab', 'c', 'a', 'b'], ['b', 'a', 'ab', 'c']],
    ['CREATE', ['a', 'b', 'c', 'ab'], ['ab', 'c', 'b', 'a']],
    ['MOD', ['c', 'a', 'ab', 'b'], ['b', 'ab', 'a', 'c']],
    ['VALUE', ['a', 'b', 'c', 'ab'], ['ab', 'b', 'c', 'a']],
  ] as const)('by %s', (target, ascending, descending) => {
    expect(sorted(target, 'ASCEND')).toEqual(ascending);
    expect(sorted(target, 'DESCEND')).toEqual(descending);
  });

  test('sortOrder NONE with target KEY is key order', () => {
    expect(sorted('KEY', 'NONE')).toEqual(['a', 'ab', 'b', 'c']);
  });

  test('sortOrder NONE with another target means ASCEND', () => {
    expect(sorted('MOD', 'NONE')).toEqual(['c', 'a', 'ab', 'b']);
  });

  test('with a sort order, the limit applies after sorting', () => {
    const r = range({ key: 'a', end: FROM_KEY, sortTarget: 'MOD', sortOrder: 'DESCEND', limit: 2 });
    expect([keys(r), r.more, r.count]).toEqual([['b', 'ab'], true, 4]);
  });

  test('etcd quirk: target MOD with order NONE sorts only the first limit+1 keys read', () => {
    // etcd reads limit+1 keys in key order (a, ab, b) when sortOrder is NONE, then sorts those.
    const r = range({ key: 'a', end: FROM_KEY, sortTarget: 'MOD', sortOrder: 'NONE', limit: 2 });
    expect([keys(r), r.more]).toEqual([['a', 'ab'], true]);
  });
});

describe('min/max revision filters', () => {
  test.each([
    ['minModRevision', 6, ['ab', 'b']],
    ['maxModRevision', 5, ['a', 'c']],
    ['minCreateRevision', 4, ['ab', 'c']],
    ['maxCreateRevision', 3, ['a', 'b']],
  ] as const)('%s %d', (field, value, expected) => {
    const r = range({ key: 'a', end: FROM_KEY, [field]: value });
    expect(keys(r)).toEqual(expected);
    expect(r.count).toBe(4); // count is taken before the filters
  });

  test('filters apply before the limit, and more counts what survived them', () => {
    const r = range({ key: 'a', end: FROM_KEY, minModRevision: 5, limit: 1 });
    expect([keys(r), r.more]).toEqual([['a'], true]);
    const last = range({ key: 'a', end: FROM_KEY, minModRevision: 8, limit: 1 });
    expect([keys(last), last.more]).toEqual([['b'], false]);
  });
});
