/**
 * The EndpointSlice reconciler's decision, without I/O: from a Service, the pods its selector picks
 * and the slices it has, which slices to create, update and delete. Upstream's algorithm
 * (k8s.io/endpointslice reconciler.go), which keeps existing slices where it can:
 *
 * 1. Slices of an address type the Service no longer has, or not owned by this Service (uid), go.
 * 2. Pods are grouped by the ports they resolve (named ports differ per pod): each group fills its
 *    own slices, at most `maxEndpointsPerSlice` endpoints each.
 * 3. In each existing slice, endpoints no longer desired are dropped and changed ones replaced; a
 *    slice left empty is deleted. Slices being updated anyway are filled up first (fullest first);
 *    what remains goes into the unchanged slice it fits best (when fewer than a slice's worth),
 *    else into new slices.
 * 4. A Service with no endpoints keeps one empty placeholder slice per address type.
 * 5. A slice to create and one to delete of the same address type become one update.
 *
 * Determinism: pods are taken in name order and existing slices in name order (upstream iterates
 * Go maps), so one state gives one plan.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { controllerRefFor } from '../framework/controller_ref.js';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, shouldPodBeInEndpoints } from '../framework/endpoint_rules.js';
import { formatRfc3339Nano } from '../framework/endpoint_trigger_time.js';
import {
  addressTypesForService,
  endpointKey,
  endpointPorts,
  endpointsEqualBeyondKey,
  ownedBy,
  podToEndpoint,
  portMapKey,
  sliceLabels,
  slicePrefix,
  type AddressType,
} from './slice_rules.js';

export interface SliceInput {
  readonly service: Service;
  /** The pods the Service's selector picks. */
  readonly pods: readonly Pod[];
  /** The Node of a name, from the cache; undefined when not known. */
  readonly nodeNamed: (name: string) => Node | undefined;
  /** The Service's slices managed by this controller, none of them being deleted. */
  readonly existing: readonly EndpointSlice[];
  readonly maxEndpointsPerSlice: number;
  /** The trigger-time annotation to write on created and updated slices (undefined: remove it). */
  readonly triggerTimeMs: number | undefined;
}

export interface SlicePlan {
  /** New slices, named by the server (generateName `<service>-`). */
  readonly create: EndpointSlice[];
  /** Whole slices to write over the existing ones (resourceVersion kept: conditional). */
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
  /** Pods left out because their Node is not known: upstream retries the Service later. */
  readonly podsWithoutNode: string[];
}

export function planSlices(input: SliceInput): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [], podsWithoutNode: [] };
  const types = addressTypesForService(input.service);
  const existing = [...input.existing].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const slice of existing) if (!types.includes(slice.addressType as AddressType)) plan.delete.push(slice);
  const pods = [...input.pods].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const addressType of types) {
    const ofType = existing.filter((slice) => slice.addressType === addressType);
    const typed = planAddressType(input, pods, ofType, addressType, plan.podsWithoutNode);
    plan.create.push(...typed.create);
    plan.update.push(...typed.update);
    plan.delete.push(...typed.delete);
  }
  for (const slice of [...plan.create, ...plan.update]) setTriggerTime(slice, input.triggerTimeMs);
  return plan;
}

interface Changes {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

interface DesiredGroup {
  readonly ports: EndpointPort[];
  /** endpointKey → endpoint, in pod order. */
  readonly endpoints: Map<string, Endpoint>;
}

function planAddressType(input: SliceInput, pods: readonly Pod[], existing: readonly EndpointSlice[], addressType: AddressType, podsWithoutNode: string[]): Changes {
  const { service } = input;
  const changes: Changes = { create: [], update: [], delete: [] };
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    if (!ownedBy(slice, service)) {
      changes.delete.push(slice);
      continue;
    }
    const key = portMapKey(slice.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }

  const desiredByPorts = new Map<string, DesiredGroup>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod);
    const key = portMapKey(ports);
    let group = desiredByPorts.get(key);
    if (group === undefined) desiredByPorts.set(key, (group = { ports, endpoints: new Map() }));
    const node = input.nodeNamed(pod.spec?.nodeName ?? '');
    // A pod on an unknown Node is left out (and the Service retried), unless the user asked for
    // every address to be published.
    if (node === undefined && service.spec?.publishNotReadyAddresses !== true) {
      if (!podsWithoutNode.includes(pod.metadata?.name ?? '')) podsWithoutNode.push(pod.metadata?.name ?? '');
      continue;
    }
    const endpoint = podToEndpoint(pod, node, service, addressType);
    if (endpoint.addresses.length > 0) group.endpoints.set(endpointKey(endpoint), endpoint);
  }

  for (const [key, group] of desiredByPorts) {
    const grouped = planPortGroup(input, existingByPorts.get(key) ?? [], group, addressType);
    changes.create.push(...grouped.create);
    changes.update.push(...grouped.update);
    changes.delete.push(...grouped.delete);
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) changes.delete.push(...slices);

  if (existing.length === changes.delete.length && changes.create.length === 0) {
    const placeholder = newSlice(service, [], addressType);
    const only = changes.delete[0];
    if (changes.delete.length === 1 && only !== undefined && isPlaceholderLike(only, placeholder)) changes.delete = [];
    else changes.create.push(placeholder);
  }
  return reuseDeletedSlices(service, changes);
}

/** Upstream's reconcileByPortMapping: one port group's existing slices against its desired endpoints. */
function planPortGroup(input: SliceInput, existing: readonly EndpointSlice[], group: DesiredGroup, addressType: AddressType): Changes {
  const { service, maxEndpointsPerSlice: max } = input;
  const desired = new Map(group.endpoints);
  const labels = sliceLabels(service);
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();

  for (const slice of existing) {
    const name = slice.metadata?.name ?? '';
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let endpointChanged = false;
    for (const endpoint of slice.endpoints ?? []) {
      const key = endpointKey(endpoint);
      const wanted = desired.get(key);
      if (wanted === undefined) continue;
      kept.push(wanted);
      if (!endpointsEqualBeyondKey(wanted, endpoint)) endpointChanged = true;
      desired.delete(key);
    }
    const labelsChanged = !isDeepStrictEqual({ ...slice.metadata?.labels }, labels);
    if (endpointChanged || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        byName.set(name, { ...slice, metadata: { ...slice.metadata, labels }, endpoints: kept });
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      byName.set(name, { ...slice, metadata: { ...slice.metadata, labels }, endpoints: [...(slice.endpoints ?? [])] });
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  const remaining = desired.values();
  const popInto = (slice: EndpointSlice): void => {
    const endpoints = slice.endpoints ?? [];
    while (desired.size > 0 && endpoints.length < max) {
      const next = remaining.next().value as Endpoint;
      desired.delete(endpointKey(next));
      endpoints.push(next);
    }
    slice.endpoints = endpoints;
  };

  // Slices written anyway are filled up first, fullest first.
  const updating = [...toUpdate].map((name) => byName.get(name) as EndpointSlice).sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length);
  for (const slice of updating) popInto(slice);

  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let target: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      const best = sliceToFill([...unchanged].map((name) => byName.get(name) as EndpointSlice), desired.size, max);
      if (best !== undefined) target = { ...best, endpoints: [...(best.endpoints ?? [])] };
    }
    if (target === undefined) {
      target = newSlice(service, group.ports, addressType);
      create.push(target);
    } else {
      const name = target.metadata?.name ?? '';
      byName.set(name, target);
      toUpdate.add(name);
      unchanged.delete(name);
    }
    popInto(target);
  }

  return {
    create,
    update: [...toUpdate].map((name) => byName.get(name) as EndpointSlice),
    delete: [...toDelete].map((name) => byName.get(name) as EndpointSlice),
  };
}

/** The unchanged slice closest to full once `count` endpoints are added, if any has room for all. */
function sliceToFill(slices: readonly EndpointSlice[], count: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let bestRoomLeft = max;
  for (const slice of slices) {
    const roomLeft = max - (count + (slice.endpoints ?? []).length);
    if (roomLeft >= 0 && roomLeft < bestRoomLeft) {
      best = slice;
      bestRoomLeft = roomLeft;
      if (roomLeft === 0) break;
    }
  }
  return best;
}

/** Turns creates into updates of slices about to be deleted (same address type, owned): fewer writes, same names. */
function reuseDeletedSlices(service: Service, changes: Changes): Changes {
  const create = [...changes.create];
  const update = [...changes.update];
  const remove = [...changes.delete];
  for (let i = 0; i < remove.length && create.length > 0; ) {
    const old = remove[i] as EndpointSlice;
    const fresh = create[create.length - 1] as EndpointSlice;
    if (old.addressType === fresh.addressType && ownedBy(old, service)) {
      create.pop();
      const { generateName: _, ...metadata } = fresh.metadata ?? {};
      update.push({ ...fresh, metadata: { ...old.metadata, ...metadata, name: old.metadata?.name ?? '', resourceVersion: old.metadata?.resourceVersion ?? '' } });
      remove.splice(i, 1);
    } else {
      i++;
    }
  }
  return { create, update, delete: remove };
}

export function controllerReference(service: Service): OwnerReference {
  return controllerRefFor(service, { apiVersion: 'v1', kind: 'Service' });
}

function newSlice(service: Service, ports: EndpointPort[], addressType: AddressType): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(service.metadata?.name ?? ''),
      namespace: service.metadata?.namespace ?? '',
      labels: sliceLabels(service),
      ownerReferences: [controllerReference(service)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

/** An existing slice that already is the placeholder (same labels, owner, type; no endpoints, no ports). */
function isPlaceholderLike(slice: EndpointSlice, placeholder: EndpointSlice): boolean {
  return (
    slice.addressType === placeholder.addressType &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0 &&
    isDeepStrictEqual({ ...slice.metadata?.labels }, placeholder.metadata?.labels) &&
    isDeepStrictEqual(slice.metadata?.ownerReferences ?? [], placeholder.metadata?.ownerReferences)
  );
}

function setTriggerTime(slice: EndpointSlice, triggerTimeMs: number | undefined): void {
  const annotations: Record<string, string> = { ...slice.metadata?.annotations };
  if (triggerTimeMs === undefined) delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  else annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatRfc3339Nano(triggerTimeMs);
  slice.metadata = { ...slice.metadata, annotations };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
