import type { KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

/** Which object a graph node stands for: its coordinates and uid (upstream's objectReference). */
export interface ObjectIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

export function identityOf(type: { readonly apiVersion: string; readonly kind: string }, object: KubeObject): ObjectIdentity {
  const metadata = object.metadata ?? {};
  return { apiVersion: type.apiVersion, kind: type.kind, namespace: metadata.namespace ?? '', name: metadata.name ?? '', uid: metadata.uid ?? '' };
}

/** The identity an owner reference names, in `namespace` (the dependent's, or '' for a cluster-scoped owner). */
export function identityOfReference(reference: OwnerReference, namespace: string): ObjectIdentity {
  return { apiVersion: reference.apiVersion, kind: reference.kind, namespace, name: reference.name, uid: reference.uid };
}

export function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return a.uid === b.uid && a.name === b.name && a.namespace === b.namespace && a.kind === b.kind && a.apiVersion === b.apiVersion;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A reference names the identity when uid, name, kind and API group agree (the version may differ), as upstream compares them. */
export function referenceMatches(reference: OwnerReference, identity: ObjectIdentity): boolean {
  return reference.uid === identity.uid && reference.name === identity.name && reference.kind === identity.kind && groupOf(reference.apiVersion) === groupOf(identity.apiVersion);
}

/** A key for the identity (the absent-owner cache's). */
export function identityKey(identity: ObjectIdentity): string {
  return [identity.apiVersion, identity.kind, identity.namespace, identity.name, identity.uid].join('\u0000');
}

/** How upstream prints an objectReference in messages. */
export function describeIdentity(identity: ObjectIdentity): string {
  return `[${identity.apiVersion}/${identity.kind}, namespace: ${identity.namespace}, name: ${identity.name}, uid: ${identity.uid}]`;
}

export function beingDeleted(object: KubeObject): boolean {
  return object.metadata?.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return (object.metadata?.finalizers ?? []).includes(finalizer);
}

export function blocksOwnerDeletion(reference: OwnerReference): boolean {
  return reference.blockOwnerDeletion === true;
}
