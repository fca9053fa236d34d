import { describe, expect, it } from 'vitest';
import { histogramQuantile, parseHistogram, summarizeSchedulerMetrics } from './scheduler_metrics.js';

const ATTEMPT = 'scheduler_scheduling_attempt_duration_seconds';
const METRICS = [
  `# HELP ${ATTEMPT} Scheduling attempt latency in seconds`,
  `# TYPE ${ATTEMPT} histogram`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="scheduled",le="0.001"} 10`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="scheduled",le="0.002"} 60`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="scheduled",le="0.004"} 90`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="scheduled",le="+Inf"} 100`,
  `${ATTEMPT}_sum{profile="default-scheduler",result="scheduled"} 0.2`,
  `${ATTEMPT}_count{profile="default-scheduler",result="scheduled"} 100`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="unschedulable",le="0.001"} 0`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="unschedulable",le="0.002"} 0`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="unschedulable",le="0.004"} 0`,
  `${ATTEMPT}_bucket{profile="default-scheduler",result="unschedulable",le="+Inf"} 50`,
  `${ATTEMPT}_sum{profile="default-scheduler",result="unschedulable"} 25`,
  `${ATTEMPT}_count{profile="default-scheduler",result="unschedulable"} 50`,
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="1",le="0.01"} 3',
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="1",le="0.1"} 4 1700000000000',
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="1",le="+Inf"} 4',
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="2",le="0.01"} 1',
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="2",le="0.1"} 4',
  'scheduler_pod_scheduling_sli_duration_seconds_bucket{attempts="2",le="+Inf"} 4',
  'scheduler_pod_scheduling_sli_duration_seconds_sum{attempts="1"} 0.02',
  'scheduler_pod_scheduling_sli_duration_seconds_sum{attempts="2"} 0.14',
  'scheduler_pod_scheduling_sli_duration_seconds_count{attempts="1"} 4',
  'scheduler_pod_scheduling_sli_duration_seconds_count{attempts="2"} 4',
  'process_cpu_seconds_total 12.5',
].join('\n');

describe('scheduler /metrics', () => {
  it('sums the series a filter keeps, bucket by bucket', () => {
    expect(parseHistogram(METRICS, ATTEMPT, { result: 'scheduled' })).toEqual({
      buckets: [
        { le: 0.001, count: 10 },
        { le: 0.002, count: 60 },
        { le: 0.004, count: 90 },
        { le: Infinity, count: 100 },
      ],
      count: 100,
      sum: 0.2,
    });
    expect(parseHistogram(METRICS, ATTEMPT)?.count).toBe(150);
    expect(parseHistogram(METRICS, 'scheduler_pod_scheduling_sli_duration_seconds')?.buckets).toEqual([
      { le: 0.01, count: 4 },
      { le: 0.1, count: 8 },
      { le: Infinity, count: 8 },
    ]);
    expect(parseHistogram(METRICS, 'scheduler_e2e_scheduling_duration_seconds')).toBeUndefined();
  });

  it("interpolates quantiles inside a bucket as Prometheus' histogram_quantile, capping at the last finite bound", () => {
    const buckets = parseHistogram(METRICS, ATTEMPT, { result: 'scheduled' })?.buckets ?? [];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.0018, 12); // rank 50 in (0.001, 0.002]: 40 of 50
    expect(histogramQuantile(0.9, buckets)).toBeCloseTo(0.004, 12);
    expect(histogramQuantile(0.99, buckets)).toBe(0.004); // in +Inf
    expect(histogramQuantile(0.05, buckets)).toBeCloseTo(0.0005, 12); // first bucket from 0
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNaN();
  });

  it('summarizes the histograms present in milliseconds, and nothing when there are none', () => {
    const summaries = summarizeSchedulerMetrics(METRICS);
    expect(summaries.map((summary) => [summary.name, summary.selector, summary.count])).toEqual([
      [ATTEMPT, 'result="scheduled"', 100],
      ['scheduler_pod_scheduling_sli_duration_seconds', '', 8],
    ]);
    expect(summaries[0]?.meanMs).toBeCloseTo(2, 10);
    expect(summaries[0]?.p50Ms).toBeCloseTo(1.8, 10);
    expect(summaries[0]?.p99Ms).toBeCloseTo(4, 10);
    expect(summaries[1]?.p50Ms).toBeCloseTo(10, 10);
    expect(summaries[0]).toMatchObject({ aboveLastBucket: 10, lastBucketMs: 4 });
    expect(summaries[1]).toMatchObject({ aboveLastBucket: 0, lastBucketMs: 100 });
    expect(summarizeSchedulerMetrics('process_cpu_seconds_total 1\n')).toEqual([]);
  });
});
