import { describe, expect, it } from 'vitest';
import { every } from './clock.js';
import { FakeClock } from './fake_clock.js';

describe('FakeClock', () => {
  it('fires due timers in order, reading each one due time', () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    const late = clock.setTimeout(() => fired.push(['late', clock.now()]), 500);
    clock.advance(300);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    expect(clock.now()).toBe(300);
    clock.clearTimeout(late);
    clock.advance(1_000);
    expect(fired).toHaveLength(2);
  });

  it('runs a periodic timer until stopped', () => {
    const clock = new FakeClock(0);
    let ticks = 0;
    const stop = every(clock, 1_000, () => ticks++);
    clock.advance(3_500);
    expect(ticks).toBe(3);
    stop();
    clock.advance(10_000);
    expect(ticks).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });
});
