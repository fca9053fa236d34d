/**
 * Latency statistics. Percentiles are nearest-rank over every recorded sample (no histogram buckets,
 * no interpolation): p99 of 1,000 samples is the 990th smallest. Every sample is kept, so a recorder
 * is bounded by the count it is created with; a benchmark's count is bounded anyway.
 */

export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export const EMPTY_SUMMARY: LatencySummary = {
  count: 0,
  minMs: Number.NaN,
  meanMs: Number.NaN,
  p50Ms: Number.NaN,
  p90Ms: Number.NaN,
  p99Ms: Number.NaN,
  p999Ms: Number.NaN,
  maxMs: Number.NaN,
};

/**
 * The nearest-rank percentile of ascending samples: the smallest sample such that at least
 * `fraction` of all samples are less than or equal to it. `fraction` in (0, 1].
 */
export function percentile(sortedAscending: ArrayLike<number>, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`percentile fraction ${fraction} is outside (0, 1]`);
  const count = sortedAscending.length;
  if (count === 0) return Number.NaN;
  const rank = Math.ceil(fraction * count); // 1-based
  const value = sortedAscending[Math.min(count, Math.max(1, rank)) - 1];
  if (value === undefined) throw new Error(`percentile: no sample at rank ${rank} of ${count}`);
  return value;
}

/** Summarizes samples in milliseconds (any order; the input is not modified). */
export function summarizeLatencies(samplesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const count = sorted.length;
  if (count === 0) return EMPTY_SUMMARY;
  let sum = 0;
  for (const value of sorted) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`latency sample ${value} is not a finite, non-negative duration`);
    sum += value;
  }
  return {
    count,
    minMs: sorted[0] ?? Number.NaN,
    meanMs: sum / count,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
    maxMs: sorted[count - 1] ?? Number.NaN,
  };
}

/** A fixed-capacity sample buffer; recording past capacity is a programming error and throws. */
export class LatencyRecorder {
  private readonly samples: Float64Array;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`recorder capacity ${capacity} is not a count`);
    this.samples = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  record(durationMs: number): void {
    if (this.size >= this.capacity) throw new RangeError(`latency recorder full (${this.capacity} samples)`);
    this.samples[this.size] = durationMs;
    this.size += 1;
  }

  summary(): LatencySummary {
    return summarizeLatencies(this.samples.subarray(0, this.size));
  }
}

/** Operations per second over an elapsed time; 0 when nothing was timed. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** The median of finite values (the mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}
