/**
 * The per-zone queue of nodes waiting for a NoExecute taint, with the zone's tainting rate
 * (upstream's RateLimitedTimedQueue over a UniqueQueue and a token bucket of burst 1).
 *
 * - Unique: a node is queued once; after it is processed it stays *remembered* (`add` refuses it)
 *   until `remove` forgets it, so a node is tainted once per outage, not once per pass.
 * - Ordered by due time; `try` hands out due nodes while the rate allows, one token each.
 * - The rate changes with the zone's state (`swapLimiter`); 0 stops tainting altogether.
 */
import type { Clock } from '@k8ts/base';

/** Burst of the tainting rate limiter, as upstream's EvictionRateLimiterBurst. */
export const EVICTION_RATE_LIMITER_BURST = 1;

/** A token bucket that refuses instead of going into debt (flowcontrol's TryAccept). qps ≤ 0 never accepts. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = qps > 0 ? burst : 0;
    this.lastMs = clock.now();
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) / 1000) * this.qps);
    this.lastMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface TimedValue {
  readonly value: string;
  readonly uid: string;
  readonly addedAtMs: number;
  processAtMs: number;
}

/** What processing a value says: done (drop it from the queue), or try again after retryAfterMs. */
export type TryResult = { readonly done: true } | { readonly done: false; readonly retryAfterMs: number };

export class RateLimitedTimedQueue {
  private readonly remembered = new Set<string>();
  private queue: TimedValue[] = [];
  private limiter: TokenBucket;

  constructor(
    private readonly clock: Clock,
    qps: number,
  ) {
    this.limiter = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, clock);
  }

  /** Queues the value now; false when it is queued or remembered already. */
  add(value: string, uid: string): boolean {
    if (this.remembered.has(value)) return false;
    const now = this.clock.now();
    this.remembered.add(value);
    this.queue.push({ value, uid, addedAtMs: now, processAtMs: now });
    this.sort();
    return true;
  }

  /** Forgets the value (queued or remembered); true when it was there. */
  remove(value: string): boolean {
    if (!this.remembered.delete(value)) return false;
    this.queue = this.queue.filter((item) => item.value !== value);
    return true;
  }

  has(value: string): boolean {
    return this.remembered.has(value);
  }

  /** Values waiting to be processed. */
  queued(): readonly TimedValue[] {
    return this.queue;
  }

  qps(): number {
    return this.limiter.qps;
  }

  /** A new rate; when the old limiter had no token left, the new one starts without one either. */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, this.clock);
    if (qps > 0 && !this.limiter.tryAccept()) next.tryAccept();
    this.limiter = next;
  }

  /**
   * Processes due values in order while the limiter gives tokens (each attempt takes one, as
   * upstream). A value done leaves the queue but stays remembered; one not done is due again
   * after its retry delay. Values added or removed while `process` runs are respected.
   */
  async try(process: (item: TimedValue) => Promise<TryResult>): Promise<void> {
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (!this.limiter.tryAccept()) return;
      const now = this.clock.now();
      if (now < head.processAtMs) return;
      const result = await process(head);
      const index = this.queue.indexOf(head);
      if (index < 0) continue; // removed meanwhile
      if (result.done) this.queue.splice(index, 1);
      else {
        head.processAtMs = now + result.retryAfterMs;
        this.sort();
      }
    }
  }

  private sort(): void {
    this.queue.sort((a, b) => a.processAtMs - b.processAtMs || a.addedAtMs - b.addedAtMs);
  }
}
