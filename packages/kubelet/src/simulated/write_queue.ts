/**
 * A lane of API writes with at most `concurrency` in flight, in arrival order. One entry per key:
 * a write queued for a key that already waits replaces it (the newer status wins; the place in
 * line is kept), so the queue is bounded by the number of keys, and a key never has two writes
 * running at once (a second one waits for the first, so writes to one object stay in order).
 * A write's failure is its own to handle: `run` should not reject, and a rejection is only logged.
 */

export interface WriteQueueOptions {
  readonly concurrency: number;
  readonly onError?: (key: string, error: unknown) => void;
}

export class WriteQueue {
  private readonly waiting = new Map<string, () => Promise<void>>();
  private readonly running = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: WriteQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`write concurrency ${options.concurrency} must be a positive integer`);
  }

  /** Writes waiting to start. */
  get pending(): number {
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.running.size;
  }

  enqueue(key: string, run: () => Promise<void>): void {
    if (this.closed) return;
    this.waiting.set(key, run);
    this.pump();
  }

  /** Drops a waiting write (the object is gone); a running one finishes. */
  cancel(key: string): void {
    this.waiting.delete(key);
  }

  /** Resolves once nothing waits or runs. */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops starting writes; resolves when those in flight are done. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await this.idle();
  }

  private pump(): void {
    if (this.running.size >= this.options.concurrency) return;
    for (const [key, run] of this.waiting) {
      if (this.running.size >= this.options.concurrency) break;
      if (this.running.has(key)) continue; // after the write in flight for this key
      this.waiting.delete(key);
      this.running.add(key);
      Promise.resolve()
        .then(run)
        .catch((error: unknown) => this.options.onError?.(key, error))
        .finally(() => {
          this.running.delete(key);
          this.pump();
          if (this.waiting.size === 0 && this.running.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    }
  }
}
