import { serverErrors } from './errors.js';

/**
 * Requests waiting for their command to be applied, by request id. Every member applies every
 * command, but only the member that proposed it has a waiter; a command that never commits (lost
 * to a leader change) times out, as etcd's "request timed out".
 */
export class ApplyWaiters<T> {
  private readonly waiting = new Map<string, { resolve: (result: T) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly maxWaiting = 100_000) {}

  wait(id: string, timeoutMs: number): Promise<T> {
    if (this.waiting.size >= this.maxWaiting) return Promise.reject(serverErrors.tooManyRequests());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(serverErrors.timeout());
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** Called on apply; a no-op for commands proposed elsewhere. */
  trigger(id: string, result: T): void {
    this.take(id)?.resolve(result);
  }

  /** The command will never apply (the leader refused it): its waiter fails now, not at its timeout. */
  fail(id: string, error: Error): void {
    this.take(id)?.reject(error);
  }

  /** Every waiter fails now (their commands' fate is unknown). */
  failAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, error);
  }

  size(): number {
    return this.waiting.size;
  }

  /** Removes a waiter and its timer; undefined when nobody waits for `id` (any more). */
  private take(id: string): { resolve: (result: T) => void; reject: (error: Error) => void } | undefined {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) return undefined;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    return waiter;
  }
}

/** Callers waiting for the state machine to reach an applied index. */
export class AppliedIndexWaiters {
  private applied = 0;
  private readonly waiting: { index: number; resolve: () => void }[] = [];

  appliedTo(index: number): void {
    this.applied = index;
    let kept = 0;
    for (const waiter of this.waiting) {
      if (waiter.index <= index) waiter.resolve();
      else this.waiting[kept++] = waiter;
    }
    this.waiting.length = kept;
  }

  wait(index: number): Promise<void> {
    if (index <= this.applied) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ index, resolve }));
  }
}
