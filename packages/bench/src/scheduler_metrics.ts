/**
 * The scheduler's own latency histograms from its /metrics (Prometheus text format), summarized as
 * Prometheus' histogram_quantile would: linear interpolation inside the bucket holding the rank.
 * Absent metrics are simply absent; nothing here fails a run.
 */

export interface HistogramBucket {
  /** Upper bound (Infinity for +Inf). */
  readonly le: number;
  /** Cumulative count of observations ≤ le. */
  readonly count: number;
}

export interface Histogram {
  /** Ascending by le, cumulative, summed over the series that pass the filter. */
  readonly buckets: readonly HistogramBucket[];
  readonly count: number;
  readonly sum: number;
}

/** One histogram as the report prints it (milliseconds; the metric is in seconds). */
export interface SchedulerMetricSummary {
  readonly name: string;
  /** The series it sums, e.g. `result="scheduled"`; empty: every series. */
  readonly selector: string;
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Observations above the last finite bucket: quantiles there stop at that bound (lastBucketMs). */
  readonly aboveLastBucket: number;
  readonly lastBucketMs: number;
}

/** kube-scheduler's histograms that scheduler_perf reads, with the series each is summed over. */
export const SCHEDULER_HISTOGRAMS: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>> }[] = [
  { name: 'scheduler_scheduling_attempt_duration_seconds', labels: { result: 'scheduled' } },
  { name: 'scheduler_pod_scheduling_sli_duration_seconds', labels: {} },
  { name: 'scheduler_pod_scheduling_duration_seconds', labels: {} },
  { name: 'scheduler_e2e_scheduling_duration_seconds', labels: { result: 'scheduled' } },
];

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined) return labels;
  for (const match of text.matchAll(LABEL)) labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * The histogram `name` summed over its series; a series counts when each of `labels` it carries
 * has the given value (a series without the label counts too). Undefined when no bucket is there.
 */
export function parseHistogram(text: string, name: string, labels: Readonly<Record<string, string>> = {}): Histogram | undefined {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let found = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const metric = match[1] ?? '';
    if (metric !== `${name}_bucket` && metric !== `${name}_sum` && metric !== `${name}_count`) continue;
    const own = parseLabels(match[2]);
    if (Object.entries(labels).some(([key, value]) => own[key] !== undefined && own[key] !== value)) continue;
    const value = parseValue(match[3] ?? '');
    if (!Number.isFinite(value)) continue;
    if (metric.endsWith('_bucket')) {
      const le = parseValue(own['le'] ?? '');
      if (Number.isNaN(le)) continue;
      buckets.set(le, (buckets.get(le) ?? 0) + value);
      found = true;
    } else if (metric.endsWith('_sum')) {
      sum += value;
    } else {
      count += value;
    }
  }
  if (!found) return undefined;
  const sorted = [...buckets.entries()].sort(([a], [b]) => a - b).map(([le, total]) => ({ le, count: total }));
  const inf = sorted.find((bucket) => bucket.le === Infinity)?.count;
  return { buckets: sorted, count: count > 0 ? count : (inf ?? sorted[sorted.length - 1]?.count ?? 0), sum };
}

/** Prometheus' histogram_quantile: NaN without observations; the highest finite bound when the rank falls in +Inf. */
export function histogramQuantile(fraction: number, buckets: readonly HistogramBucket[]): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (buckets.length === 0 || total <= 0) return Number.NaN;
  const rank = fraction * total;
  const index = buckets.findIndex((bucket) => bucket.count >= rank);
  if (index < 0) return Number.NaN;
  const bucket = buckets[index] as HistogramBucket;
  const previous = index > 0 ? buckets[index - 1] : undefined;
  if (bucket.le === Infinity) return previous?.le ?? Number.NaN;
  const lowerBound = previous?.le ?? (bucket.le > 0 ? 0 : bucket.le);
  const lowerCount = previous?.count ?? 0;
  const inBucket = bucket.count - lowerCount;
  if (inBucket <= 0) return bucket.le;
  return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket);
}

/** The scheduler histograms present in a /metrics text, in SCHEDULER_HISTOGRAMS order. */
export function summarizeSchedulerMetrics(text: string): SchedulerMetricSummary[] {
  const summaries: SchedulerMetricSummary[] = [];
  for (const { name, labels } of SCHEDULER_HISTOGRAMS) {
    const histogram = parseHistogram(text, name, labels);
    if (histogram === undefined) continue;
    const ms = (seconds: number): number => seconds * 1000;
    summaries.push({
      name,
      selector: Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(','),
      count: histogram.count,
      meanMs: histogram.count > 0 ? ms(histogram.sum / histogram.count) : Number.NaN,
      p50Ms: ms(histogramQuantile(0.5, histogram.buckets)),
      p90Ms: ms(histogramQuantile(0.9, histogram.buckets)),
      p99Ms: ms(histogramQuantile(0.99, histogram.buckets)),
      ...overflow(histogram.buckets),
    });
  }
  return summaries;
}

/** Observations in +Inf beyond the last finite bucket, and that bucket's bound in ms. */
function overflow(buckets: readonly HistogramBucket[]): { aboveLastBucket: number; lastBucketMs: number } {
  const finite = buckets.filter((bucket) => Number.isFinite(bucket.le));
  const last = finite[finite.length - 1];
  const total = buckets[buckets.length - 1]?.count ?? 0;
  return { aboveLastBucket: Math.max(0, total - (last?.count ?? 0)), lastBucketMs: (last?.le ?? Number.NaN) * 1000 };
}
