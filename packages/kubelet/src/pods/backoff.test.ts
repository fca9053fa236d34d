import { FakeClock } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import { Backoff, formatDuration } from './backoff.js';

describe('Backoff (CrashLoopBackOff timings)', () => {
  it('retries the first failure at once, then waits 10 s doubling to 300 s', () => {
    const clock = new FakeClock(1_000_000);
    const backoff = new Backoff(clock);
    const delays: number[] = [];
    for (let failure = 0; failure < 8; failure++) {
      const finishedMs = clock.now();
      const wait = backoff.remainingMs('pod/c', finishedMs);
      delays.push(wait);
      clock.advance(wait);
      expect(backoff.remainingMs('pod/c', finishedMs)).toBe(0);
      backoff.next('pod/c', finishedMs);
      clock.advance(1_000); // the container runs a second, then fails again
    }
    expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(backoff.delayMs('pod/c')).toBe(300_000);
  });

  it('starts over once the container ran for more than 10 minutes', () => {
    const clock = new FakeClock(0);
    const backoff = new Backoff(clock);
    backoff.next('k', 0);
    clock.advance(20_000);
    backoff.next('k', 20_000);
    expect(backoff.delayMs('k')).toBe(20_000);
    clock.advance(601_000); // ran 10 min 1 s after its last restart
    expect(backoff.remainingMs('k', clock.now())).toBe(0);
    backoff.next('k', clock.now());
    expect(backoff.delayMs('k')).toBe(10_000);
  });

  it('forgets a pod by prefix', () => {
    const backoff = new Backoff(new FakeClock(0));
    backoff.next('uid1/a', 0);
    backoff.next('uid2/a', 0);
    backoff.forget('uid1/');
    expect(backoff.delayMs('uid1/a')).toBe(0);
    expect(backoff.delayMs('uid2/a')).toBe(10_000);
  });

  it('prints delays as Go durations', () => {
    expect([10_000, 20_000, 80_000, 160_000, 300_000].map(formatDuration)).toEqual(['10s', '20s', '1m20s', '2m40s', '5m0s']);
  });
});
