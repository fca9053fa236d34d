import type { Event } from '@k8ts/mvcc';
import { describe, expect, test } from 'vitest';
import { WatchHub, inRange } from './watch_hub.js';
import { MemoryHistory, bytes, del, put, spec } from './test_support.js';

function collect(): { got: string[]; sink: { events(events: Event[]): void; compacted(revision: number): void } } {
  const got: string[] = [];
  return {
    got,
    sink: {
      events: (events) => got.push(...events.map((e) => `${e.type} ${Buffer.from(e.kv.key).toString()}@${e.kv.modRevision}${e.prevKv ? ' +prev' : ''}`)),
      compacted: (revision) => got.push(`compacted ${revision}`),
    },
  };
}

describe('WatchHub', () => {
  test('key ranges: one key, [key, end), and from-key', () => {
    expect(inRange(bytes('a'), bytes('a'), new Uint8Array())).toBe(true);
    expect(inRange(bytes('ab'), bytes('a'), new Uint8Array())).toBe(false);
    expect(inRange(bytes('ab'), bytes('a'), bytes('b'))).toBe(true);
    expect(inRange(bytes('b'), bytes('a'), bytes('b'))).toBe(false);
    expect(inRange(bytes('zzz'), bytes('a'), new Uint8Array([0]))).toBe(true);
  });

  test('a watch from a past revision replays history, then gets live events, in order', () => {
    const hub = new WatchHub(new MemoryHistory([put('a', 2), put('b', 3), put('a', 4)]));
    const { got, sink } = collect();
    hub.add(spec('a', { startRevision: 3 }), sink);
    hub.publish([put('a', 5), put('b', 5)]);
    expect(got).toEqual(['PUT a@4', 'PUT a@5']);
  });

  test('filters and prev_kv', () => {
    const hub = new WatchHub(new MemoryHistory());
    const noPut = collect();
    const withPrev = collect();
    hub.add(spec('k', { noPut: true }), noPut.sink);
    hub.add(spec('k', { prevKv: true, noDelete: true }), withPrev.sink);
    hub.publish([put('k', 2, 'old'), del('k', 3)]);
    expect(noPut.got).toEqual(['DELETE k@3']);
    expect(withPrev.got).toEqual(['PUT k@2 +prev']);
  });

  test('a start below the compaction revision is refused with it; at it, history is there', () => {
    const hub = new WatchHub(new MemoryHistory([put('a', 5), put('a', 6)], 5));
    const below = collect();
    expect(hub.add(spec('a', { startRevision: 4 }), below.sink)).toBeUndefined();
    expect(below.got).toEqual(['compacted 5']);
    const at = collect();
    expect(hub.add(spec('a', { startRevision: 5 }), at.sink)).toBeDefined();
    expect(at.got).toEqual(['PUT a@5', 'PUT a@6']);
  });

  test('a removed watch hears nothing more', () => {
    const hub = new WatchHub(new MemoryHistory());
    const { got, sink } = collect();
    const id = hub.add(spec('a'), sink);
    hub.remove(id ?? -1);
    hub.publish([put('a', 2)]);
    expect(got).toEqual([]);
    expect(hub.size()).toBe(0);
  });
});
