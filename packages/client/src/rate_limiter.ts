import { realClock, type Clock } from '@k8ts/base';

/**
 * How long an item waits before it is retried (client-go's workqueue.RateLimiter). `when` records
 * a failure and answers the delay; `forget` clears the item's history once it succeeded.
 */
export interface RateLimiter<K> {
  when(item: K): number;
  forget(item: K): void;
  numRequeues(item: K): number;
}

/** Per item: baseDelayMs · 2^(failures−1), capped at maxDelayMs (client-go: 5 ms .. 1000 s). */
export class ItemExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1_000_000,
  ) {}

  when(item: K): number {
    const failures = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, failures);
    // 2^exponent overflows to Infinity long after the cap: Math.min keeps it finite.
    return Math.min(this.baseDelayMs * 2 ** (failures - 1), this.maxDelayMs);
  }

  forget(item: K): void {
    this.failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (client-go: 10 per second, bursts of 100) shared by all items, so a storm
 * of failures cannot spin the workers. Reservations go into debt: the n-th one past the burst waits
 * n/qps seconds, as golang.org/x/time/rate's Reserve.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    if (qps <= 0 || burst <= 0) throw new Error('BucketRateLimiter: qps and burst must be positive');
    this.tokens = burst;
    this.lastMs = clock.now();
  }

  when(_item: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) / 1000) * this.qps);
    this.lastMs = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(item: K): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.when(item)));
  }

  forget(item: K): void {
    for (const limiter of this.limiters) limiter.forget(item);
  }

  numRequeues(item: K): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.numRequeues(item)));
  }
}

/** client-go's DefaultControllerRateLimiter: per-item 5 ms .. 1000 s, overall 10 qps, burst 100. */
export function defaultControllerRateLimiter<K>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialFailureRateLimiter<K>(5, 1_000_000), new BucketRateLimiter<K>(10, 100, clock));
}
