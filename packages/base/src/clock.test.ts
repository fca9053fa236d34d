import { describe, expect, it } from 'vitest';
import { FakeClock, every, sleep } from './clock.js';

describe('FakeClock', () => {
  it('fires due timers in due order, reading each one own due time, and skips cancelled ones', () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    clock.schedule(200, () => fired.push(['b', clock.now()]));
    clock.schedule(100, () => fired.push(['a', clock.now()]));
    const late = clock.schedule(500, () => fired.push(['late', clock.now()]));
    clock.advance(300);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    expect(clock.now()).toBe(300);
    late.cancel();
    clock.advance(1_000);
    expect(fired).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('fires timers set by a firing timer within the same advance', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.schedule(10, () => clock.schedule(10, () => fired.push(clock.now())));
    clock.advance(25);
    expect(fired).toEqual([20]);
  });
});

describe('every', () => {
  it('runs a periodic function until stopped, leaving no timer behind', () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    const stop = every(clock, 1_000, () => ticks.push(clock.now()));
    clock.advance(3_500);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
    stop();
    clock.advance(10_000);
    expect(ticks).toHaveLength(3);
    expect(clock.pending()).toBe(0);
  });

  it('may be stopped from inside the function', () => {
    const clock = new FakeClock(0);
    let ticks = 0;
    const stop = every(clock, 100, () => {
      if (++ticks === 2) stop();
    });
    clock.advance(1_000);
    expect(ticks).toBe(2);
    expect(clock.pending()).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay, not before', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const slept = sleep(clock, 500).then(() => (done = true));
    clock.advance(499);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await slept;
    expect(done).toBe(true);
  });

  it('resolves at once on abort and cancels its timer', async () => {
    const clock = new FakeClock(0);
    const abort = new AbortController();
    const slept = sleep(clock, 60_000, abort.signal);
    abort.abort();
    await slept;
    expect(clock.pending()).toBe(0);
  });
});
