/**
 * The steps of a rolling update (upstream's rolling.go and NewRSNewReplicas), as pure functions of
 * the ReplicaSets the controller sees:
 * - scale the new ReplicaSet up while all pods stay within replicas + maxSurge;
 * - scale old ReplicaSets down while available pods stay at least replicas - maxUnavailable:
 *   first their unavailable replicas (oldest ReplicaSet first), then available ones.
 *
 * Where k8ts is stricter than upstream (a decision, so that the bounds hold for the pods that
 * exist at every moment and not only for the ReplicaSets' specs): a ReplicaSet counts as many pods
 * as the most of its spec.replicas, its status.replicas and the live pods the cache holds for it
 * (an old ReplicaSet whose scale-down its controller has not carried out yet still has those
 * pods); and as available at most its spec.replicas (its status may still count pods it is about
 * to delete). Upstream counts spec.replicas and status.availableReplicas.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { desiredReplicas, isRollingUpdate, maxSurge, maxUnavailable } from './fenceposts.js';
import { byCreation, specReplicaCount, specReplicas } from './replica_sets.js';
import type { ScaleStep } from './scaling.js';

/** Live (active) pods the informer cache holds per ReplicaSet uid. */
export type CachedPodCounts = ReadonlyMap<string, number>;

/** The pods `replicaSet` may have now (see the file comment). */
export function podsAtMost(replicaSet: ReplicaSet, cachedPods: CachedPodCounts): number {
  return Math.max(specReplicas(replicaSet), replicaSet.status?.replicas ?? 0, cachedPods.get(replicaSet.metadata?.uid ?? '') ?? 0);
}

/** The available pods `replicaSet` surely keeps (see the file comment). */
export function availableAtLeast(replicaSet: ReplicaSet): number {
  return Math.min(replicaSet.status?.availableReplicas ?? 0, specReplicas(replicaSet));
}

/** The size the new ReplicaSet may grow to now (NewRSNewReplicas). */
export function newReplicaSetReplicas(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], newReplicaSet: ReplicaSet, cachedPods: CachedPodCounts): number {
  const desired = desiredReplicas(deployment);
  if (!isRollingUpdate(deployment)) return desired;
  const current = allReplicaSets.reduce((total, replicaSet) => total + podsAtMost(replicaSet, cachedPods), 0);
  const maxTotal = desired + maxSurge(deployment);
  const size = specReplicas(newReplicaSet);
  if (current >= maxTotal) return size;
  return size + Math.min(maxTotal - current, desired - size);
}

/** How many old replicas may go at most this round, unavailable ones included (reconcileOldReplicaSets). */
export function maxScaledDown(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], newReplicaSet: ReplicaSet): number {
  const minAvailable = desiredReplicas(deployment) - maxUnavailable(deployment);
  const newUnavailable = specReplicas(newReplicaSet) - availableAtLeast(newReplicaSet);
  return specReplicaCount(allReplicaSets) - minAvailable - newUnavailable;
}

/**
 * Scale-downs that remove old ReplicaSets' unavailable replicas, oldest ReplicaSet first, at most
 * `maxCleanup` in all (cleanupUnhealthyReplicas): they cost no availability.
 */
export function unhealthyCleanupSteps(oldReplicaSets: readonly ReplicaSet[], maxCleanup: number): ScaleStep[] {
  const steps: ScaleStep[] = [];
  let removed = 0;
  for (const replicaSet of [...oldReplicaSets].sort(byCreation)) {
    if (removed >= maxCleanup) break;
    const size = specReplicas(replicaSet);
    const unavailable = size - availableAtLeast(replicaSet);
    if (size === 0 || unavailable === 0) continue;
    const count = Math.min(maxCleanup - removed, unavailable);
    steps.push({ replicaSet, replicas: size - count });
    removed += count;
  }
  return steps;
}

/**
 * Scale-downs of old ReplicaSets (oldest first) by as many available replicas as exceed
 * replicas - maxUnavailable (scaleDownOldReplicaSetsForRollingUpdate).
 */
export function oldScaleDownSteps(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], oldReplicaSets: readonly ReplicaSet[]): ScaleStep[] {
  const minAvailable = desiredReplicas(deployment) - maxUnavailable(deployment);
  const available = allReplicaSets.reduce((total, replicaSet) => total + availableAtLeast(replicaSet), 0);
  if (available <= minAvailable) return [];
  const toRemove = available - minAvailable;
  const steps: ScaleStep[] = [];
  let removed = 0;
  for (const replicaSet of [...oldReplicaSets].sort(byCreation)) {
    if (removed >= toRemove) break;
    const size = specReplicas(replicaSet);
    if (size === 0) continue;
    const count = Math.min(size, toRemove - removed);
    steps.push({ replicaSet, replicas: size - count });
    removed += count;
  }
  return steps;
}
