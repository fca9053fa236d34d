/**
 * The kubelet's per-container back-off (client-go's flowcontrol.Backoff as the kubelet uses it for
 * CrashLoopBackOff and image pulls): the first failure is retried at once and arms a 10 s delay; each
 * retry taken doubles it up to 300 s; an entry not touched for twice the maximum (10 minutes, e.g. a
 * container that ran that long) starts over.
 */
import type { Clock } from '@k8ts/base';

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

interface Entry {
  delayMs: number;
  /** When the last retry was taken (clock ms). */
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly initialMs = BACKOFF_INITIAL_MS,
    private readonly maxMs = BACKOFF_MAX_MS,
  ) {}

  /**
   * Whether a retry of `key` must still wait, counting from `eventMs` (the failure's time, e.g. the
   * container's finishedAt): the wait left in ms, or 0 when it may go now.
   */
  remainingMs(key: string, eventMs: number): number {
    const entry = this.entries.get(key);
    if (entry === undefined || this.expired(entry, eventMs)) return 0;
    return Math.max(0, eventMs + entry.delayMs - this.clock.now());
  }

  /** The current delay of `key` (what the CrashLoopBackOff message names). */
  delayMs(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** A retry of `key` is taken now, after a failure at `eventMs`: arms or doubles the delay. */
  next(key: string, eventMs: number): void {
    const entry = this.entries.get(key);
    if (entry === undefined || this.expired(entry, eventMs)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: this.clock.now() });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
    entry.lastUpdateMs = this.clock.now();
  }

  /** Forgets every key starting with `prefix` (a pod's, when it goes). */
  forget(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(entry: Entry, eventMs: number): boolean {
    return eventMs - entry.lastUpdateMs > 2 * this.maxMs;
  }
}

/** How upstream prints a back-off delay in messages: Go's time.Duration ("10s", "1m20s", "5m0s"). */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${seconds % 60}s`;
}
