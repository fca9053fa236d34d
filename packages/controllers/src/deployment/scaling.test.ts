import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION } from './annotations.js';
import { proportion, replicaSetFraction, scaleSteps } from './scaling.js';

function deployment(replicas: number, maxSurge: number | string = 3, maxUnavailable: number | string = 2, statusReplicas?: number): Deployment {
  return {
    metadata: { name: 'web' },
    spec: { replicas, selector: {}, template: {}, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } },
    ...(statusReplicas === undefined ? {} : { status: { replicas: statusReplicas } }),
  };
}

function replicaSet(name: string, replicas: number, createdSecond: number, annotations: { desired?: number; max?: number } = {}, available = 0): ReplicaSet {
  const notes: Record<string, string> = {};
  if (annotations.desired !== undefined) notes[DESIRED_REPLICAS_ANNOTATION] = String(annotations.desired);
  if (annotations.max !== undefined) notes[MAX_REPLICAS_ANNOTATION] = String(annotations.max);
  return {
    metadata: { name, uid: name, creationTimestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, createdSecond)).toISOString(), annotations: notes },
    spec: { replicas, selector: {} },
    status: { replicas, availableReplicas: available },
  };
}

const sizes = (steps: ReturnType<typeof scaleSteps>): Record<string, number> => Object.fromEntries(steps.map((step) => [step.replicaSet.metadata?.name, step.replicas]));

describe('proportional scaling of a rollout in progress (upstream scale / GetProportion)', () => {
  test('10 → 20 mid-rollout (old 7, new 6 of max 13): each grows by its share of 23, 12 and 11', () => {
    const old = replicaSet('old', 7, 0, { desired: 10, max: 13 });
    const current = replicaSet('new', 6, 1, { desired: 10, max: 13 });
    const steps = scaleSteps(deployment(20), current, [old]);
    expect(sizes(steps)).toEqual({ old: 12, new: 11 });
    expect(steps.every((step) => step.operation === 'up')).toBe(true);
  });

  test('10 → 5 mid-rollout: both shrink to 4 (8 = 5 + 3 surge), the older first', () => {
    const old = replicaSet('old', 7, 0, { desired: 10, max: 13 });
    const current = replicaSet('new', 6, 1, { desired: 10, max: 13 });
    const steps = scaleSteps(deployment(5), current, [old]);
    expect(steps.map((step) => step.replicaSet.metadata?.name)).toEqual(['old', 'new']);
    expect(sizes(steps)).toEqual({ old: 4, new: 4 });
    expect(steps.every((step) => step.operation === 'down')).toBe(true);
  });

  test('the rounding leftover goes to the first in order: for equal sizes scaling up, the newest', () => {
    const d = deployment(4, 0, 1);
    const a = replicaSet('a', 1, 0, { desired: 3, max: 3 });
    const b = replicaSet('b', 1, 1, { desired: 3, max: 3 });
    const c = replicaSet('c', 1, 2, { desired: 3, max: 3 });
    expect(sizes(scaleSteps(d, undefined, [a, b, c]))).toEqual({ a: 1, b: 1, c: 2 });
  });

  test('to 0 replicas every active ReplicaSet goes to 0', () => {
    const old = replicaSet('old', 7, 0, { desired: 10, max: 13 });
    const current = replicaSet('new', 6, 1, { desired: 10, max: 13 });
    expect(sizes(scaleSteps(deployment(0), current, [old]))).toEqual({ old: 0, new: 0 });
  });

  test('one active ReplicaSet takes the new size whole; none active: the new one', () => {
    const old = replicaSet('old', 0, 0);
    const current = replicaSet('new', 10, 1, { desired: 10, max: 13 });
    expect(sizes(scaleSteps(deployment(15), current, [old]))).toEqual({ new: 15 });
    expect(scaleSteps(deployment(10), current, [old])).toEqual([]);
    expect(sizes(scaleSteps(deployment(3), replicaSet('new', 0, 1), [old]))).toEqual({ new: 3 });
  });

  test('a saturated new ReplicaSet (all replicas, annotated and available) scales the old ones to 0', () => {
    const old = replicaSet('old', 2, 0, { desired: 10, max: 13 });
    const current = replicaSet('new', 10, 1, { desired: 10, max: 13 }, 10);
    expect(sizes(scaleSteps(deployment(10), current, [old]))).toEqual({ old: 0 });
  });

  test('the fraction rounds halves away from zero and falls back to status.replicas without the annotation', () => {
    // 1 × (2 + 1) / 2 = 1.5 → 2: one more.
    expect(replicaSetFraction(replicaSet('a', 1, 0, { max: 2 }), deployment(2, 1, 0))).toBe(1);
    expect(replicaSetFraction(replicaSet('a', 4, 0), deployment(10, 0, 1, 8))).toBe(1);
  });

  test('a share never exceeds what is left to hand out', () => {
    const rs = replicaSet('a', 10, 0, { max: 10 });
    expect(proportion(rs, deployment(100, 0, 1), 5, 3)).toBe(2);
    expect(proportion(rs, deployment(1, 0, 1), -5, -4)).toBe(-1);
    expect(proportion(replicaSet('a', 0, 0), deployment(100, 0, 1), 5, 0)).toBe(0);
  });
});
