/**
 * revisionHistoryLimit: the old ReplicaSets a Deployment keeps for rollbacks (cleanupDeployment).
 * Beyond the limit the lowest revisions go first, and only ReplicaSets that are truly empty: no
 * replicas wanted or seen, their latest spec observed, not being deleted already.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { revisionOf } from './annotations.js';
import { byCreation, specReplicas } from './replica_sets.js';

/** Lowest revision first; equal or unreadable revisions oldest first (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const revisionA = revisionOf(a);
  const revisionB = revisionOf(b);
  if (revisionA === undefined || revisionB === undefined || revisionA === revisionB) return byCreation(a, b);
  return revisionA - revisionB;
}

export function replicaSetsToDelete(deployment: Deployment, oldReplicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = deployment.spec?.revisionHistoryLimit;
  if (limit === undefined) return [];
  const alive = oldReplicaSets.filter((replicaSet) => replicaSet.metadata?.deletionTimestamp === undefined);
  const excess = alive.length - limit;
  if (excess <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, excess)
    .filter(
      (replicaSet) =>
        (replicaSet.status?.replicas ?? 0) === 0 &&
        specReplicas(replicaSet) === 0 &&
        (replicaSet.metadata?.generation ?? 0) <= (replicaSet.status?.observedGeneration ?? 0),
    );
}
