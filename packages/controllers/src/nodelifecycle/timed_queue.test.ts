import { FakeClock } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import { RateLimitedTimedQueue, TokenBucket, type TryResult } from './timed_queue.js';

async function drain(queue: RateLimitedTimedQueue, result: (value: string) => TryResult = () => ({ done: true })): Promise<string[]> {
  const seen: string[] = [];
  await queue.try(async (item) => {
    seen.push(item.value);
    return result(item.value);
  });
  return seen;
}

describe('TokenBucket', () => {
  it('starts full, refills at qps up to its burst, and never accepts at qps 0', () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(0.1, 1, clock);
    expect(bucket.tryAccept()).toBe(true);
    expect(bucket.tryAccept()).toBe(false);
    clock.advance(9_999);
    expect(bucket.tryAccept()).toBe(false);
    clock.advance(1);
    expect(bucket.tryAccept()).toBe(true);
    clock.advance(60_000);
    expect(bucket.tryAccept()).toBe(true);
    expect(bucket.tryAccept()).toBe(false); // burst 1
    expect(new TokenBucket(0, 1, clock).tryAccept()).toBe(false);
  });
});

describe('RateLimitedTimedQueue', () => {
  it('hands out one node per token: the first at once, the next after 1/qps', async () => {
    const clock = new FakeClock(0);
    const queue = new RateLimitedTimedQueue(clock, 0.1);
    queue.add('a', 'uid-a');
    queue.add('b', 'uid-b');
    expect(await drain(queue)).toEqual(['a']);
    clock.advance(5_000);
    expect(await drain(queue)).toEqual([]);
    clock.advance(5_000);
    expect(await drain(queue)).toEqual(['b']);
  });

  it('remembers a processed node so it is not queued again until removed', async () => {
    const clock = new FakeClock(0);
    const queue = new RateLimitedTimedQueue(clock, 10);
    expect(queue.add('a', 'u')).toBe(true);
    expect(queue.add('a', 'u')).toBe(false);
    await drain(queue);
    expect(queue.add('a', 'u')).toBe(false);
    expect(queue.remove('a')).toBe(true);
    expect(queue.add('a', 'u')).toBe(true);
  });

  it('retries a node that failed after its delay', async () => {
    const clock = new FakeClock(0);
    const queue = new RateLimitedTimedQueue(clock, 1000);
    queue.add('a', 'u');
    expect(await drain(queue, () => ({ done: false, retryAfterMs: 50 }))).toEqual(['a']);
    clock.advance(49);
    expect(await drain(queue)).toEqual([]);
    clock.advance(1);
    expect(await drain(queue)).toEqual(['a']);
    expect(queue.queued()).toEqual([]);
  });

  it('stops at rate 0 and keeps a drained bucket drained when the rate changes', async () => {
    const clock = new FakeClock(0);
    const queue = new RateLimitedTimedQueue(clock, 0.1);
    queue.add('a', 'u');
    queue.add('b', 'u');
    expect(await drain(queue)).toEqual(['a']);
    queue.swapLimiter(0.2); // the old bucket was empty: the new one starts empty too
    expect(await drain(queue)).toEqual([]);
    clock.advance(5_000);
    expect(await drain(queue)).toEqual(['b']);
    queue.add('c', 'u');
    queue.swapLimiter(0);
    clock.advance(3_600_000);
    expect(await drain(queue)).toEqual([]);
  });

  it('respects a node removed while it was being processed', async () => {
    const clock = new FakeClock(0);
    const queue = new RateLimitedTimedQueue(clock, 1000);
    queue.add('a', 'u');
    await queue.try(async () => {
      queue.remove('a');
      return { done: false, retryAfterMs: 0 };
    });
    expect(queue.queued()).toEqual([]);
    expect(queue.has('a')).toBe(false);
  });
});
