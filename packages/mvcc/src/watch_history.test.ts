import { describe, expect, test } from 'vitest';
import { MvccStore } from './mvcc_store.js';
import { del, enc, FROM_KEY, prefixEnd, put, showEvent } from './test_support.js';
import type { WatchHistory } from './watch_history.js';

const shown = (h: WatchHistory): string[] | string =>
  h.compacted ? `compacted at ${h.compactRevision}` : [...h.events.map(showEvent), `next ${h.nextRevision}`];

function storyStore(): MvccStore {
  const store = new MvccStore();
  store.put({ key: enc('a'), value: enc('1') }); // 2
  store.put({ key: enc('b'), value: enc('1') }); // 3
  store.put({ key: enc('a'), value: enc('2') }); // 4
  store.txn({ success: [put('c', '1'), del('b'), put('ab', '1')] }); // 5
  store.deleteRange({ key: enc('a') }); // 6
  return store;
}

describe('eventsSince', () => {
  test('one key: every put and delete with prevKv', () => {
    expect(shown(storyStore().eventsSince(1, enc('a')))).toEqual([
      'PUT a=1@2/v1 (prev -)',
      'PUT a=2@4/v2 (prev a=1@2/v1)',
      'DELETE a@6 (prev a=2@4/v2)',
      'next 7',
    ]);
  });

  test('a prefix, from a later revision; a txn’s events keep their order and revision', () => {
    expect(shown(storyStore().eventsSince(4, enc('a'), prefixEnd('a')))).toEqual([
      'PUT a=2@4/v2 (prev a=1@2/v1)',
      'PUT ab=1@5/v1 (prev -)',
      'DELETE a@6 (prev a=2@4/v2)',
      'next 7',
    ]);
    expect(shown(storyStore().eventsSince(5, enc('a'), FROM_KEY))).toEqual([
      'PUT c=1@5/v1 (prev -)',
      'DELETE b@5 (prev b=1@3/v1)',
      'PUT ab=1@5/v1 (prev -)',
      'DELETE a@6 (prev a=2@4/v2)',
      'next 7',
    ]);
  });

  test('the events a write returns are the events history gives for its revision', () => {
    const store = storyStore();
    const written = store.txn({ success: [put('a', '3'), put('c', '2'), del('ab')] }).events;
    const history = store.eventsSince(7, enc('\u0000'), FROM_KEY);
    expect(history).toEqual({ compacted: false, events: written, nextRevision: 8 });
  });

  test('a start beyond the current revision, or 0 ("from now"), has nothing yet', () => {
    const store = storyStore();
    expect(shown(store.eventsSince(7, enc('a')))).toEqual(['next 7']);
    expect(shown(store.eventsSince(10, enc('a')))).toEqual(['next 10']);
    expect(shown(store.eventsSince(0, enc('a')))).toEqual(['next 7']);
  });

  test('batches hold whole revisions and say where to continue', () => {
    const store = storyStore();
    const first = store.eventsSince(1, enc('\u0000'), FROM_KEY, { maxRevisions: 3 });
    expect(shown(first)).toEqual(['PUT a=1@2/v1 (prev -)', 'PUT b=1@3/v1 (prev -)', 'PUT a=2@4/v2 (prev a=1@2/v1)', 'next 5']);
    const second = store.eventsSince(5, enc('\u0000'), FROM_KEY, { maxRevisions: 1 });
    expect(shown(second)).toEqual(['PUT c=1@5/v1 (prev -)', 'DELETE b@5 (prev b=1@3/v1)', 'PUT ab=1@5/v1 (prev -)', 'next 6']);
  });

  test('a key that was never written has an empty history', () => {
    expect(shown(storyStore().eventsSince(1, enc('nope')))).toEqual(['next 7']);
  });

  test('compaction: a start before it is compacted, with the compaction revision', () => {
    const store = storyStore();
    store.compact({ revision: 4 });
    expect(shown(store.eventsSince(3, enc('a')))).toBe('compacted at 4');
    expect(shown(store.eventsSince(4, enc('a')))).toEqual(['PUT a=2@4/v2 (prev -)', 'DELETE a@6 (prev a=2@4/v2)', 'next 7']);
    // prevKv is a read at the revision before the event: the compaction revision itself still answers.
    store.compact({ revision: 5 });
    expect(shown(store.eventsSince(5, enc('a')))).toEqual(['DELETE a@6 (prev a=2@4/v2)', 'next 7']);
  });

  test('lease revocation is a batch of deletes at one revision', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.put({ key: enc('y'), value: enc('1'), lease: '1' }); // 2 (a grant takes no revision)
    store.put({ key: enc('x'), value: enc('1'), lease: '1' }); // 3
    const { events } = store.leaseRevoke('1'); // 4, keys in order
    expect(events.map(showEvent)).toEqual(['DELETE x@4 (prev x=1@3/v1)', 'DELETE y@4 (prev y=1@2/v1)']);
    expect(shown(store.eventsSince(4, enc('x'), enc('z')))).toEqual([...events.map(showEvent), 'next 5']);
  });
});
