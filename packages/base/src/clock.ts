/**
 * Time as every package sees it: every timer and every "now" goes through a Clock, so tests drive
 * the workqueue, rate limiters, leader election and the scheduler's queue with a FakeClock instead
 * of waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; the handle cancels it. */
  schedule(delayMs: number, callback: () => void): TimerHandle;
}

export interface TimerHandle {
  cancel(): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Calls `fn` every `periodMs` (the first call one period from now) until the returned function is
 * called, as apimachinery's wait.Until: the next period starts when `fn` returns, so calls never overlap.
 */
export function every(clock: Clock, periodMs: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    fn();
    if (!stopped) handle = clock.schedule(periodMs, tick);
  };
  handle = clock.schedule(periodMs, tick);
  return () => {
    stopped = true;
    handle?.cancel();
  };
}

/** Resolves after `delayMs`, or at once (without rejecting) when `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      handle.cancel();
      resolve();
    };
    const handle = clock.schedule(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A clock that moves only when told: timers fire in due order during `advance`. */
export class FakeClock implements Clock {
  private timers: { dueMs: number; sequence: number; callback: () => void; cancelled: boolean }[] = [];
  private sequence = 0;

  constructor(private nowMs = 0) {}

  now(): number {
    return this.nowMs;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const timer = { dueMs: this.nowMs + Math.max(0, delayMs), sequence: this.sequence++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing every timer that comes due, earliest first. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      this.timers = this.timers.filter((timer) => !timer.cancelled);
      const next = this.timers.filter((timer) => timer.dueMs <= target).sort((a, b) => a.dueMs - b.dueMs || a.sequence - b.sequence)[0];
      if (next === undefined) break;
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.cancelled = true;
      next.callback();
    }
    this.nowMs = target;
  }

  /** Timers still waiting. */
  pending(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }
}
