/**
 * Controller references, as upstream's metav1.GetControllerOf and NewControllerRef have them, and
 * the informer index every owning controller reads its objects by (upstream's controllerUIDIndex).
 */
import type { IndexFunc, KubeObject, Lister } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

/** The owner's group/version and kind, as its controller references name it. */
export interface OwnerKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** The owner reference with `controller: true`, if any (metav1.GetControllerOf). */
export function controllerRefOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((reference) => reference.controller === true);
}

/** The owner reference every object of the owner carries (metav1.NewControllerRef). */
export function controllerRefFor(owner: KubeObject, kind: OwnerKind): OwnerReference {
  return { ...kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** Index of objects by their controller's uid (upstream's controllerUIDIndex). */
export const CONTROLLER_UID_INDEX = 'controllerUID';

export const controllerUidIndex: IndexFunc<KubeObject> = (object) => {
  const owner = controllerRefOf(object);
  return owner?.uid ? [owner.uid] : [];
};

/**
 * The owner of `kind` the object's controller reference names, if the cache holds that very object
 * (same uid) in the object's namespace (upstream's resolveControllerRef).
 */
export function resolveControllerRef<T extends KubeObject>(owners: Lister<T>, kind: string, object: KubeObject): T | undefined {
  const reference = controllerRefOf(object);
  if (reference === undefined || reference.kind !== kind) return undefined;
  const owner = owners.get(reference.name, object.metadata?.namespace);
  return owner?.metadata?.uid === reference.uid ? owner : undefined;
}
