import { isConflict, isNotFound, type KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { DeletePolicy } from './decide.js';
import type { ObjectIdentity } from './identity.js';
import type { ObjectApi } from './object_api.js';

/** Read-change-write attempts before giving the key back to the queue's backoff. */
const CONFLICT_RETRIES = 5;

/**
 * Changes the live object's metadata: `change` gets the latest object and returns the metadata
 * fields to write (undefined: nothing to do). The write is a merge patch carrying the
 * resourceVersion read, so a concurrent writer makes it fail with Conflict and it is redone on
 * fresh state. An object that is gone, or is another object under the same name, is left alone.
 */
export async function changeMetadata(api: ObjectApi, identity: ObjectIdentity, change: (object: KubeObject) => Record<string, unknown> | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const latest = await api.get(identity);
    if (latest === undefined || latest.metadata?.uid !== identity.uid) return;
    const fields = change(latest);
    if (fields === undefined) return;
    try {
      await api.patch(identity, { metadata: { ...fields, resourceVersion: latest.metadata.resourceVersion } });
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error) || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}

/** Removes `finalizer` from the object (upstream's removeFinalizer). */
export function removeFinalizer(api: ObjectApi, identity: ObjectIdentity, finalizer: string): Promise<void> {
  return changeMetadata(api, identity, (object) => {
    const finalizers = object.metadata?.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return undefined;
    const kept = finalizers.filter((name) => name !== finalizer);
    return { finalizers: kept.length > 0 ? kept : null };
  });
}

/** Removes the owner references to `ownerUids` from the object. */
export function removeOwnerReferences(api: ObjectApi, identity: ObjectIdentity, ownerUids: readonly string[]): Promise<void> {
  const gone = new Set(ownerUids);
  return changeMetadata(api, identity, (object) => {
    const references = object.metadata?.ownerReferences ?? [];
    const kept = references.filter((reference) => !gone.has(reference.uid));
    if (kept.length === references.length) return undefined;
    return { ownerReferences: kept.length > 0 ? kept : null };
  });
}

/** Turns blockOwnerDeletion off in every owner reference of the object (breaks a foreground cycle). */
export function unblockOwnerReferences(api: ObjectApi, identity: ObjectIdentity): Promise<void> {
  return changeMetadata(api, identity, (object) => {
    const references = object.metadata?.ownerReferences ?? [];
    if (!references.some((reference) => reference.blockOwnerDeletion === true)) return undefined;
    return { ownerReferences: references.map((reference) => (reference.blockOwnerDeletion === true ? { ...reference, blockOwnerDeletion: false } : reference)) };
  });
}

/**
 * Deletes the object as it was read (uid and resourceVersion preconditions), as upstream's
 * deleteObject: when only unrelated fields changed since (same owner references), it deletes again
 * without the resourceVersion precondition so busy objects are not starved; when the references
 * changed, the Conflict goes back to the queue and the object is judged again.
 * Resolves false when the object is already gone.
 */
export async function deleteObject(api: ObjectApi, identity: ObjectIdentity, read: KubeObject, policy: DeletePolicy): Promise<boolean> {
  const resourceVersion = read.metadata?.resourceVersion ?? '';
  try {
    await api.delete(identity, { propagationPolicy: policy, preconditions: { uid: identity.uid, ...(resourceVersion ? { resourceVersion } : {}) } });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    if (!isConflict(error) || resourceVersion === '') throw error;
    const live = await api.get(identity);
    if (live === undefined) return false;
    if (live.metadata?.uid !== identity.uid || !sameReferences(live.metadata.ownerReferences, read.metadata?.ownerReferences)) throw error;
    try {
      await api.delete(identity, { propagationPolicy: policy, preconditions: { uid: identity.uid } });
      return true;
    } catch (retryError) {
      if (isNotFound(retryError)) return false;
      throw retryError;
    }
  }
}

function sameReferences(a: readonly OwnerReference[] | undefined, b: readonly OwnerReference[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
