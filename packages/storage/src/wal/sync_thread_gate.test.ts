import { describe, expect, test } from 'vitest';
import { loneWriterGate, type SyncThreadGate } from './sync_thread_gate.js';

/** Feeds the gate `count` fdatasyncs of `records` records taking `durationMs`; returns its answers before each. */
function feed(gate: SyncThreadGate, count: number, records: number, durationMs = 0.5): boolean[] {
  const answers: boolean[] = [];
  for (let each = 0; each < count; each += 1) {
    answers.push(gate.onCallingThread());
    gate.synced(durationMs, records);
  }
  return answers;
}

describe('loneWriterGate', () => {
  test('starts on the pool, and blocks only after a window of one-record syncs', () => {
    const gate = loneWriterGate({ window: 4 });
    expect(feed(gate, 4, 1)).toEqual([false, false, false, false]);
    expect(feed(gate, 4, 1)).toEqual([true, true, true, true]);
  });

  test('batched syncs (concurrent writers) send it back to the pool from the next window on', () => {
    const gate = loneWriterGate({ window: 4 });
    feed(gate, 4, 1);
    expect(feed(gate, 4, 10)).toEqual([true, true, true, true]);
    expect(feed(gate, 4, 1)).toEqual([false, false, false, false]);
    expect(gate.onCallingThread()).toBe(true);
  });

  test('the average decides: an occasional two-record sync keeps it open', () => {
    const gate = loneWriterGate({ window: 4, maxRecordsPerSync: 1.25 });
    feed(gate, 3, 1);
    feed(gate, 1, 2); // 5 records in 4 syncs
    expect(gate.onCallingThread()).toBe(true);
    feed(gate, 2, 1);
    feed(gate, 2, 2); // 6 in 4
    expect(gate.onCallingThread()).toBe(false);
  });

  test('a slow sync shuts it at once, for the rest of that window and the next', () => {
    const gate = loneWriterGate({ window: 4, maxSyncMs: 10 });
    feed(gate, 4, 1);
    expect(feed(gate, 1, 1, 50)).toEqual([true]);
    expect(feed(gate, 3, 1)).toEqual([false, false, false]);
    expect(feed(gate, 4, 1)).toEqual([false, false, false, false]);
    expect(gate.onCallingThread()).toBe(true);
  });
});
