/**
 * A Clock that moves only when told to: `advance(ms)` runs, in time order, every timer that falls due,
 * with now() reading each timer's own due time while it runs (timers set meanwhile count too).
 */
import type { Clock, TimerHandle } from './clock.js';

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 1_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting to fire. */
  pendingTimers(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = this.earliestDue(until);
      if (next === undefined) break;
      this.timers.delete(next.id);
      this.current = next.due;
      next.fn();
    }
    this.current = until;
  }

  private earliestDue(until: number): FakeTimer | undefined {
    let earliest: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.due > until) continue;
      if (earliest === undefined || timer.due < earliest.due || (timer.due === earliest.due && timer.id < earliest.id)) earliest = timer;
    }
    return earliest;
  }
}
