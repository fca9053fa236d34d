import { describe, expect, test } from 'vitest';
import { capOf } from './controllers_bench.js';
import { DEFAULT_CONTROLLERS_OPTIONS, computeFigures, planDeployments, type DeploymentTimeline } from './controllers_plan.js';

const options = { ...DEFAULT_CONTROLLERS_OPTIONS, small: 2, medium: 1, big: 1, podsPerSecond: 50 };

describe('k8ts bench controllers: the plan', () => {
  test('each Deployment is due when the pods before it have been asked for at the rate', () => {
    const plan = planDeployments(options);
    expect(plan.map((p) => p.replicas).sort((a, b) => a - b)).toEqual([5, 5, 30, 250]);
    let podsBefore = 0;
    for (const planned of plan) {
      expect(planned.dueMs).toBeCloseTo((podsBefore / 50) * 1000);
      podsBefore += planned.replicas;
    }
  });

  test('the same seed gives the same order; another seed may not', () => {
    const big = { ...options, small: 20, medium: 4 };
    expect(planDeployments(big).map((p) => p.size)).toEqual(planDeployments(big).map((p) => p.size));
    expect(planDeployments({ ...big, seed: 2 }).map((p) => p.size)).not.toEqual(planDeployments(big).map((p) => p.size));
  });

  test('a zero rate is refused', () => expect(() => planDeployments({ ...options, podsPerSecond: 0 })).toThrow('--pod-rate must be positive'));
});

describe('k8ts bench controllers: the figures', () => {
  const timeline = (name: string, replicas: number, createdAtMs: number, podTimes: number[], boundTimes: number[]): DeploymentTimeline => ({
    planned: { name, size: replicas === 5 ? 'small' : 'medium', replicas, dueMs: createdAtMs },
    createdAtMs,
    podCreatedAtMs: podTimes,
    podBoundAtMs: boundTimes,
  });

  test('times from create to the last pod created and bound, per size and overall; rates from the first create', () => {
    const figures = computeFigures([timeline('a', 5, 0, [10, 20, 30, 40, 50], [60, 70, 80, 90, 100]), timeline('b', 5, 100, [110, 120, 130, 140, 150], [160, 170, 180, 190, 1000])]);
    expect(figures.podsCreated).toBe(10);
    expect(figures.podsCreatedPerSecond).toBe(66.7); // 10 pods in 150 ms
    const small = figures.bySize.find((s) => s.size === 'small');
    expect(small?.toAllCreated.p50Ms).toBe(50);
    expect(small?.toAllBound.maxMs).toBe(900);
    expect(figures.incomplete).toEqual([]);
  });

  test('a Deployment short of pods is incomplete and left out of its latencies', () => {
    const figures = computeFigures([timeline('a', 5, 0, [10, 20], [30])]);
    expect(figures.incomplete).toEqual(['a']);
    expect(figures.bySize.find((s) => s.size === 'all')?.toAllCreated.count).toBe(0);
  });

  test('the cap: kept up, the machine, one busy process, or the QPS', () => {
    const figures = (rate: number) => ({ ...computeFigures([]), podsCreatedPerSecond: rate });
    expect(capOf(figures(49), options, {})).toContain('kept up');
    expect(capOf(figures(30), options, { apiserver: 90, 'k8ts-store': 95 })).toContain("the machine's cores");
    expect(capOf(figures(30), options, { 'controller-manager': 97, apiserver: 20 })).toBe('controller-manager, one core busy (97%)');
    expect(capOf(figures(30), options, { 'controller-manager': 30 })).toContain('--kube-api-qps');
  });
});
