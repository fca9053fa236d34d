import { describe, expect, test } from 'vitest';
import { FakeClock } from '@k8ts/base';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter } from './rate_limiter.js';
import { RateLimitingQueue, runWorker, type WorkqueueMetrics } from './workqueue.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('RateLimitingQueue', () => {
  test('a key added while queued is queued once; keys come out in first-added order', async () => {
    const queue = new RateLimitingQueue();
    queue.add('b');
    queue.add('a');
    queue.add('b');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBe('a');
  });

  test('a key being processed is not handed out again until done, and is not lost', async () => {
    const queue = new RateLimitingQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    let second: string | undefined;
    void queue.get().then((item) => (second = item));
    await settle();
    expect(second).toBeUndefined();
    queue.done('a');
    await settle();
    expect(second).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  test('workers never hold one key at once, and each add during processing brings one more sync', async () => {
    const queue = new RateLimitingQueue();
    const inFlight = new Set<string>();
    const version = new Map<string, number>();
    const synced = new Map<string, number>();
    let overlaps = 0;
    const sync = async (key: string): Promise<void> => {
      if (inFlight.has(key)) overlaps++;
      inFlight.add(key);
      const seen = version.get(key) ?? 0;
      for (let i = 0; i < 3; i++) await Promise.resolve();
      synced.set(key, seen);
      inFlight.delete(key);
    };
    const workers = Array.from({ length: 4 }, () => runWorker(queue, sync));
    let seed = 7;
    for (let round = 0; round < 500; round++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const key = `k${seed % 5}`;
      version.set(key, (version.get(key) ?? 0) + 1);
      queue.add(key);
      if (round % 3 === 0) await Promise.resolve();
    }
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await queue.shutDownWithDrain();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    // Level-triggered: every key's last sync saw its last change.
    for (const [key, last] of version) expect(synced.get(key), key).toBe(last);
  });

  test('addAfter keeps the earliest due time of a waiting key', () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    queue.addAfter('a', 100);
    queue.addAfter('a', 50);
    queue.addAfter('a', 200);
    clock.advance(49);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    clock.advance(1000);
    expect(queue.len()).toBe(1);
  });

  test('addRateLimited backs off per key 5 ms, 10 ms, 20 ms …; forget starts over', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000_000) });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      queue.addRateLimited('a');
      for (let waited = 0; queue.len() === 0 && waited < 1000; waited++) clock.advance(1);
      delays.push(clock.now() - start);
      queue.done((await queue.get()) as string);
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('a')).toBe(4);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  test('the per-key backoff is capped at 1000 s', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    let delay = 0;
    for (let i = 0; i < 2000; i++) delay = limiter.when('a');
    expect(delay).toBe(1_000_000);
  });

  test('the overall bucket lets a burst through, then 10 per second', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100, clock));
    const delays = Array.from({ length: 103 }, (_, i) => limiter.when(`key-${i}`));
    expect(delays.slice(0, 100).every((delay) => delay === 5)).toBe(true);
    expect(delays.slice(100).map(Math.round)).toEqual([100, 200, 300]);
    clock.advance(10_000);
    expect(limiter.when('fresh')).toBe(5);
  });

  test('bounded: keys past maxLength are refused and counted', () => {
    const queue = new RateLimitingQueue({ maxLength: 2 });
    expect(queue.add('a')).toBe(true);
    expect(queue.add('b')).toBe(true);
    expect(queue.add('a')).toBe(true);
    expect(queue.add('c')).toBe(false);
    expect(queue.dropped).toBe(1);
    expect(queue.len()).toBe(2);
  });

  test('after shutdown adds are ignored, queued keys still come out, then get resolves undefined', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    let waiting: string | undefined = 'unset';
    const idle = new RateLimitingQueue();
    void idle.get().then((item) => (waiting = item));
    idle.shutDown();
    await settle();
    expect(waiting).toBeUndefined();

    queue.add('a');
    queue.addAfter('later', 10);
    queue.shutDown();
    expect(queue.add('b')).toBe(false);
    clock.advance(100);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  test('runWorker requeues a failing key with backoff and forgets it once it succeeds', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    let attempts = 0;
    const worker = runWorker(queue, async () => {
      attempts++;
      if (attempts < 3) throw new Error('not yet');
    });
    queue.add('a');
    await settle();
    expect(attempts).toBe(1);
    expect(queue.numRequeues('a')).toBe(1);
    clock.advance(5);
    await settle();
    expect(attempts).toBe(2);
    clock.advance(9);
    await settle();
    expect(attempts).toBe(2);
    clock.advance(1);
    await settle();
    expect(attempts).toBe(3);
    expect(queue.numRequeues('a')).toBe(0);
    queue.shutDown();
    await worker;
  });
});

/** Every report a queue makes, in order, as `[call, queue, value?]`. */
function recordingMetrics(): { metrics: WorkqueueMetrics; calls: (string | number)[][]; of: (call: string) => (string | number)[][] } {
  const calls: (string | number)[][] = [];
  const metrics: WorkqueueMetrics = {
    added: (queue) => void calls.push(['added', queue]),
    depth: (queue, depth) => void calls.push(['depth', queue, depth]),
    retried: (queue) => void calls.push(['retried', queue]),
    queueDuration: (queue, seconds) => void calls.push(['queueDuration', queue, seconds]),
    workDuration: (queue, seconds) => void calls.push(['workDuration', queue, seconds]),
  };
  return { metrics, calls, of: (call) => calls.filter(([name]) => name === call) };
}

describe('RateLimitingQueue metrics (client-go workqueue_* series)', () => {
  test('adds count keys entering the queue; depth follows adds and gets', async () => {
    const { metrics, calls } = recordingMetrics();
    const queue = new RateLimitingQueue({ name: 'deployment', metrics, clock: new FakeClock() });
    queue.add('a');
    queue.add('b');
    queue.add('a'); // already queued: neither an add nor a depth change
    await queue.get();
    expect(calls).toEqual([
      ['added', 'deployment'],
      ['depth', 'deployment', 1],
      ['added', 'deployment'],
      ['depth', 'deployment', 2],
      ['depth', 'deployment', 1],
      ['queueDuration', 'deployment', 0],
    ]);
  });

  test('queue duration runs from add to get, work duration from get to done, on the clock', async () => {
    const clock = new FakeClock();
    const { metrics, of } = recordingMetrics();
    const queue = new RateLimitingQueue({ name: 'replicaset', metrics, clock });
    queue.add('a');
    clock.advance(250);
    expect(await queue.get()).toBe('a');
    clock.advance(1_500);
    queue.done('a');
    expect(of('queueDuration')).toEqual([['queueDuration', 'replicaset', 0.25]]);
    expect(of('workDuration')).toEqual([['workDuration', 'replicaset', 1.5]]);
  });

  test('a key re-added while processed counts in depth at once, and waits from its re-add', async () => {
    const clock = new FakeClock();
    const { metrics, of } = recordingMetrics();
    const queue = new RateLimitingQueue({ name: 'endpoints', metrics, clock });
    queue.add('a');
    await queue.get();
    clock.advance(100);
    queue.add('a');
    expect(of('added')).toHaveLength(2);
    expect(of('depth').at(-1)).toEqual(['depth', 'endpoints', 1]);
    clock.advance(300);
    queue.done('a');
    clock.advance(50);
    expect(await queue.get()).toBe('a');
    expect(of('queueDuration').map(([, , seconds]) => seconds)).toEqual([0, 0.35]);
    expect(of('workDuration').map(([, , seconds]) => seconds)).toEqual([0.4]);
    expect(of('depth').at(-1)).toEqual(['depth', 'endpoints', 0]);
  });

  test('retries count delayed adds (addAfter and addRateLimited), none after shutdown', () => {
    const clock = new FakeClock();
    const { metrics, of } = recordingMetrics();
    const queue = new RateLimitingQueue({ name: 'namespace', metrics, clock });
    queue.addRateLimited('a');
    queue.addAfter('b', 1_000);
    expect(of('retried')).toEqual([
      ['retried', 'namespace'],
      ['retried', 'namespace'],
    ]);
    expect(of('added')).toHaveLength(0); // not in the queue until the delay is over
    clock.advance(1_000);
    expect(of('added')).toHaveLength(2);
    queue.shutDown();
    queue.addAfter('c', 10);
    expect(of('retried')).toHaveLength(2);
  });

  test('a key refused by a full queue is not an add', () => {
    const { metrics, of } = recordingMetrics();
    const queue = new RateLimitingQueue({ name: 'full', metrics, maxLength: 1, clock: new FakeClock() });
    queue.add('a');
    queue.add('b');
    expect(queue.dropped).toBe(1);
    expect(of('added')).toHaveLength(1);
    expect(of('depth')).toEqual([['depth', 'full', 1]]);
  });

  test('a queue without a name reports nothing, as client-go', async () => {
    const { metrics, calls } = recordingMetrics();
    const queue = new RateLimitingQueue({ metrics, clock: new FakeClock() });
    queue.add('a');
    await queue.get();
    queue.done('a');
    queue.addAfter('a', 5);
    queue.shutDown();
    expect(calls).toEqual([]);
  });
});
