/**
 * Scaling a Deployment whose replicas changed (or that is paused) without starting a rollout:
 * upstream's DeploymentController.scale. One active ReplicaSet takes the new size whole; a
 * saturated new ReplicaSet leaves the old ones at 0; and during a rolling update the replicas to
 * add (or remove) are spread over the active ReplicaSets in proportion to their size
 * (getReplicaSetFraction, from the max-replicas annotation each was last scaled under), largest
 * first, the rounding leftover going to the largest — so a rollout in progress keeps its shape.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { maxReplicasAnnotation } from './annotations.js';
import { desiredReplicas, isRollingUpdate, maxSurge } from './fenceposts.js';
import { activeReplicaSets, bySizeNewer, bySizeOlder, findActiveOrLatest, isSaturated, specReplicaCount, specReplicas } from './replica_sets.js';

/**
 * One ReplicaSet to scale. `operation` undefined: only if its size differs ("up"/"down" from the
 * sizes); given (possibly ""): also when only its replicas annotations are stale, with that word.
 */
export interface ScaleStep {
  readonly replicaSet: ReplicaSet;
  readonly replicas: number;
  readonly operation?: 'up' | 'down' | '';
}

/** Go's integer.RoundToInt32: halves away from zero. */
function roundHalfAwayFromZero(value: number): number {
  return value < 0 ? -Math.round(-value) : Math.round(value);
}

/** How many replicas `replicaSet` should gain (negative: lose) for the Deployment's new size. */
export function replicaSetFraction(replicaSet: ReplicaSet, deployment: Deployment): number {
  const desired = desiredReplicas(deployment);
  const size = specReplicas(replicaSet);
  if (desired === 0) return -size;
  const deploymentReplicas = desired + maxSurge(deployment);
  // Without the annotation, upstream falls back to the Deployment's current size.
  const annotated = maxReplicasAnnotation(replicaSet) ?? deployment.status?.replicas ?? 0;
  // Upstream never gets here with 0 (it divides); its min/max clamps then hand all to the leftover.
  if (annotated <= 0) return 0;
  return roundHalfAwayFromZero((size * deploymentReplicas) / annotated) - size;
}

/** The replicas `replicaSet` gets of `toAdd`, `added` of which are handed out already (GetProportion). */
export function proportion(replicaSet: ReplicaSet | undefined, deployment: Deployment, toAdd: number, added: number): number {
  if (replicaSet === undefined || specReplicas(replicaSet) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(replicaSet, deployment);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** The scale steps for a Deployment that is being scaled (or is paused), in upstream's order. */
export function scaleSteps(deployment: Deployment, newReplicaSet: ReplicaSet | undefined, oldReplicaSets: readonly ReplicaSet[]): ScaleStep[] {
  const desired = desiredReplicas(deployment);
  const activeOrLatest = findActiveOrLatest(newReplicaSet, oldReplicaSets);
  if (activeOrLatest !== undefined) {
    return specReplicas(activeOrLatest) === desired ? [] : [{ replicaSet: activeOrLatest, replicas: desired }];
  }
  if (isSaturated(deployment, newReplicaSet)) {
    return activeReplicaSets(oldReplicaSets).map((replicaSet) => ({ replicaSet, replicas: 0 }));
  }
  if (!isRollingUpdate(deployment)) return [];
  return proportionalSteps(deployment, activeReplicaSets([...oldReplicaSets, newReplicaSet]));
}

function proportionalSteps(deployment: Deployment, active: ReplicaSet[]): ScaleStep[] {
  const desired = desiredReplicas(deployment);
  const allowedSize = desired > 0 ? desired + maxSurge(deployment) : 0;
  const toAdd = allowedSize - specReplicaCount(active);
  let operation: 'up' | 'down' | '' = '';
  if (toAdd > 0) {
    active.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    active.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = active.map((replicaSet) => {
    const share = proportion(replicaSet, deployment, toAdd, added);
    added += share;
    return specReplicas(replicaSet) + share;
  });
  // The rounding leftover goes to the largest (first) ReplicaSet, never below 0.
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, (sizes[0] as number) + toAdd - added);
  return active.map((replicaSet, i) => ({ replicaSet, replicas: sizes[i] as number, operation }));
}
