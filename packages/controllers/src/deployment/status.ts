/**
 * The Deployment's status and its Progressing/Available conditions, computed from its ReplicaSets
 * (upstream's calculateStatus, syncRolloutStatus, requeueStuckDeployment, checkPausedConditions).
 *
 * - Available: True (MinimumReplicasAvailable) while available pods >= replicas - maxUnavailable.
 * - Progressing (only with a progressDeadlineSeconds): NewReplicaSetCreated / FoundNewReplicaSet
 *   when the rollout starts, ReplicaSetUpdated (lastUpdateTime moved) whenever it makes progress,
 *   NewReplicaSetAvailable when complete, False ProgressDeadlineExceeded when no progress was seen
 *   for progressDeadlineSeconds; Unknown DeploymentPaused / DeploymentResumed around a pause.
 */
import { parseTime } from '@k8ts/apimachinery';
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import * as conditions from './conditions.js';
import { desiredReplicas, maxUnavailable } from './fenceposts.js';
import { actualReplicaCount, availableReplicaCount, readyReplicaCount, specReplicaCount } from './replica_sets.js';
import { canonicalJson } from './template_hash.js';

const MAX_INT32 = 2_147_483_647;

export function hasProgressDeadline(deployment: Deployment): boolean {
  const seconds = deployment.spec?.progressDeadlineSeconds;
  return seconds !== undefined && seconds !== MAX_INT32;
}

/** The status the ReplicaSets show, conditions carried over and Available set (calculateStatus). */
export function calculateStatus(allReplicaSets: readonly (ReplicaSet | undefined)[], newReplicaSet: ReplicaSet | undefined, deployment: Deployment, nowMs: number): DeploymentStatus {
  const available = availableReplicaCount(allReplicaSets);
  const status: DeploymentStatus = {
    observedGeneration: deployment.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allReplicaSets),
    updatedReplicas: actualReplicaCount([newReplicaSet]),
    readyReplicas: readyReplicaCount(allReplicaSets),
    availableReplicas: available,
    // More available than wanted (a scale-down) is 0 unavailable.
    unavailableReplicas: Math.max(0, specReplicaCount(allReplicaSets) - available),
  };
  if (deployment.status?.collisionCount !== undefined) status.collisionCount = deployment.status.collisionCount;
  if (deployment.status?.conditions !== undefined) status.conditions = [...deployment.status.conditions];
  if (available >= desiredReplicas(deployment) - maxUnavailable(deployment)) {
    conditions.setCondition(status, conditions.newCondition(conditions.AVAILABLE, 'True', conditions.MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', nowMs));
  } else {
    conditions.setCondition(status, conditions.newCondition(conditions.AVAILABLE, 'False', conditions.MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', nowMs));
  }
  return status;
}

/** Every replica updated and available, and the latest spec observed (DeploymentComplete). */
export function deploymentComplete(deployment: Deployment, status: DeploymentStatus | undefined): boolean {
  const desired = desiredReplicas(deployment);
  return (
    (status?.updatedReplicas ?? 0) === desired &&
    (status?.replicas ?? 0) === desired &&
    (status?.availableReplicas ?? 0) === desired &&
    (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)
  );
}

/** More updated, fewer old, more ready or more available pods than the stored status (DeploymentProgressing). */
export function deploymentProgressing(deployment: Deployment, status: DeploymentStatus): boolean {
  const old = deployment.status ?? { replicas: 0 };
  const oldOldReplicas = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOldReplicas = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOldReplicas < oldOldReplicas ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

function conditionUpdatedMs(status: DeploymentStatus, type: string): number | undefined {
  return parseTime(conditions.getCondition(status, type)?.lastUpdateTime);
}

/** No progress seen for progressDeadlineSeconds since Progressing last moved (DeploymentTimedOut). */
export function deploymentTimedOut(deployment: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(deployment)) return false;
  const condition = conditions.getCondition(status, conditions.PROGRESSING);
  if (condition === undefined || condition.reason === conditions.NEW_REPLICA_SET_AVAILABLE_REASON) return false;
  if (condition.reason === conditions.TIMED_OUT_REASON) return true;
  const from = conditionUpdatedMs(status, conditions.PROGRESSING) ?? 0;
  return from + (deployment.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

const describe = (deployment: Deployment, newReplicaSet: ReplicaSet | undefined): string =>
  newReplicaSet === undefined ? `Deployment "${deployment.metadata?.name}"` : `ReplicaSet "${newReplicaSet.metadata?.name}"`;

/**
 * The status after a rollout step (syncRolloutStatus): calculateStatus, then the Progressing
 * condition moved on (complete, progressing, or timed out), then ReplicaFailure copied from the
 * ReplicaSets.
 */
export function rolloutStatus(allReplicaSets: readonly (ReplicaSet | undefined)[], newReplicaSet: ReplicaSet | undefined, deployment: Deployment, nowMs: number): DeploymentStatus {
  const status = calculateStatus(allReplicaSets, newReplicaSet, deployment, nowMs);
  if (!hasProgressDeadline(deployment)) conditions.removeCondition(status, conditions.PROGRESSING);
  const current = conditions.getCondition(deployment.status, conditions.PROGRESSING);
  // One ReplicaSet, already reported complete: a resync, nothing to estimate.
  const alreadyComplete = status.replicas === status.updatedReplicas && current?.reason === conditions.NEW_REPLICA_SET_AVAILABLE_REASON;
  if (hasProgressDeadline(deployment) && !alreadyComplete) {
    if (deploymentComplete(deployment, status)) {
      const message = `${describe(deployment, newReplicaSet)} has successfully progressed.`;
      conditions.setCondition(status, conditions.newCondition(conditions.PROGRESSING, 'True', conditions.NEW_REPLICA_SET_AVAILABLE_REASON, message, nowMs));
    } else if (deploymentProgressing(deployment, status)) {
      // Progress moves lastUpdateTime even with the same reason: replace the condition, keeping
      // lastTransitionTime while it stays True.
      const message = `${describe(deployment, newReplicaSet)} is progressing.`;
      const condition = conditions.newCondition(conditions.PROGRESSING, 'True', conditions.REPLICA_SET_UPDATED_REASON, message, nowMs);
      if (current?.status === 'True' && current.lastTransitionTime !== undefined) condition.lastTransitionTime = current.lastTransitionTime;
      conditions.removeCondition(status, conditions.PROGRESSING);
      conditions.setCondition(status, condition);
    } else if (deploymentTimedOut(deployment, status, nowMs)) {
      const message = `${describe(deployment, newReplicaSet)} has timed out progressing.`;
      conditions.setCondition(status, conditions.newCondition(conditions.PROGRESSING, 'False', conditions.TIMED_OUT_REASON, message, nowMs));
    }
  }
  const failure = replicaFailure(allReplicaSets, newReplicaSet);
  if (failure !== undefined) conditions.setCondition(status, failure);
  else conditions.removeCondition(status, conditions.REPLICA_FAILURE);
  return status;
}

/** The first ReplicaFailure condition of the new ReplicaSet, else of any other, as a Deployment condition. */
function replicaFailure(allReplicaSets: readonly (ReplicaSet | undefined)[], newReplicaSet: ReplicaSet | undefined): ReturnType<typeof conditions.getCondition> {
  for (const replicaSet of [newReplicaSet, ...allReplicaSets]) {
    const failure = replicaSet?.status?.conditions?.find((condition) => condition.type === conditions.REPLICA_FAILURE);
    if (failure === undefined) continue;
    const { type, status, reason, message, lastTransitionTime } = failure;
    return { type, status, ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }), ...(lastTransitionTime === undefined ? {} : { lastTransitionTime, lastUpdateTime: lastTransitionTime }) };
  }
  return undefined;
}

/**
 * When to look at an unchanged Deployment again to notice a missed deadline
 * (requeueStuckDeployment): undefined never, 0 soon (rate limited), else after that many ms.
 */
export function stuckRequeueAfterMs(deployment: Deployment, status: DeploymentStatus, nowMs: number): number | undefined {
  const current = conditions.getCondition(deployment.status, conditions.PROGRESSING);
  if (!hasProgressDeadline(deployment) || current === undefined) return undefined;
  if (deploymentComplete(deployment, status) || current.reason === conditions.TIMED_OUT_REASON) return undefined;
  const updatedMs = conditionUpdatedMs(deployment.status ?? { replicas: 0 }, conditions.PROGRESSING) ?? 0;
  const afterMs = updatedMs + (deployment.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  if (afterMs < 1000) return 0;
  return afterMs + 1000;
}

/**
 * The Progressing condition a pause or resume calls for (checkPausedConditions), or undefined when
 * it stays: a reported deadline is never overwritten.
 */
export function pausedCondition(deployment: Deployment, nowMs: number): ReturnType<typeof conditions.newCondition> | undefined {
  if (!hasProgressDeadline(deployment)) return undefined;
  const current = conditions.getCondition(deployment.status, conditions.PROGRESSING);
  if (current?.reason === conditions.TIMED_OUT_REASON) return undefined;
  const pausedReported = current?.reason === conditions.PAUSED_REASON;
  if (deployment.spec?.paused === true && !pausedReported) {
    return conditions.newCondition(conditions.PROGRESSING, 'Unknown', conditions.PAUSED_REASON, 'Deployment is paused', nowMs);
  }
  if (deployment.spec?.paused !== true && pausedReported) {
    return conditions.newCondition(conditions.PROGRESSING, 'Unknown', conditions.RESUMED_REASON, 'Deployment is resumed', nowMs);
  }
  return undefined;
}

/**
 * Statuses equal (upstream's reflect.DeepEqual before writing), counting an absent count as 0 —
 * as Go reads it, whichever way the stored object spells it.
 */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  const normal = (status: DeploymentStatus | undefined): string =>
    canonicalJson(Object.fromEntries(Object.entries(status ?? {}).filter(([, value]) => value !== 0)));
  return normal(a) === normal(b);
}
