/**
 * Which ReplicaSets a Deployment claims, as upstream's ControllerRefManager.ClaimReplicaSets
 * decides (the ReplicaSet controller's claim.ts applies the same rules to pods; both belong in
 * one framework helper — see the report):
 * - owned by another controller: not ours;
 * - owned by us: ours while it matches the selector, else released (unless we are being deleted);
 * - an orphan that matches, in our namespace, not being deleted, while we are not: adopted, after
 *   a fresh read proves the Deployment is still this object and not being deleted.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { controllerRefOf } from '../replicaset/pod_util.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

/** The reference every ReplicaSet of the Deployment carries (metav1.NewControllerRef). */
export function controllerRefTo(deployment: Deployment): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name ?? '', uid: deployment.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export type Claim = 'owned' | 'adopt' | 'release' | 'ignore';

export function claimReplicaSet(deployment: Deployment, replicaSet: ReplicaSet, matches: boolean): Claim {
  const reference = controllerRefOf(replicaSet);
  const deploymentDeleting = deployment.metadata?.deletionTimestamp !== undefined;
  if (reference !== undefined) {
    if (reference.uid !== deployment.metadata?.uid) return 'ignore';
    if (matches) return 'owned';
    return deploymentDeleting ? 'ignore' : 'release';
  }
  if (deploymentDeleting || !matches) return 'ignore';
  if (replicaSet.metadata?.deletionTimestamp !== undefined) return 'ignore';
  if (replicaSet.metadata?.namespace !== deployment.metadata?.namespace) return 'ignore';
  return 'adopt';
}

/** Strategic merge patch adding our controller reference; the ReplicaSet's uid makes it about that object only. */
export function adoptPatch(deployment: Deployment, replicaSet: ReplicaSet): object {
  return { metadata: { ownerReferences: [controllerRefTo(deployment)], uid: replicaSet.metadata?.uid } };
}

/** Strategic merge patch removing our owner reference (by uid). */
export function releasePatch(deployment: Deployment, replicaSet: ReplicaSet): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: deployment.metadata?.uid }], uid: replicaSet.metadata?.uid } };
}
