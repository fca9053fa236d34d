import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { formatTime } from '@k8ts/apimachinery';
import { getCondition } from './conditions.js';
import { calculateStatus, deploymentTimedOut, pausedCondition, rolloutStatus, sameStatus, stuckRequeueAfterMs } from './status.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => formatTime(NOW - seconds * 1000);

function deployment(status: DeploymentStatus = {}, extra: { paused?: boolean; deadline?: number; generation?: number } = {}): Deployment {
  return {
    metadata: { name: 'web', generation: extra.generation ?? 2 },
    spec: {
      replicas: 10,
      selector: {},
      template: {},
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      progressDeadlineSeconds: extra.deadline ?? 600,
      ...(extra.paused ? { paused: true } : {}),
    },
    status,
  };
}

function replicaSet(name: string, replicas: number, ready: number, available: number, statusReplicas = replicas): ReplicaSet {
  return { metadata: { name }, spec: { replicas, selector: {} }, status: { replicas: statusReplicas, readyReplicas: ready, availableReplicas: available } };
}

const progressing = (reason: string, status: 'True' | 'False' | 'Unknown', updatedSecondsAgo: number, transitionSecondsAgo = updatedSecondsAgo) => ({
  type: 'Progressing',
  status,
  reason,
  message: 'm',
  lastUpdateTime: ago(updatedSecondsAgo),
  lastTransitionTime: ago(transitionSecondsAgo),
});

describe('status (upstream calculateStatus)', () => {
  test('counts come from the ReplicaSets: replicas and updated from their status, unavailable from their spec', () => {
    const old = replicaSet('old', 5, 5, 5, 7);
    const fresh = replicaSet('new', 8, 4, 3);
    const status = calculateStatus([old, fresh], fresh, deployment(), NOW);
    expect(status).toMatchObject({ observedGeneration: 2, replicas: 15, updatedReplicas: 8, readyReplicas: 9, availableReplicas: 8, unavailableReplicas: 5 });
    expect(getCondition(status, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
  });

  test('Available turns False below replicas - maxUnavailable, with a new transition time', () => {
    const available = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'x', lastUpdateTime: ago(100), lastTransitionTime: ago(100) };
    const status = calculateStatus([replicaSet('new', 10, 7, 7)], undefined, deployment({ conditions: [available] }), NOW);
    expect(getCondition(status, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable', lastTransitionTime: formatTime(NOW) });
  });

  test('more available than wanted is 0 unavailable', () => {
    expect(calculateStatus([replicaSet('new', 10, 12, 12)], undefined, deployment(), NOW).unavailableReplicas).toBe(0);
  });
});

describe('the Progressing condition (upstream syncRolloutStatus)', () => {
  test('progress (more updated pods) moves lastUpdateTime and keeps the True transition time', () => {
    const d = deployment({ replicas: 10, updatedReplicas: 3, conditions: [progressing('NewReplicaSetCreated', 'True', 50)] });
    const fresh = replicaSet('new', 5, 5, 5);
    const status = rolloutStatus([replicaSet('old', 7, 7, 7), fresh], fresh, d, NOW);
    expect(getCondition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "new" is progressing.', lastUpdateTime: ago(0), lastTransitionTime: ago(50) });
  });

  test('complete: NewReplicaSetAvailable; after that a resync changes nothing', () => {
    const fresh = replicaSet('new', 10, 10, 10);
    const d = deployment({ observedGeneration: 2, replicas: 10, updatedReplicas: 10, availableReplicas: 10, conditions: [progressing('ReplicaSetUpdated', 'True', 5)] });
    const status = rolloutStatus([fresh], fresh, d, NOW);
    expect(getCondition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "new" has successfully progressed.' });
    const again = rolloutStatus([fresh], fresh, { ...d, status }, NOW + 5000);
    expect(sameStatus(again, status)).toBe(true);
  });

  test('no progress for progressDeadlineSeconds: False ProgressDeadlineExceeded; before that, a requeue for the deadline', () => {
    const fresh = replicaSet('new', 3, 0, 0);
    const old = replicaSet('old', 8, 8, 8);
    const stored = { observedGeneration: 2, replicas: 11, updatedReplicas: 3, readyReplicas: 8, availableReplicas: 8, unavailableReplicas: 3 };
    const early = deployment({ ...stored, conditions: [progressing('NewReplicaSetCreated', 'True', 20)] }, { deadline: 30 });
    const earlyStatus = rolloutStatus([old, fresh], fresh, early, NOW);
    expect(getCondition(earlyStatus, 'Progressing')?.reason).toBe('NewReplicaSetCreated');
    // Looked at again one second after the deadline: 10 s left + 1 s.
    expect(stuckRequeueAfterMs(early, earlyStatus, NOW)).toBe(11_000);
    const late = deployment({ ...stored, conditions: [progressing('NewReplicaSetCreated', 'True', 31)] }, { deadline: 30 });
    expect(deploymentTimedOut(late, late.status as DeploymentStatus, NOW)).toBe(true);
    expect(getCondition(rolloutStatus([old, fresh], fresh, late, NOW), 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "new" has timed out progressing.',
    });
    expect(stuckRequeueAfterMs(late, late.status as DeploymentStatus, NOW)).toBe(0);
  });

  test('without progressDeadlineSeconds there is no Progressing condition', () => {
    const d = deployment({ conditions: [progressing('ReplicaSetUpdated', 'True', 5)] });
    delete d.spec?.progressDeadlineSeconds;
    expect(getCondition(rolloutStatus([replicaSet('new', 10, 0, 0)], undefined, d, NOW), 'Progressing')).toBeUndefined();
  });

  test('ReplicaFailure is copied from the new ReplicaSet first', () => {
    const fresh: ReplicaSet = {
      ...replicaSet('new', 3, 0, 0),
      status: { replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: ago(3) }] },
    };
    expect(getCondition(rolloutStatus([fresh], fresh, deployment(), NOW), 'ReplicaFailure')).toMatchObject({ status: 'True', reason: 'FailedCreate', lastUpdateTime: ago(3) });
  });
});

describe('pause and resume (upstream checkPausedConditions)', () => {
  test('paused: Unknown DeploymentPaused; resumed: Unknown DeploymentResumed; a reported deadline stays', () => {
    expect(pausedCondition(deployment({}, { paused: true }), NOW)).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    const paused = deployment({ conditions: [progressing('DeploymentPaused', 'Unknown', 5)] });
    expect(pausedCondition(paused, NOW)).toMatchObject({ status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    expect(pausedCondition(deployment(paused.status, { paused: true }), NOW)).toBeUndefined();
    expect(pausedCondition(deployment({ conditions: [progressing('ProgressDeadlineExceeded', 'False', 5)] }, { paused: true }), NOW)).toBeUndefined();
  });
});

describe('status comparison', () => {
  test('an absent count equals 0, as Go reads it', () => {
    expect(sameStatus({ replicas: 3, unavailableReplicas: 0 }, { replicas: 3 })).toBe(true);
    expect(sameStatus({ replicas: 3 }, { replicas: 4 })).toBe(false);
  });
});
