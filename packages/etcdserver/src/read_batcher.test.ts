import { describe, expect, test } from 'vitest';
import { ReadBatcher } from './read_batcher.js';
import { LeaseExpiry } from './lease_expiry.js';

describe('ReadBatcher', () => {
  test('reads arriving during a round wait for the next one, and share it', async () => {
    const rounds: ((index: number) => void)[] = [];
    const batcher = new ReadBatcher(() => new Promise((resolve) => rounds.push(resolve)));
    const first = batcher.read();
    const second = batcher.read(); // arrives while round 1 is in flight
    const third = batcher.read();
    expect(rounds).toHaveLength(1);
    rounds[0]?.(10);
    expect(await first).toBe(10);
    await Promise.resolve();
    expect(rounds).toHaveLength(2); // one more round for both later reads
    rounds[1]?.(12);
    expect(await second).toBe(12);
    expect(await third).toBe(12);
  });

  test('a failed round fails its readers only', async () => {
    let calls = 0;
    const batcher = new ReadBatcher(async () => {
      calls++;
      if (calls === 1) throw new Error('no leader');
      return 5;
    });
    await expect(batcher.read()).rejects.toThrow('no leader');
    expect(await batcher.read()).toBe(5);
  });
});

describe('LeaseExpiry', () => {
  test('leases expire after their TTL; keep-alive and promotion restart the clock', () => {
    let now = 0;
    const expiry = new LeaseExpiry(() => now);
    expiry.track('1', 5, true);
    expiry.track('2', 10, true);
    now = 4000;
    expect(expiry.renew('1')).toBe(5);
    now = 8000;
    expect(expiry.expired(10)).toEqual([]);
    expect(expiry.remainingSeconds('1')).toBe(1);
    now = 9000;
    expect(expiry.expired(10)).toEqual(['1']);
    expiry.demote();
    expect(expiry.expired(10)).toEqual([]);
    expiry.promote(); // a new leader: full TTL from now
    now = 18_500;
    expect(expiry.expired(10)).toEqual(['1']);
    now = 19_000;
    expect(expiry.expired(10)).toEqual(['1', '2']);
    expect(expiry.renew('3')).toBeUndefined();
  });
});
