import { LatencyRecorder, type LatencySummary } from './stats.js';

/**
 * A closed-loop load: `clients` workers, each sending its next request when the previous one has
 * answered, until `total` requests have been sent, `maxDurationMs` has passed, or `maxErrors`
 * requests have failed, whichever comes first. Every request that fails is counted by its message;
 * none is retried. A request in flight when time runs out is waited for (each carries its own
 * deadline), so the loop ends within `maxDurationMs` plus one request deadline.
 */
export interface ClosedLoopOptions {
  readonly clients: number;
  readonly total: number;
  readonly maxDurationMs: number;
  readonly maxErrors: number;
  /** Sends request `index` (0-based, in send order) as worker `client`; rejects when it fails. */
  readonly operation: (client: number, index: number) => Promise<void>;
  /** Milliseconds from an arbitrary origin; `performance.now` unless a test injects one. */
  readonly now?: () => number;
  /** How a failure is named in the error counts; the error's message unless given. */
  readonly describeError?: (error: unknown) => string;
}

export type StopReason = 'count' | 'time' | 'errors';

export interface ClosedLoopResult {
  readonly sent: number;
  readonly completed: number;
  readonly failed: number;
  /** Failures by description, at most `MAX_ERROR_KINDS` kinds (the rest under "other"). */
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly latency: LatencySummary;
  readonly stoppedBy: StopReason;
}

export const MAX_ERROR_KINDS = 20;

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? `code ${code}: ${error.message}` : error.message;
  }
  return String(error);
}

export class ErrorCounts {
  private readonly counts = new Map<string, number>();
  total = 0;

  add(description: string): void {
    this.total += 1;
    const key = this.counts.has(description) || this.counts.size < MAX_ERROR_KINDS ? description : 'other';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { clients, total, maxDurationMs, maxErrors } = options;
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`clients ${clients} must be a positive integer`);
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`total ${total} must be a non-negative integer`);
  const now = options.now ?? (() => performance.now());
  const name = options.describeError ?? describeError;
  const recorder = new LatencyRecorder(total);
  const errors = new ErrorCounts();
  const startMs = now();
  const deadlineMs = startMs + maxDurationMs;
  let sent = 0;
  let stoppedBy: StopReason = 'count';

  const worker = async (client: number): Promise<void> => {
    for (;;) {
      if (sent >= total) return;
      if (errors.total >= maxErrors) {
        stoppedBy = 'errors';
        return;
      }
      const sentAtMs = now();
      if (sentAtMs >= deadlineMs) {
        if (stoppedBy === 'count') stoppedBy = 'time';
        return;
      }
      const index = sent;
      sent += 1;
      try {
        await options.operation(client, index);
        recorder.record(now() - sentAtMs);
      } catch (error) {
        errors.add(name(error));
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(clients, Math.max(1, total)) }, (_, client) => worker(client)));
  const elapsedMs = now() - startMs;
  return {
    sent,
    completed: recorder.count,
    failed: errors.total,
    errors: errors.toRecord(),
    elapsedMs,
    latency: recorder.summary(),
    stoppedBy,
  };
}
