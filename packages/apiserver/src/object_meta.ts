import { randomInt, randomUUID } from 'node:crypto';
import { apiErrors, cloneJson, apiVersionOf, formatTime, type ResourceType } from '@k8ts/apimachinery';
import type { KubeObject } from './object_store.js';

/** The characters kube uses for generateName suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateNameSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

/**
 * The request body as an object of `type` in `namespace`: kind and apiVersion must match the URL
 * (or be left out), and so must the namespace; kube answers BadRequest otherwise.
 */
export function checkBodyIdentity(type: ResourceType, body: unknown, namespace: string | undefined): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.badRequest('the object provided is unrecognized or could not be decoded: expected an object');
  }
  const object = body as KubeObject;
  const apiVersion = apiVersionOf(type);
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) {
    throw apiErrors.badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw apiErrors.badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${type.kind})`);
  }
  object.apiVersion = apiVersion;
  object.kind = type.kind;
  object.metadata = { ...(object.metadata ?? {}) };
  if (type.namespaced) {
    const inBody = object.metadata.namespace;
    if (inBody !== undefined && inBody !== '' && namespace !== undefined && inBody !== namespace) {
      throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (namespace !== undefined) object.metadata.namespace = namespace;
  } else {
    delete object.metadata.namespace;
  }
  return object;
}

/** Resources whose strategies track metadata.generation (kube 1.32: the workload controllers' objects, EndpointSlices, PodDisruptionBudgets). */
const GENERATION_TRACKED = new Set(['deployments', 'replicasets', 'endpointslices', 'poddisruptionbudgets']);
/** Resources whose strategies set generation 1 on create and never move it (kube 1.32's PriorityClass). */
const GENERATION_FIXED = new Set(['priorityclasses']);

/** What the server sets on every new object, whatever the client sent in those fields. */
export function initializeMetadata(type: ResourceType, object: KubeObject, now: Date): void {
  const metadata = object.metadata ?? {};
  if ((metadata.name === undefined || metadata.name === '') && metadata.generateName) {
    metadata.name = metadata.generateName + generateNameSuffix();
  }
  metadata.uid = randomUUID();
  metadata.creationTimestamp = formatTime(now);
  if (GENERATION_TRACKED.has(type.resource) || GENERATION_FIXED.has(type.resource)) metadata.generation = 1;
  else delete metadata.generation;
  delete metadata.resourceVersion;
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  object.metadata = metadata;
}

/** Whether anything but metadata and status differs: what bumps metadata.generation. */
export function specChanged(before: KubeObject, after: KubeObject): boolean {
  const strip = ({ metadata: _m, status: _s, ...rest }: KubeObject): unknown => rest;
  return JSON.stringify(strip(before)) !== JSON.stringify(strip(after));
}

/**
 * What bumps metadata.generation on an update: a spec change; for Deployments an annotation change
 * too (kube's strategy: annotations are copied from a Deployment to its ReplicaSets).
 */
function generationMoves(type: ResourceType, before: KubeObject, after: KubeObject): boolean {
  if (specChanged(before, after)) return true;
  const sorted = (object: KubeObject): string => JSON.stringify(Object.entries(object.metadata?.annotations ?? {}).sort());
  return type.resource === 'deployments' && sorted(before) !== sorted(after);
}

/**
 * An update's metadata rules: the server-owned fields keep their stored values, generation moves
 * when the spec changes, and (for resources with a status subresource) the main resource's update
 * leaves status alone, as kube's strategies do.
 */
/** Which part of an object a write replaces: all of it but status, only status, or (namespaces) spec.finalizers too. */
export type WriteSubresource = 'status' | 'finalize' | undefined;

export function carryOverOnUpdate(type: ResourceType, current: KubeObject, next: KubeObject, subresource: WriteSubresource): void {
  const was = current.metadata ?? {};
  const meta = next.metadata ?? {};
  // As kube's BeforeUpdate: the stored uid fills in when none is sent; a different one is refused
  // by validation ("field is immutable"), which is what makes a uid in a patch a precondition.
  if (meta.uid === undefined || meta.uid === '') meta.uid = was.uid as string;
  meta.creationTimestamp = was.creationTimestamp as string;
  if (was.deletionTimestamp !== undefined) meta.deletionTimestamp = was.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (was.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = was.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  const hasStatus = type.subresources.includes('status');
  if (subresource === 'status') {
    // Only status changes through /status.
    const status = next['status'];
    Object.assign(next, cloneJson({ ...current, metadata: meta }));
    if (status === undefined) delete next['status'];
    else next['status'] = status;
    // Metadata may change through /status, as kube's status strategies allow, but for what they
    // reset: a Deployment's labels, a pod's ownerReferences (old kubelets corrupted them).
    if (type.resource === 'deployments') meta.labels = was.labels as Record<string, string>;
    if (type.resource === 'pods') {
      if (was.ownerReferences === undefined) delete meta.ownerReferences;
      else meta.ownerReferences = was.ownerReferences;
    }
  } else if (hasStatus) {
    if (current['status'] === undefined) delete next['status'];
    else next['status'] = cloneJson(current['status']);
  }
  if (type.resource === 'namespaces' && subresource === undefined) {
    // As kube's namespace strategy: spec.finalizers change only through namespaces/finalize.
    const finalizers = (current['spec'] as { finalizers?: string[] } | undefined)?.finalizers;
    const spec = { ...((next['spec'] ?? {}) as Record<string, unknown>) };
    if (finalizers === undefined) delete spec['finalizers'];
    else spec['finalizers'] = cloneJson(finalizers);
    next['spec'] = spec;
  }
  if (GENERATION_TRACKED.has(type.resource)) meta.generation = (was.generation ?? 1) + (subresource === undefined && generationMoves(type, current, next) ? 1 : 0);
  else if (GENERATION_FIXED.has(type.resource) && was.generation !== undefined) meta.generation = was.generation;
  else delete meta.generation;
  next.metadata = meta;
  if (meta.labels === undefined) delete meta.labels;
  if (meta.annotations === undefined) delete meta.annotations;
}
