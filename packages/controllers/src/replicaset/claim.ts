/**
 * Which pods a ReplicaSet claims, as upstream's ControllerRefManager.ClaimObject decides:
 * - owned by another controller: not ours, leave it;
 * - owned by us and matching the selector: ours;
 * - owned by us but no longer matching: release it (remove our owner reference) — unless we are
 *   being deleted;
 * - an orphan matching the selector, in our namespace, not being deleted, while we are not being
 *   deleted: adopt it (add our controller reference), after a fresh read of the ReplicaSet proves
 *   it is still the same object (uid) and not being deleted ("canAdopt").
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { controllerRefOf } from './pod_util.js';

export type Claim = 'owned' | 'adopt' | 'release' | 'ignore';

export function claimFor(replicaSet: ReplicaSet, pod: Pod, matches: boolean): Claim {
  const reference = controllerRefOf(pod);
  const replicaSetDeleting = replicaSet.metadata?.deletionTimestamp !== undefined;
  if (reference !== undefined) {
    if (reference.uid !== replicaSet.metadata?.uid) return 'ignore';
    if (matches) return 'owned';
    return replicaSetDeleting ? 'ignore' : 'release';
  }
  if (replicaSetDeleting || !matches) return 'ignore';
  if (pod.metadata?.deletionTimestamp !== undefined) return 'ignore';
  if (pod.metadata?.namespace !== replicaSet.metadata?.namespace) return 'ignore';
  return 'adopt';
}

/** The owner reference every pod of the ReplicaSet carries (metav1.NewControllerRef). */
export function controllerRefFor(replicaSet: ReplicaSet): OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: replicaSet.metadata?.name ?? '',
    uid: replicaSet.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Strategic merge patch adding our controller reference; the pod's uid makes it about that pod only. */
export function adoptPatch(replicaSet: ReplicaSet, pod: Pod): object {
  return { metadata: { ownerReferences: [controllerRefFor(replicaSet)], uid: pod.metadata?.uid } };
}

/** Strategic merge patch removing our owner reference (by uid) from the pod. */
export function releasePatch(replicaSet: ReplicaSet, pod: Pod): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: replicaSet.metadata?.uid }], uid: pod.metadata?.uid } };
}
