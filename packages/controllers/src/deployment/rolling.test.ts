import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { availableAtLeast, maxScaledDown, newReplicaSetReplicas, oldScaleDownSteps, podsAtMost, unhealthyCleanupSteps } from './rolling.js';

const NO_PODS = new Map<string, number>();

function deployment(replicas: number, maxSurge: number | string, maxUnavailable: number | string, type: 'RollingUpdate' | 'Recreate' = 'RollingUpdate'): Deployment {
  return {
    spec: {
      replicas,
      selector: {},
      template: {},
      strategy: type === 'Recreate' ? { type } : { type, rollingUpdate: { maxSurge, maxUnavailable } },
    },
  };
}

/** A ReplicaSet whose status is `status` (default: caught up with spec, all available). */
function replicaSet(name: string, replicas: number, createdSecond: number, status: { replicas?: number; available?: number } = {}): ReplicaSet {
  return {
    metadata: { name, uid: name, creationTimestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, createdSecond)).toISOString() },
    spec: { replicas, selector: {} },
    status: { replicas: status.replicas ?? replicas, availableReplicas: status.available ?? status.replicas ?? replicas },
  };
}

describe('scaling the new ReplicaSet up (upstream NewRSNewReplicas)', () => {
  test('10 replicas, maxSurge 3: a rollout starts with 3 new pods', () => {
    const old = replicaSet('old', 10, 0);
    const fresh = replicaSet('new', 0, 1);
    expect(newReplicaSetReplicas(deployment(10, 3, 2), [old, fresh], fresh, NO_PODS)).toBe(3);
  });

  test('no growth while all pods already fill replicas + maxSurge', () => {
    const old = replicaSet('old', 8, 0, { replicas: 8 });
    const fresh = replicaSet('new', 5, 1, { available: 0 });
    expect(newReplicaSetReplicas(deployment(10, 3, 2), [old, fresh], fresh, NO_PODS)).toBe(5);
  });

  test('never above the Deployment replicas', () => {
    const fresh = replicaSet('new', 1, 1);
    expect(newReplicaSetReplicas(deployment(6, 10, 0), [replicaSet('old', 1, 0), fresh], fresh, NO_PODS)).toBe(6);
  });

  test('Recreate takes the replicas at once', () => {
    const fresh = replicaSet('new', 0, 1);
    expect(newReplicaSetReplicas(deployment(5, 0, 0, 'Recreate'), [replicaSet('old', 5, 0), fresh], fresh, NO_PODS)).toBe(5);
  });

  test('k8ts: an old ReplicaSet whose scale-down is not carried out yet still counts its pods', () => {
    // Scaled from 10 to 8; its status (or the pod cache) still shows 10 pods: no room yet.
    const old = replicaSet('old', 8, 0, { replicas: 10, available: 10 });
    const fresh = replicaSet('new', 3, 1, { available: 3 });
    expect(newReplicaSetReplicas(deployment(10, 3, 2), [old, fresh], fresh, NO_PODS)).toBe(3);
    const caughtUp = replicaSet('old', 8, 0);
    expect(newReplicaSetReplicas(deployment(10, 3, 2), [caughtUp, fresh], fresh, NO_PODS)).toBe(5);
    expect(newReplicaSetReplicas(deployment(10, 3, 2), [caughtUp, fresh], fresh, new Map([['old', 9]]))).toBe(4);
  });
});

describe('scaling old ReplicaSets down (upstream reconcileOldReplicaSets)', () => {
  test('the first step of 10 → 10 with maxSurge 3, maxUnavailable 2: two old replicas go', () => {
    const d = deployment(10, 3, 2);
    const old = replicaSet('old', 10, 0);
    const fresh = replicaSet('new', 3, 1, { replicas: 0, available: 0 });
    expect(maxScaledDown(d, [old, fresh], fresh)).toBe(2);
    expect(unhealthyCleanupSteps([old], 2)).toEqual([]);
    expect(oldScaleDownSteps(d, [old, fresh], [old]).map((step) => step.replicas)).toEqual([8]);
  });

  test('new pods available let as many old ones go, keeping 8 available', () => {
    const d = deployment(10, 3, 2);
    const old = replicaSet('old', 8, 0);
    const fresh = replicaSet('new', 5, 1, { available: 3 });
    expect(oldScaleDownSteps(d, [old, fresh], [old]).map((step) => step.replicas)).toEqual([5]);
  });

  test('unavailable old replicas go first, oldest ReplicaSet first, within the budget', () => {
    const oldest = replicaSet('oldest', 4, 0, { available: 1 });
    const older = replicaSet('older', 3, 1, { available: 0 });
    const steps = unhealthyCleanupSteps([older, oldest], 5);
    expect(steps.map((step) => [step.replicaSet.metadata?.name, step.replicas])).toEqual([
      ['oldest', 1],
      ['older', 1],
    ]);
  });

  test('no scale-down while available pods are at the minimum', () => {
    const d = deployment(10, 3, 2);
    const old = replicaSet('old', 8, 0);
    const fresh = replicaSet('new', 5, 1, { available: 0 });
    expect(oldScaleDownSteps(d, [old, fresh], [old])).toEqual([]);
  });

  test('k8ts: available never counts above spec (a status that has not caught up with a scale-down)', () => {
    const old = replicaSet('old', 8, 0, { replicas: 10, available: 10 });
    expect(availableAtLeast(old)).toBe(8);
    expect(podsAtMost(old, NO_PODS)).toBe(10);
    const d = deployment(10, 3, 2);
    const fresh = replicaSet('new', 3, 1, { available: 3 });
    // Upstream would count 13 available and take 5 old ones away (leaving 6); here 11 → 3 go.
    expect(oldScaleDownSteps(d, [old, fresh], [old]).map((step) => step.replicas)).toEqual([5]);
    expect(unhealthyCleanupSteps([old], 3)).toEqual([]);
  });
});
