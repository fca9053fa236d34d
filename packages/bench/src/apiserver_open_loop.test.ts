import { describe, expect, it } from 'vitest';
import { dueOffsetMs, runOpenLoop, scheduledCount, type OpenLoopOptions, type OpenLoopResult } from './apiserver_open_loop.js';

/** Virtual time: `sleep` parks a timer; `run` advances to the next timer whenever nothing else can move. */
class VirtualClock {
  private timeMs = 0;
  private timers: { atMs: number; fire: () => void }[] = [];

  now = (): number => this.timeMs;

  sleep = (ms: number): Promise<void> =>
    new Promise((fire) => {
      this.timers.push({ atMs: this.timeMs + Math.max(0, ms), fire });
    });

  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    void work.finally(() => (settled = true)).catch(() => undefined);
    for (let steps = 0; steps < 1_000_000; steps += 1) {
      await new Promise((done) => setImmediate(done)); // let every microtask run
      if (settled) return work;
      this.timers.sort((a, b) => a.atMs - b.atMs);
      const next = this.timers.shift();
      if (next === undefined) throw new Error('deadlock: the work waits and no timer is set');
      this.timeMs = Math.max(this.timeMs, next.atMs);
      next.fire();
    }
    throw new Error('virtual clock: too many steps');
  }
}

function openLoop(clock: VirtualClock, options: Omit<OpenLoopOptions, 'now' | 'sleep'>): Promise<OpenLoopResult> {
  return clock.run(runOpenLoop({ ...options, now: clock.now, sleep: clock.sleep }));
}

describe('the open-loop schedule', () => {
  it('holds rate × duration requests, due at even intervals from the start', () => {
    expect(scheduledCount(200, 20_000)).toBe(4000);
    expect(scheduledCount(200, 10)).toBe(2); // due at 0 and 5 ms
    expect(scheduledCount(3, 1000)).toBe(3);
    expect(dueOffsetMs(0, 200)).toBe(0);
    expect(dueOffsetMs(1, 200)).toBe(5);
    expect(dueOffsetMs(4000, 200)).toBe(20_000);
  });

  it('refuses rates and durations that are not', () => {
    expect(() => scheduledCount(0, 1000)).toThrow(RangeError);
    expect(() => scheduledCount(Number.NaN, 1000)).toThrow(RangeError);
    expect(() => scheduledCount(100, -1)).toThrow(RangeError);
  });
});

describe('runOpenLoop', () => {
  it('sends each request at its due time, whatever the earlier ones are doing', async () => {
    const clock = new VirtualClock();
    const sentAt: number[] = [];
    const result = await openLoop(clock, {
      ratePerSecond: 100,
      count: 10,
      maxInFlight: 100,
      maxErrors: 10,
      operation: async (index) => {
        sentAt.push(clock.now());
        await clock.sleep(index === 0 ? 55 : 3); // the first request is slow; the others go out anyway
      },
    });
    expect(sentAt).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(result).toMatchObject({ scheduled: 10, sent: 10, completed: 10, failed: 0, stoppedBy: 'schedule', maxSendLagMs: 0, inFlightWaits: 0 });
    expect(result.latency.maxMs).toBe(55);
    expect(result.latency.p50Ms).toBe(3);
    expect(result.elapsedMs).toBe(93); // first due time → last answer
  });

  it('measures from the due time: requests held back by a stalled server are charged for the wait', async () => {
    const clock = new VirtualClock();
    // One slot: request 0 stalls 100 ms, so requests 1..9 (due every 10 ms) queue behind it.
    const result = await openLoop(clock, {
      ratePerSecond: 100,
      count: 10,
      maxInFlight: 1,
      maxErrors: 10,
      operation: (index) => clock.sleep(index === 0 ? 100 : 1),
    });
    expect(result.completed).toBe(10);
    expect(result.inFlightWaits).toBe(9);
    // Request i ≥ 1 was due at 10·i, sent at 99 + i, answered at 100 + i: 100 − 9·i ms from its due time.
    expect(result.latency.maxMs).toBe(100);
    expect(result.latency.p50Ms).toBe(55);
    expect(result.latency.minMs).toBe(19);
    // Timed from the actual send, as a closed loop would, the stall would all but vanish.
    expect(result.serviceLatency.p50Ms).toBe(1);
    expect(result.maxSendLagMs).toBe(90);
  });

  it('counts failures by message, never retries, and stops sending after maxErrors', async () => {
    const clock = new VirtualClock();
    const sent: number[] = [];
    const result = await openLoop(clock, {
      ratePerSecond: 1000,
      count: 50,
      maxInFlight: 10,
      maxErrors: 3,
      operation: async (index) => {
        sent.push(index);
        await clock.sleep(0.5);
        if (index % 2 === 1) throw new Error('HTTP 409 Conflict');
      },
    });
    expect(result.failed).toBe(3);
    expect(result.errors).toEqual({ 'HTTP 409 Conflict': 3 });
    expect(result.completed).toBe(3);
    expect(result.stoppedBy).toBe('errors');
    expect(sent).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.latency.count).toBe(3);
  });

  it('refuses a zero in-flight bound', async () => {
    await expect(runOpenLoop({ ratePerSecond: 1, count: 1, maxInFlight: 0, maxErrors: 1, operation: async () => undefined })).rejects.toThrow(RangeError);
  });
});
