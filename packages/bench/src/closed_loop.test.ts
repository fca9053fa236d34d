import { describe, expect, it } from 'vitest';
import { ErrorCounts, MAX_ERROR_KINDS, runClosedLoop } from './closed_loop.js';

/** A clock the test moves: each operation takes `stepMs` of fake time. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 0;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('runClosedLoop', () => {
  it('sends exactly `total` requests and never more than `clients` at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    const result = await runClosedLoop({
      clients: 4,
      total: 50,
      maxDurationMs: 60_000,
      maxErrors: 10,
      operation: async (_client, index) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seen.push(index);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
      },
    });
    expect(result).toMatchObject({ sent: 50, completed: 50, failed: 0, stoppedBy: 'count' });
    expect(result.latency.count).toBe(50);
    expect(maxInFlight).toBe(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('measures each request on the clock it is given', async () => {
    const clock = fakeClock();
    const result = await runClosedLoop({
      clients: 1,
      total: 4,
      maxDurationMs: 60_000,
      maxErrors: 10,
      now: clock.now,
      operation: async (_client, index) => clock.advance(index === 3 ? 40 : 10),
    });
    expect(result.latency).toMatchObject({ count: 4, p50Ms: 10, maxMs: 40 });
    expect(result.elapsedMs).toBe(70);
  });

  it('stops at the time limit even when the count is far away', async () => {
    const clock = fakeClock();
    const result = await runClosedLoop({
      clients: 2,
      total: 1_000_000,
      maxDurationMs: 100,
      maxErrors: 10,
      now: clock.now,
      operation: async () => clock.advance(10),
    });
    expect(result.stoppedBy).toBe('time');
    expect(result.sent).toBeLessThanOrEqual(11);
    expect(result.elapsedMs).toBeLessThanOrEqual(110);
  });

  it('counts failures by message, records no latency for them, and stops at maxErrors', async () => {
    const result = await runClosedLoop({
      clients: 3,
      total: 1000,
      maxDurationMs: 60_000,
      maxErrors: 5,
      operation: async (_client, index) => {
        if (index % 2 === 1) throw Object.assign(new Error('etcdserver: request timed out'), { code: 14 });
      },
    });
    expect(result.stoppedBy).toBe('errors');
    expect(result.failed).toBeGreaterThanOrEqual(5);
    expect(result.failed).toBeLessThanOrEqual(5 + 2); // the other clients' requests already in flight
    expect(result.errors).toEqual({ 'code 14: etcdserver: request timed out': result.failed });
    expect(result.completed + result.failed).toBe(result.sent);
    expect(result.latency.count).toBe(result.completed);
  });

  it('does nothing for a total of 0', async () => {
    const result = await runClosedLoop({ clients: 10, total: 0, maxDurationMs: 1000, maxErrors: 1, operation: () => Promise.reject(new Error('called')) });
    expect(result).toMatchObject({ sent: 0, completed: 0, failed: 0, stoppedBy: 'count' });
  });
});

describe('ErrorCounts', () => {
  it('keeps a bounded number of kinds and lumps the rest under "other"', () => {
    const counts = new ErrorCounts();
    for (let i = 0; i < MAX_ERROR_KINDS + 5; i += 1) counts.add(`error ${i}`);
    counts.add('error 0');
    const record = counts.toRecord();
    expect(Object.keys(record)).toHaveLength(MAX_ERROR_KINDS + 1);
    expect(record['other']).toBe(5);
    expect(record['error 0']).toBe(2);
    expect(counts.total).toBe(MAX_ERROR_KINDS + 6);
  });
});
