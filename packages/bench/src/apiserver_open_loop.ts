import { describeError as describeErrorDefault, ErrorCounts } from './closed_loop.js';
import { LatencyRecorder, ratePerSecond, type LatencySummary } from './stats.js';

/**
 * An open-loop load: request i is due at `start + i × 1000 / ratePerSecond` ms, whatever happened to
 * the requests before it. Its latency is measured from that due time, not from the
 * moment it was actually sent, so a server that stalls is charged for every request that should
 * have gone out meanwhile (no coordinated omission: a closed loop would just send fewer requests).
 * A loop of `count` requests at `ratePerSecond` lasts `count / ratePerSecond` seconds
 * (`scheduledCount` gives the count for a duration).
 *
 * Bounds: at most `maxInFlight` requests at once (when that many are outstanding the next one waits,
 * and its wait counts in its latency), at most `count` requests, and the
 * loop stops sending after `maxErrors` failures. Nothing is retried. The loop ends when the last
 * request sent has answered or failed (each carries its own deadline).
 */
export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  /** Requests on the schedule. */
  readonly count: number;
  readonly maxInFlight: number;
  readonly maxErrors: number;
  /** Sends request `index` (0-based, in schedule order); rejects when it fails. */
  readonly operation: (index: number) => Promise<void>;
  /** Milliseconds from an arbitrary origin; `performance.now` unless a test injects a clock. */
  readonly now?: () => number;
  /** Resolves after about `ms` milliseconds; `setTimeout` unless a test injects a clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly describeError?: (error: unknown) => string;
}

export type OpenLoopStop = 'schedule' | 'errors';

export interface OpenLoopResult {
  /** Requests the schedule held, sent, answered, failed. */
  readonly scheduled: number;
  readonly sent: number;
  readonly completed: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** First due time → last answer. */
  readonly elapsedMs: number;
  /** Answers per second over `elapsedMs`. */
  readonly completedPerSecond: number;
  /** Due time → answer: what a caller on the schedule waited. */
  readonly latency: LatencySummary;
  /** Actual send → answer: the same requests timed the closed-loop way, for comparison. */
  readonly serviceLatency: LatencySummary;
  /** The latest any request went out after its due time (the generator's lag plus in-flight waits). */
  readonly maxSendLagMs: number;
  /** Requests that had to wait for one of `maxInFlight` slots. */
  readonly inFlightWaits: number;
  readonly stoppedBy: OpenLoopStop;
}

/** How many requests a schedule of `ratePerSecond` holds over `durationMs`: due times in [0, duration). */
export function scheduledCount(ratePerSecond: number, durationMs: number): number {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`rate ${ratePerSecond}/s is not a positive rate`);
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new RangeError(`duration ${durationMs} ms is not a duration`);
  return Math.ceil((ratePerSecond * durationMs) / 1000);
}

/** Milliseconds from the start at which request `index` is due. */
export function dueOffsetMs(index: number, ratePerSecond: number): number {
  return (index * 1000) / ratePerSecond;
}

const realSleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? realSleep;
  const describe = options.describeError ?? describeErrorDefault;
  if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError(`maxInFlight ${options.maxInFlight} must be a positive integer`);
  const count = options.count;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`request count ${count} is not a count`);
  if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) throw new RangeError(`rate ${options.ratePerSecond}/s is not a positive rate`);
  const latency = new LatencyRecorder(count);
  const serviceLatency = new LatencyRecorder(count);
  const errors = new ErrorCounts();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let completed = 0;
  let maxSendLagMs = 0;
  let inFlightWaits = 0;
  let lastAnswerMs = Number.NaN;
  let stoppedBy: OpenLoopStop = 'schedule';
  const startMs = now();

  const send = (index: number, dueMs: number): void => {
    const sentAtMs = now();
    const request = (async () => {
      try {
        await options.operation(index);
        const answeredMs = now();
        latency.record(answeredMs - dueMs);
        serviceLatency.record(answeredMs - sentAtMs);
        completed += 1;
      } catch (error) {
        errors.add(describe(error));
      } finally {
        lastAnswerMs = now();
      }
    })();
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  for (let index = 0; index < count; index += 1) {
    const dueMs = startMs + dueOffsetMs(index, options.ratePerSecond);
    for (let waitMs = dueMs - now(); waitMs > 0; waitMs = dueMs - now()) await sleep(waitMs);
    if (inFlight.size >= options.maxInFlight) {
      inFlightWaits += 1;
      while (inFlight.size >= options.maxInFlight) await Promise.race(inFlight);
    }
    if (errors.total >= options.maxErrors) {
      stoppedBy = 'errors';
      break;
    }
    maxSendLagMs = Math.max(maxSendLagMs, now() - dueMs);
    sent += 1;
    send(index, dueMs);
  }
  await Promise.all(inFlight);
  const elapsedMs = (Number.isNaN(lastAnswerMs) ? now() : lastAnswerMs) - startMs;
  return {
    scheduled: count,
    sent,
    completed,
    failed: errors.total,
    errors: errors.toRecord(),
    elapsedMs,
    completedPerSecond: ratePerSecond(completed, elapsedMs),
    latency: latency.summary(),
    serviceLatency: serviceLatency.summary(),
    maxSendLagMs,
    inFlightWaits,
    stoppedBy,
  };
}
