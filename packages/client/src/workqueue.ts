import type { Logger } from 'pino';
import { realClock, type Clock, type TimerHandle } from '@k8ts/base';
import { defaultControllerRateLimiter, type RateLimiter } from './rate_limiter.js';

/**
 * A rate-limited work queue of keys, with client-go's workqueue semantics.
 *
 * Contract:
 * - Fair: keys come out of `get()` in the order they were first added.
 * - Deduplicated: a key added while it waits is queued once ("dirty").
 * - Exclusive: a key handed out by `get()` is not handed out again until `done(key)`; one added
 *   meanwhile is held and queued again at `done`, so no two workers process one key at once and no
 *   change is lost.
 * - Every key taken with `get()` must be given back with `done()`, whatever the outcome. On failure,
 *   `addRateLimited(key)` queues it after the limiter's delay (per key 5 ms doubling to 1000 s, and
 *   an overall 10 qps token bucket by default); on success `forget(key)` resets its backoff.
 * - Delayed adds keep the earliest due time per key.
 * - Bounded: at most maxLength keys queued and as many waiting on a delay; further keys are refused
 *   (add returns false, and `dropped` counts them). Level-triggered controllers recover them at the
 *   next event or resync.
 * - After `shutDown()` adds are ignored; `get()` hands out what is queued, then resolves undefined.
 * - Observable: with `metrics` and a `name`, the queue reports what client-go's workqueue metrics
 *   report (a queue without a name reports nothing, as there).
 */
export interface RateLimitingQueueOptions<K> {
  readonly rateLimiter?: RateLimiter<K>;
  readonly clock?: Clock;
  /** Default 100,000. */
  readonly maxLength?: number;
  /** The queue's name: in logs, and the `name` label of its metrics. */
  readonly name?: string;
  readonly logger?: Logger;
  readonly metrics?: WorkqueueMetrics;
}

/**
 * What a work queue reports, in the shape of client-go's workqueue MetricsProvider, so that a service
 * can expose upstream's series (label `name` = the queue's name) from whatever metrics library it uses.
 * One object may serve every queue of a process: each call names its queue.
 */
export interface WorkqueueMetrics {
  /** A key entered the queue (one already queued does not count): `workqueue_adds_total`. */
  added(queue: string): void;
  /** Keys waiting to be handed out, now (including keys re-added while being processed): `workqueue_depth`. */
  depth(queue: string, depth: number): void;
  /** A key was added after a delay (addAfter, addRateLimited): `workqueue_retries_total`. */
  retried(queue: string): void;
  /** Seconds a key waited between its add and its get: `workqueue_queue_duration_seconds`. */
  queueDuration(queue: string, seconds: number): void;
  /** Seconds a key was processed, from get to done: `workqueue_work_duration_seconds`. */
  workDuration(queue: string, seconds: number): void;
}

export class RateLimitingQueue<K extends NonNullable<unknown> = string> {
  /** Keys refused because the queue was full. */
  dropped = 0;
  private queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { readyAtMs: number; timer: TimerHandle }>();
  private readonly getters: ((item: K | undefined) => void)[] = [];
  private readonly drainers: (() => void)[] = [];
  private shutting = false;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<K>;
  private readonly maxLength: number;
  /** Set for a named queue only, as client-go's. */
  private readonly metrics: WorkqueueMetrics | undefined;
  /** When each queued key was added, and when each key handed out was taken (for the metrics). */
  private readonly addedAtMs = new Map<K, number>();
  private readonly takenAtMs = new Map<K, number>();

  constructor(private readonly options: RateLimitingQueueOptions<K> = {}) {
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock);
    this.maxLength = options.maxLength ?? 100_000;
    this.metrics = options.name ? options.metrics : undefined;
  }

  /** Queues the key (once); false when shut down or full. */
  add(item: K): boolean {
    if (this.shutting) return false;
    if (this.dirty.has(item)) return true;
    if (this.dirty.size >= this.maxLength) return this.drop(item);
    this.dirty.add(item);
    if (this.metrics) this.observeAdd(this.metrics, item);
    if (!this.processing.has(item)) this.push(item);
    return true;
  }

  /** The next key, waiting for one; undefined once shut down and empty. */
  get(): Promise<K | undefined> {
    if (this.head < this.queue.length) return Promise.resolve(this.take(this.shift()));
    if (this.shutting) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The key's processing is over; if it was added meanwhile, it is queued again now. */
  done(item: K): void {
    if (!this.processing.delete(item)) return;
    if (this.metrics) this.observeDone(this.metrics, item);
    if (this.dirty.has(item)) this.push(item);
    if (this.processing.size === 0) for (const drained of this.drainers.splice(0)) drained();
  }

  /** Queues the key after `delayMs` (earliest due time wins when it is already waiting). */
  addAfter(item: K, delayMs: number): boolean {
    if (this.shutting) return false;
    this.metrics?.retried(this.name());
    if (delayMs <= 0) return this.add(item);
    const readyAtMs = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing !== undefined && existing.readyAtMs <= readyAtMs) return true;
    if (existing === undefined && this.waiting.size >= this.maxLength) return this.drop(item);
    existing?.timer.cancel();
    const timer = this.clock.schedule(delayMs, () => {
      this.waiting.delete(item);
      this.add(item);
    });
    this.waiting.set(item, { readyAtMs, timer });
    return true;
  }

  /** Queues the key after the rate limiter's delay: after a failure. */
  addRateLimited(item: K): boolean {
    return this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The key succeeded: its backoff starts over. */
  forget(item: K): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: K): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** Keys queued (not counting those being processed or waiting on a delay). */
  len(): number {
    return this.queue.length - this.head;
  }

  shuttingDown(): boolean {
    return this.shutting;
  }

  shutDown(): void {
    this.shutting = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  /** Shuts down, then waits until every key handed out is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.drainers.push(resolve));
  }

  private push(item: K): void {
    const getter = this.getters.shift();
    if (getter !== undefined) getter(this.take(item));
    else this.queue.push(item);
  }

  private shift(): K {
    const item = this.queue[this.head++] as K;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private take(item: K): K {
    this.dirty.delete(item);
    this.processing.add(item);
    if (this.metrics) this.observeTake(this.metrics, item);
    return item;
  }

  private name(): string {
    return this.options.name ?? '';
  }

  private observeAdd(metrics: WorkqueueMetrics, item: K): void {
    metrics.added(this.name());
    metrics.depth(this.name(), this.dirty.size);
    this.addedAtMs.set(item, this.clock.now());
  }

  private observeTake(metrics: WorkqueueMetrics, item: K): void {
    const now = this.clock.now();
    metrics.depth(this.name(), this.dirty.size);
    const addedAtMs = this.addedAtMs.get(item);
    if (addedAtMs !== undefined) metrics.queueDuration(this.name(), (now - addedAtMs) / 1000);
    this.addedAtMs.delete(item);
    this.takenAtMs.set(item, now);
  }

  private observeDone(metrics: WorkqueueMetrics, item: K): void {
    const takenAtMs = this.takenAtMs.get(item);
    if (takenAtMs !== undefined) metrics.workDuration(this.name(), (this.clock.now() - takenAtMs) / 1000);
    this.takenAtMs.delete(item);
  }

  private drop(item: K): false {
    this.dropped++;
    if (this.dropped === 1 || this.dropped % 1000 === 0) this.options.logger?.warn({ queue: this.options.name, item: String(item), dropped: this.dropped }, 'work queue full; key dropped');
    return false;
  }
}

/**
 * One worker: takes keys until shutdown, runs `sync`, forgets the key on success and requeues it
 * rate-limited on failure (client-go's processNextWorkItem loop). Run several for parallelism.
 */
export async function runWorker<K extends NonNullable<unknown>>(queue: RateLimitingQueue<K>, sync: (item: K) => Promise<void>, logger?: Logger): Promise<void> {
  for (;;) {
    const item = await queue.get();
    if (item === undefined) return;
    try {
      await sync(item);
      queue.forget(item);
    } catch (error) {
      logger?.warn({ item: String(item), err: (error as Error).message, requeues: queue.numRequeues(item) }, 'sync failed; requeued');
      queue.addRateLimited(item);
    } finally {
      queue.done(item);
    }
  }
}
