/**
 * A ReplicaSet's status from the pods it owns, as upstream's calculateStatus: replicas (active
 * owned pods), fullyLabeledReplicas (those carrying every label of the template), readyReplicas,
 * availableReplicas (ready for longer than minReadySeconds), and the ReplicaFailure condition while
 * creating or deleting pods fails.
 */
import { formatTime } from '@k8ts/apimachinery';
import type { KubeObject } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { isPodAvailable, isPodReady, podReadySinceMs } from '../framework/pods.js';

export type ReplicaSetObject = ReplicaSet & KubeObject;

export const REPLICA_FAILURE = 'ReplicaFailure';

export function desiredReplicas(replicaSet: ReplicaSet): number {
  return replicaSet.spec?.replicas ?? 1;
}

/**
 * The status to write. `manageError` is the failure of this sync's creates or deletes: it sets
 * ReplicaFailure (reason FailedCreate when pods were missing, FailedDelete when there were too
 * many; the message is the error's) unless the condition is already there; a sync without one
 * removes the condition. observedGeneration is left as it was (set when written).
 */
export function calculateStatus(replicaSet: ReplicaSet, pods: readonly Pod[], manageError: Error | undefined, nowMs: number): ReplicaSetStatus {
  const templateLabels = Object.entries(replicaSet.spec?.template?.metadata?.labels ?? {});
  const minReadySeconds = replicaSet.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (templateLabels.every(([key, value]) => labels[key] === value)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, nowMs)) available++;
    }
  }
  const previous: Partial<ReplicaSetStatus> = replicaSet.status ?? {};
  let conditions = previous.conditions ?? [];
  const failure = conditions.find((condition) => condition.type === REPLICA_FAILURE);
  if (manageError !== undefined && failure === undefined) {
    const diff = pods.length - desiredReplicas(replicaSet);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const condition: ReplicaSetCondition = { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: formatTime(nowMs), reason, message: manageError.message };
    conditions = [...conditions, condition];
  } else if (manageError === undefined && failure !== undefined) {
    conditions = conditions.filter((condition) => condition.type !== REPLICA_FAILURE);
  }
  const { conditions: _dropped, ...rest } = previous;
  return {
    ...rest,
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(conditions.length > 0 ? { conditions } : {}),
  };
}

/** Nothing to write: the counts and conditions are what is stored and the generation was observed. */
export function statusUpToDate(replicaSet: ReplicaSet, status: ReplicaSetStatus): boolean {
  const stored: Partial<ReplicaSetStatus> = replicaSet.status ?? {};
  return (
    (stored.replicas ?? 0) === (status.replicas ?? 0) &&
    (stored.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
    (stored.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
    (stored.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
    replicaSet.metadata?.generation === stored.observedGeneration &&
    JSON.stringify(stored.conditions ?? []) === JSON.stringify(status.conditions ?? [])
  );
}

/**
 * How long until the first ready-but-not-yet-available pod becomes available (ms), so the
 * controller looks again then; undefined when no pod is waiting on minReadySeconds.
 */
export function nextAvailabilityCheckMs(replicaSet: ReplicaSet, pods: readonly Pod[], nowMs: number): number | undefined {
  const minReadySeconds = replicaSet.spec?.minReadySeconds ?? 0;
  if (minReadySeconds <= 0) return undefined;
  let soonest: number | undefined;
  for (const pod of pods) {
    if (!isPodReady(pod) || isPodAvailable(pod, minReadySeconds, nowMs)) continue;
    const since = podReadySinceMs(pod);
    if (since === 0) continue; // no transition time: never available by the rule, nothing to wait for
    soonest = Math.min(soonest ?? Infinity, Math.max(1, since + minReadySeconds * 1000 - nowMs + 1));
  }
  return soonest;
}
