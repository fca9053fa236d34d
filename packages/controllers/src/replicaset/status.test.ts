import { formatTime } from '@k8ts/apimachinery';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { calculateStatus, nextAvailabilityCheckMs, statusUpToDate } from './status.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => formatTime(NOW - seconds * 1000);

function replicaSet(replicas: number, extra: { minReadySeconds?: number; status?: ReplicaSet['status']; generation?: number } = {}): ReplicaSet {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', generation: extra.generation ?? 1 },
    spec: {
      replicas,
      minReadySeconds: extra.minReadySeconds ?? 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [] } },
    },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

function pod(labels: Record<string, string>, readySecondsAgo?: number): Pod {
  return {
    metadata: { labels },
    status: readySecondsAgo === undefined ? { phase: 'Pending' } : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(readySecondsAgo) }] },
  };
}

const full = { app: 'web', tier: 'front' };

describe('status computation (upstream calculateStatus)', () => {
  test('counts replicas, fully labeled, ready and available pods', () => {
    const pods = [pod(full, 100), pod(full), pod({ app: 'web' }, 100), pod({ ...full, extra: 'x' }, 5)];
    expect(calculateStatus(replicaSet(4), pods, undefined, NOW)).toEqual({ replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  });

  test('minReadySeconds: available only once ready for longer than that', () => {
    const pods = [pod(full, 100), pod(full, 30), pod(full, 29)];
    expect(calculateStatus(replicaSet(3, { minReadySeconds: 30 }), pods, undefined, NOW)).toMatchObject({ readyReplicas: 3, availableReplicas: 1 });
    // The 30 s one is exactly at the edge (upstream: strictly before now); looked at again 1 ms after the 29 s one turns.
    expect(nextAvailabilityCheckMs(replicaSet(3, { minReadySeconds: 30 }), pods, NOW)).toBe(1);
    expect(nextAvailabilityCheckMs(replicaSet(3, { minReadySeconds: 30 }), [pod(full, 100), pod(full, 29)], NOW)).toBe(1001);
    expect(nextAvailabilityCheckMs(replicaSet(3), pods, NOW)).toBeUndefined();
    expect(nextAvailabilityCheckMs(replicaSet(3, { minReadySeconds: 30 }), [pod(full, 100), pod(full)], NOW)).toBeUndefined();
  });

  test('a failed create sets ReplicaFailure/FailedCreate with the error; a good sync removes it', () => {
    const failed = calculateStatus(replicaSet(3), [pod(full)], new Error('pods "web-" is forbidden: no PriorityClass with name x was found'), NOW);
    expect(failed.conditions).toEqual([
      { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-" is forbidden: no PriorityClass with name x was found', lastTransitionTime: ago(0) },
    ]);
    // Already failing: the condition stays as it was (upstream adds it only when absent).
    const again = calculateStatus(replicaSet(3, { status: failed }), [pod(full)], new Error('other'), NOW + 5000);
    expect(again.conditions).toEqual(failed.conditions);
    const healed = calculateStatus(replicaSet(3, { status: failed }), [pod(full), pod(full), pod(full)], undefined, NOW);
    expect(healed.conditions).toBeUndefined();
  });

  test('a failed delete is FailedDelete', () => {
    const status = calculateStatus(replicaSet(1), [pod(full), pod(full)], new Error('boom'), NOW);
    expect(status.conditions?.[0]).toMatchObject({ type: 'ReplicaFailure', reason: 'FailedDelete', message: 'boom' });
  });

  test('up to date only when the counts, conditions and observed generation all match', () => {
    const current = { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 1, observedGeneration: 3 };
    expect(statusUpToDate(replicaSet(2, { status: current, generation: 3 }), { ...current, observedGeneration: 0 })).toBe(true);
    expect(statusUpToDate(replicaSet(2, { status: current, generation: 4 }), current)).toBe(false);
    expect(statusUpToDate(replicaSet(2, { status: current, generation: 3 }), { ...current, readyReplicas: 2 })).toBe(false);
    expect(statusUpToDate(replicaSet(2, { generation: 1 }), current)).toBe(false);
  });
});
