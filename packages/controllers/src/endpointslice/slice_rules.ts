/**
 * What one pod contributes to a Service's EndpointSlices, and the labels and identity of the
 * slices, after upstream's EndpointSlice reconciler (k8s.io/endpointslice). Pure functions.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_HEADLESS_SERVICE, findPort, isIpv6, isServiceIpSet, podIps, shouldSetHostname } from '../framework/endpoint_rules.js';
import { isPodReady } from '../framework/pods.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** The managed-by value of this controller's slices. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** kube-controller-manager's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

export type AddressType = 'IPv4' | 'IPv6';

/**
 * The address types a Service's slices carry: its ipFamilies; without them (an old apiserver), its
 * cluster IP's family, or both for a headless Service.
 */
export function addressTypesForService(service: Service): AddressType[] {
  const types = new Set<AddressType>();
  for (const family of service.spec?.ipFamilies ?? []) if (family === 'IPv4' || family === 'IPv6') types.add(family);
  if (types.size > 0) return [...types];
  if (isServiceIpSet(service)) return [isIpv6(service.spec?.clusterIP ?? '') ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** The Service's ports resolved on this pod; a port the pod lacks (named, not found) is left out. */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const ports: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const port = findPort(pod, servicePort);
    if (port === undefined) continue;
    const endpointPort: EndpointPort = { name: servicePort.name ?? '', port, protocol: servicePort.protocol ?? 'TCP' };
    if (servicePort.appProtocol !== undefined) endpointPort.appProtocol = servicePort.appProtocol;
    ports.push(endpointPort);
  }
  return ports;
}

/**
 * A pod as an endpoint of `addressType`. Conditions as upstream: serving = the pod is Ready,
 * terminating = it has a deletionTimestamp, ready = serving and not terminating — or always true
 * with publishNotReadyAddresses. Zone from the pod's Node, when known.
 */
export function podToEndpoint(pod: Pod, node: Node | undefined, service: Service, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata?.deletionTimestamp !== undefined;
  const ready = service.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const endpoint: Endpoint = {
    addresses: podIps(pod).filter((ip) => isIpv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
  const nodeName = pod.spec?.nodeName ?? '';
  if (nodeName !== '') endpoint.nodeName = nodeName;
  const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE] ?? '';
  if (zone !== '') endpoint.zone = zone;
  if (shouldSetHostname(pod, service)) endpoint.hostname = pod.spec?.hostname ?? '';
  return endpoint;
}

/** An endpoint's identity within a Service's slices: its addresses, hostname and pod. */
export function endpointKey(endpoint: Endpoint): string {
  return JSON.stringify([[...endpoint.addresses].sort(), endpoint.hostname ?? '', endpoint.targetRef?.namespace ?? '', endpoint.targetRef?.name ?? '']);
}

/** Two endpoints of one key that need no write: same node, zone, conditions and pod (resourceVersion aside). */
export function endpointsEqualBeyondKey(a: Endpoint, b: Endpoint): boolean {
  const ref = (endpoint: Endpoint): unknown => (endpoint.targetRef === undefined ? null : { ...endpoint.targetRef, resourceVersion: '' });
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    isDeepStrictEqual(ref(a), ref(b))
  );
}

/** Identifies a set of ports whatever their order: pods offering the same set share slices. */
export function portMapKey(ports: readonly EndpointPort[] | undefined): string {
  const entries = (ports ?? []).map((port) => JSON.stringify([port.name ?? '', port.port ?? null, port.protocol ?? 'TCP', port.appProtocol ?? '']));
  return JSON.stringify(entries.sort());
}

/** The labels the Service's slices carry: the Service's own (reserved keys aside), headless, service name and managed-by. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.metadata?.labels ?? {})) {
    if (key !== LABEL_SERVICE_NAME && key !== LABEL_MANAGED_BY && key !== LABEL_HEADLESS_SERVICE) labels[key] = value;
  }
  if (!isServiceIpSet(service)) labels[LABEL_HEADLESS_SERVICE] = '';
  labels[LABEL_SERVICE_NAME] = service.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

/** Whether the slice names this Service (this uid) as an owner. */
export function ownedBy(slice: EndpointSlice, service: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((owner) => owner.uid === service.metadata?.uid && owner.kind === 'Service' && owner.apiVersion === 'v1');
}

/** A slice that belongs to this controller (by its managed-by label). */
export function managedByController(slice: EndpointSlice): boolean {
  return slice.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
}

/** `<service>-`: the generateName of the Service's slices (Service names are short DNS labels, so always valid). */
export function slicePrefix(serviceName: string): string {
  return `${serviceName}-`;
}
