/** Helpers for this package's tests (the store does not use them). */
import type { Event } from '@k8ts/mvcc';
import { inRange, type WatchHistory, type WatchSpec } from './watch_hub.js';

export const bytes = (text: string): Uint8Array => Buffer.from(text);

export const put = (key: string, revision: number, prev?: string, lease = '0', value = `v${revision}`): Event => ({
  type: 'PUT',
  kv: { key: bytes(key), value: bytes(value), createRevision: revision, modRevision: revision, version: 1, lease },
  ...(prev === undefined ? {} : { prevKv: { key: bytes(key), value: bytes(prev), createRevision: 1, modRevision: 1, version: 1, lease: '0' } }),
});

export const del = (key: string, revision: number): Event => ({
  type: 'DELETE',
  kv: { key: bytes(key), value: new Uint8Array(), createRevision: 0, modRevision: revision, version: 0, lease: '0' },
});

export const spec = (key: string, overrides: Partial<WatchSpec> = {}): WatchSpec => ({
  key: bytes(key),
  rangeEnd: new Uint8Array(),
  startRevision: 0,
  prevKv: false,
  noPut: false,
  noDelete: false,
  ...overrides,
});

/** History as the MVCC store keeps it: events in revision order, and a compaction point. */
export class MemoryHistory implements WatchHistory {
  constructor(
    readonly events: Event[] = [],
    public compacted = 0,
  ) {}

  currentRevision(): number {
    return this.events.at(-1)?.kv.modRevision ?? 0;
  }

  compactRevision(): number {
    return this.compacted;
  }

  eventsSince(start: number, key: Uint8Array, end: Uint8Array): Event[] {
    return this.events.filter((event) => event.kv.modRevision >= start && inRange(event.kv.key, key, end));
  }
}

/** Polls `probe` until it returns a value; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
