/**
 * Which objects a controller claims, as upstream's ControllerRefManager (ClaimObject) decides — for
 * any owner and owned kind (a ReplicaSet's pods, a Deployment's ReplicaSets):
 * - owned by another controller: not ours, leave it;
 * - owned by us and matching the selector: ours;
 * - owned by us but no longer matching: release it (remove our owner reference) — unless we are
 *   being deleted;
 * - an orphan matching the selector, in our namespace, not being deleted, while we are not being
 *   deleted: adopt it (add our controller reference), after a fresh read of the owner proves it is
 *   still the same object (uid) and not being deleted ("canAdopt", done once per claim).
 */
import { isNotFound, toApiError, type KubeObject } from '@k8ts/client';
import { controllerRefFor, controllerRefOf, type OwnerKind } from './controller_ref.js';

export type Claim = 'owned' | 'adopt' | 'release' | 'ignore';

export function claimFor(owner: KubeObject, object: KubeObject, matches: boolean): Claim {
  const reference = controllerRefOf(object);
  const ownerDeleting = owner.metadata?.deletionTimestamp !== undefined;
  if (reference !== undefined) {
    if (reference.uid !== owner.metadata?.uid) return 'ignore';
    if (matches) return 'owned';
    return ownerDeleting ? 'ignore' : 'release';
  }
  if (ownerDeleting || !matches) return 'ignore';
  if (object.metadata?.deletionTimestamp !== undefined) return 'ignore';
  if (object.metadata?.namespace !== owner.metadata?.namespace) return 'ignore';
  return 'adopt';
}

/** Strategic merge patch adding our controller reference; the object's uid makes it about that object only. */
export function adoptPatch(owner: KubeObject, kind: OwnerKind, object: KubeObject): object {
  return { metadata: { ownerReferences: [controllerRefFor(owner, kind)], uid: object.metadata?.uid } };
}

/** Strategic merge patch removing our owner reference (by uid) from the object. */
export function releasePatch(owner: KubeObject, object: KubeObject): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata?.uid }], uid: object.metadata?.uid } };
}

export interface ClaimRequest<T extends KubeObject> {
  readonly owner: KubeObject;
  readonly ownerKind: OwnerKind;
  readonly objects: readonly T[];
  readonly matches: (object: T) => boolean;
  /** Sends a strategic merge patch to the object; resolves to the object as patched. */
  readonly patch: (object: T, body: object) => Promise<T>;
  /** The fresh read of the owner; rejects when it is gone, replaced or being deleted (see recheckOwner). */
  readonly canAdopt: () => Promise<void>;
}

/**
 * Claims as claimFor decides, adopting and releasing through `patch`; resolves to the objects that
 * are ours — an adopted one as its patch answered, so a later write to it carries the version the
 * adoption made. An object gone meanwhile is skipped; so is a release answered Invalid (the object
 * lost its references or was re-created under its name), as upstream. Any other failure rejects,
 * after every object was tried.
 */
export async function claimObjects<T extends KubeObject>(request: ClaimRequest<T>): Promise<T[]> {
  const claimed: T[] = [];
  const failures: Error[] = [];
  let canAdopt: Promise<void> | undefined;
  for (const object of request.objects) {
    const claim = claimFor(request.owner, object, request.matches(object));
    if (claim === 'owned') claimed.push(object);
    if (claim !== 'adopt' && claim !== 'release') continue;
    try {
      if (claim === 'adopt') {
        canAdopt ??= request.canAdopt();
        await canAdopt;
        claimed.push(await request.patch(object, adoptPatch(request.owner, request.ownerKind, object)));
      } else {
        await request.patch(object, releasePatch(request.owner, object));
      }
    } catch (error) {
      if (isNotFound(error) || (claim === 'release' && toApiError(error).reason === 'Invalid')) continue;
      failures.push(error instanceof Error ? error : toApiError(error));
    }
  }
  if (failures.length > 0) throw failures[0];
  return claimed;
}

/**
 * canAdopt as upstream's controllers build it (RecheckDeletionTimestamp over a fresh GET): `read`
 * gets the owner from the API, not the cache; rejects when that is another object under the same
 * name or one being deleted.
 */
export async function recheckOwner(owner: KubeObject, kind: OwnerKind, read: () => Promise<KubeObject>): Promise<void> {
  const { namespace = '', name = '', uid } = owner.metadata ?? {};
  const fresh = await read();
  if (fresh.metadata?.uid !== uid) throw new Error(`original ${kind.kind} ${namespace}/${name} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`);
  if (fresh.metadata?.deletionTimestamp !== undefined) throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}
