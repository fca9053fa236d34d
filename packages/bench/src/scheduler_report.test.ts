import { describe, expect, it } from 'vitest';
import { computeThroughput, schedulingLatency } from './scheduler_measure.js';
import { checkProblems, checkSchedulerTargets, renderSchedulerReport } from './scheduler_report.js';
import { hasSchedulerTrouble, type SchedulerBenchReport, type SchedulerChecks, type SchedulingMeasurement } from './scheduler_results.js';
import { summarizeLatencies } from './stats.js';

const clean = { count: 0, samples: [] };

// 10,000 binds, 1,000 each second from 2 s after the start (the scheduler's start-up before them).
const binds = Array.from({ length: 10_000 }, (_, i) => 2000 + i);

const measurement = (overrides: Partial<SchedulingMeasurement> = {}): SchedulingMeasurement => ({
  measuredPods: 10_000,
  bound: 10_000,
  unbound: 0,
  schedulerStartMs: 812,
  boundBeforeReady: 0,
  elapsedMs: 11_999,
  stoppedBy: 'all bound',
  throughput: computeThroughput(binds, 0),
  latency: schedulingLatency(binds, 0),
  schedulerMetrics: [
    { name: 'scheduler_scheduling_attempt_duration_seconds', selector: 'result="scheduled"', count: 10_000, meanMs: 1.2, p50Ms: 0.9, p90Ms: 2, p99Ms: 4.5, aboveLastBucket: 0, lastBucketMs: 16_384 },
    { name: 'scheduler_pod_scheduling_sli_duration_seconds', selector: '', count: 10_000, meanMs: 35_380, p50Ms: 16_384, p90Ms: 16_384, p99Ms: 16_384, aboveLastBucket: 9000, lastBucketMs: 16_384 },
  ],
  failedScheduling: { events: 0, occurrences: 0, messages: [] },
  cpu: { loadGeneratorPercent: 12.3, schedulerPercent: 98.7, apiserverPercent: 61, storeMembersPercent: 40.2, machinePercent: 230, otherProcessesPercent: 17.8 },
  ...overrides,
});

const checks = (overrides: Partial<SchedulerChecks> = {}): SchedulerChecks => ({ bindings: clean, capacity: clean, placement: clean, unbound: 0, ...overrides });

const report = (overrides: Partial<SchedulerBenchReport> = {}): SchedulerBenchReport => {
  const m = measurement();
  const conditions: SchedulerBenchReport['conditions'] = {
    startedAt: '2025-01-02T03:04:05.000Z',
    cpuCores: 8,
    cpuModel: 'Test CPU',
    memoryGiB: 31.3,
    loadAverage1m: 0.5,
    nodeVersion: 'v22.0.0',
    platform: 'linux 6.1 x64',
    benchProcess: 'one Node.js process',
    workload: 'SchedulingBasic',
    workloadDescription: "scheduler_perf's SchedulingBasic",
    nodes: 5000,
    measuredPods: 10_000,
    fillPods: 0,
    zones: 10,
    node: { cpu: '4', memory: '32Gi', pods: 110 },
    podRequests: 'cpu 100m, memory 500Mi',
    concurrency: 64,
    timeoutSeconds: 600,
    store: '3 k8ts-store members',
    versions: { apiserver: 'v1.32.0-k8ts', store: '3.5.0' },
    schedulerArgs: ['--master', '127.0.0.1:1', '--leader-elect=false'],
    writesDuringMeasurement: 'bindings only',
  };
  return {
    conditions,
    target: { server: 'http://127.0.0.1:2', grpc: '127.0.0.1:1', namespace: 'k8ts-bench-x', schedulerHealthUrl: 'http://127.0.0.1:3' },
    setup: [
      { name: 'nodes', requested: 5000, completed: 5000, failed: 0, errors: {}, elapsedMs: 5000, perSecond: 1000, latency: summarizeLatencies([1, 2, 30]) },
      { name: 'pods', requested: 10_000, completed: 10_000, failed: 0, errors: {}, elapsedMs: 20_000, perSecond: 500, latency: summarizeLatencies([2, 4, 60]) },
    ],
    measurement: m,
    checks: checks(),
    targets: checkSchedulerTargets(conditions, m),
    problems: [],
    ...overrides,
  };
};

describe('the scheduler report', () => {
  it('renders a fixed result: setup, throughput, samples, latency, metrics, CPU, checks, target', () => {
    const lines = renderSchedulerReport(report()).split('\n');
    expect(lines[0]).toBe("k8ts bench scheduler: scheduler_perf's SchedulingBasic on k8ts-scheduler");
    expect(lines).toContain('versions: apiserver v1.32.0-k8ts, store 3.5.0');
    expect(lines).toContain('target: http://127.0.0.1:2 (gRPC 127.0.0.1:1)');
    expect(lines).toContain('  setup (unmeasured)   done/asked  failed     s          rate  p50 ms  p99 ms');
    expect(lines).toContain('  nodes                 5000/5000       0  5.00  1000 nodes/s    2.00    30.0');
    expect(lines).toContain('  pods                10000/10000       0  20.0    500 pods/s    4.00    60.0');
    expect(lines).toContain('  bound:      10000 of 10000 measured pods in 12.0 s (all bound); first bind 2.00 s after ready');
    expect(lines).toContain('  throughput: 833 pods/s overall (bound ÷ ready → last bind), 1000 pods/s from the first bind to the last');
    expect(lines).toContain(
      "  SchedulingThroughput (scheduler_perf's: a sample each 1.00 s after the first bound pod): average 1000, p50 1000, p90 1000, p99 1000 pods/s (9 samples)",
    );
    expect(lines).toContain('    samples: 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000');
    expect(lines).toContain('  latency (ready → bind seen)  p50 ms  p90 ms  p99 ms  p999 ms  max ms   pods');
    expect(lines).toContain('                                 6999   10999   11899    11989   11999  10000');
    expect(lines).toContain(
      '    scheduler_scheduling_attempt_duration_seconds{result="scheduled"}: 10000 observations, mean 1.20 ms, p50 0.900 ms, p90 2.00 ms, p99 4.50 ms',
    );
    expect(lines).toContain(
      '    scheduler_pod_scheduling_sli_duration_seconds: 10000 observations, mean 35380 ms, p50 16384 ms, p90 16384 ms, p99 16384 ms; 9000 above its last bucket (16384 ms), where the quantiles stop',
    );
    expect(lines).toContain('  FailedScheduling events: 0 (0 occurrences)');
    expect(lines).toContain(
      '  CPU during measurement (% of one core): scheduler 98.7%, apiserver 61.0%, store members together 40.2%, load generator 12.3%, other processes 17.8%',
    );
    expect(lines).toContain("  capacity:  no node's pods request more cpu, memory or pod slots than it allocates");
    expect(lines).toContain(
      "  SchedulingBasic 5000 nodes/10000 pods: at least 1000 pods/s (kube-scheduler's CI floor 680 pods/s): SchedulingThroughput average 1000 pods/s over 9 samples with SchedulingBasic 5000 nodes/10000 pods — met",
    );
    expect(lines.some((line) => line.startsWith('PROBLEM'))).toBe(false);
    expect(hasSchedulerTrouble(report())).toBe(false);
  });

  it('prints problems, the metrics note, victims and a missed target', () => {
    const slow = measurement({
      throughput: computeThroughput(Array.from({ length: 10_000 }, (_, i) => i * 2), 0),
      schedulerMetrics: [],
      schedulerMetricsNote: 'GET /metrics answered 404',
      victimsDeleted: 12,
      failedScheduling: { events: 2, occurrences: 5, messages: ['0/3 nodes are available: 3 Insufficient cpu.'] },
    });
    const text = renderSchedulerReport(report({ measurement: slow, targets: checkSchedulerTargets(report().conditions, slow), problems: ['over-commit: node n1 is over'] }));
    expect(text).toContain("  the scheduler's /metrics: GET /metrics answered 404");
    expect(text).toContain('  preemption victims deleted: 12');
    expect(text).toContain('  FailedScheduling events: 2 (5 occurrences); e.g. "0/3 nodes are available: 3 Insufficient cpu."');
    expect(text).toContain('SchedulingThroughput average 500 pods/s over 18 samples with SchedulingBasic 5000 nodes/10000 pods — NOT met');
    expect(text).toContain('PROBLEM: over-commit: node n1 is over');
  });
});

describe('the target', () => {
  const shape = { workload: 'SchedulingBasic' as const, nodes: 5000, measuredPods: 10_000 };

  it('is judged on SchedulingThroughput’s average at the issue’s shape only, and never makes trouble', () => {
    expect(checkSchedulerTargets(shape, measurement())[0]?.met).toBe(true);
    expect(checkSchedulerTargets({ ...shape, nodes: 50, measuredPods: 200 }, measurement())[0]?.met).toBe('not measured');
    expect(checkSchedulerTargets({ ...shape, workload: 'TopologySpreading' }, measurement())[0]?.met).toBe('not measured');
    expect(checkSchedulerTargets(shape, undefined)[0]).toMatchObject({ measured: 'no measurement', met: 'not measured' });
    const missed = report({ targets: [{ target: 't', measured: 'm', met: false }] });
    expect(hasSchedulerTrouble(missed)).toBe(false);
  });

  it('falls back to the first → last bind rate when binding was too short for samples, and is missed with pods unbound', () => {
    const quick = measurement({ throughput: computeThroughput(Array.from({ length: 10_000 }, (_, i) => i / 10), 0) });
    const [check] = checkSchedulerTargets(shape, quick);
    expect(check?.measured).toMatch(/^first → last bind 10000 pods\/s \(too short for SchedulingThroughput samples\)/);
    expect(check?.met).toBe(true);
    expect(checkSchedulerTargets(shape, measurement({ unbound: 1 }))[0]?.met).toBe(false);
  });
});

describe('problems', () => {
  it('come from every check that objected, and make trouble', () => {
    const broken = checks({
      bindings: { count: 12, samples: ['pod a was bound twice: to n1, then to n2'] },
      capacity: { count: 1, samples: ['node n1 is over its allocatable: 4 pods of 3'] },
      unbound: 3,
    });
    const problems = checkProblems(broken);
    expect(problems).toEqual([
      'bindings (first 1 of 12): pod a was bound twice: to n1, then to n2',
      'over-commit: node n1 is over its allocatable: 4 pods of 3',
      '3 measured pods were left unbound when measurement ended',
    ]);
    expect(checkProblems(checks())).toEqual([]);
    expect(hasSchedulerTrouble(report({ problems }))).toBe(true);
    const failedCreate = report().setup.map((phase) => ({ ...phase, failed: 1 }));
    expect(hasSchedulerTrouble(report({ setup: failedCreate }))).toBe(true);
  });
});
