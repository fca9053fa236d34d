/**
 * An Endpoints object's subsets from a Service and its pods, as upstream's endpoints controller
 * builds them: one address per pod (the IP of the Service's family), ready or not ready, offering
 * the Service's ports resolved on that pod; then repacked so addresses offering the same ports
 * share a subset, and truncated to 1000 addresses.
 *
 * Order: upstream sorts ports and subsets by a hash of their Go printout; here they are sorted by
 * their content (ports by name, port, protocol; subsets by their first address), which is just as
 * deterministic. Comparison (`subsetsEqual`) is on the canonical form, so an Endpoints object whose
 * subsets differ from ours only in order is left alone.
 */
import { isDeepStrictEqual } from 'node:util';
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { findPort, isIpv6, podIps, shouldPodBeInEndpoints, shouldSetHostname } from '../framework/endpoint_rules.js';
import { isPodReady } from '../framework/pods.js';

/** Addresses one Endpoints object holds at most; beyond, it is truncated and annotated. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
/** Set to "truncated" on an Endpoints object holding fewer addresses than its Service has. */
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

/** The one address of the Service's IP family a pod offers; undefined when it has none of that family. */
export function podAddressForService(service: Service, pod: Pod): EndpointAddress | undefined {
  const ips = podIps(pod);
  const wantIpv6 = serviceWantsIpv6(service, ips[0] ?? '');
  const ip = ips.find((candidate) => isIpv6(candidate) === wantIpv6);
  if (ip === undefined) return undefined;
  const address: EndpointAddress = {
    ip,
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
  const nodeName = pod.spec?.nodeName ?? '';
  if (nodeName !== '') address.nodeName = nodeName;
  if (shouldSetHostname(pod, service)) address.hostname = pod.spec?.hostname ?? '';
  return address;
}

/** The Service's first IP family; without families, its cluster IP's family, or (headless) the pod's. */
function serviceWantsIpv6(service: Service, firstPodIp: string): boolean {
  const families = service.spec?.ipFamilies ?? [];
  if (families.length > 0) return families[0] === 'IPv6';
  const clusterIp = service.spec?.clusterIP ?? '';
  if (clusterIp !== '' && clusterIp !== 'None') return isIpv6(clusterIp);
  return isIpv6(firstPodIp);
}

function endpointPort(servicePort: ServicePort, port: number): EndpointPort {
  const result: EndpointPort = { port, protocol: servicePort.protocol ?? 'TCP' };
  if (servicePort.name !== undefined && servicePort.name !== '') result.name = servicePort.name;
  if (servicePort.appProtocol !== undefined) result.appProtocol = servicePort.appProtocol;
  return result;
}

/** The Service's subsets from the pods its selector picks (already filtered by selector). */
export function desiredSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const ports = service.spec?.ports ?? [];
  const headless = service.spec?.clusterIP === 'None';
  const subsets: EndpointSubset[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = podAddressForService(service, pod);
    if (address === undefined) continue;
    const ready = publishNotReady || isPodReady(pod);
    const add = (subsetPorts: EndpointPort[]): void => {
      subsets.push(ready ? { addresses: [address], ports: subsetPorts } : { notReadyAddresses: [address], ports: subsetPorts });
    };
    // A headless Service may have no ports: its pods are published without any.
    if (ports.length === 0) {
      if (headless) add([]);
      continue;
    }
    for (const servicePort of ports) {
      const port = findPort(pod, servicePort);
      if (port !== undefined) add([endpointPort(servicePort, port)]);
    }
  }
  return repackSubsets(subsets);
}

/** One address is one pod's IP: the same IP from two pods (uids) is two addresses. */
function addressKey(address: EndpointAddress): string {
  return `${address.ip}/${address.targetRef?.uid ?? ''}`;
}

/** Stands for "no ports" (a headless Service's addresses) while grouping. */
const NO_PORT_KEY = '';

function portKey(port: EndpointPort): string {
  return JSON.stringify([port.name ?? '', port.port, port.protocol ?? 'TCP', port.appProtocol ?? '']);
}

/**
 * Regroups subsets so that each holds every address offering exactly its set of ports: an address
 * ready for any port stays ready for it, and addresses offering the same ports share one subset.
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  const ports = new Map<string, EndpointPort | undefined>();
  /** port key → address key → ready. */
  const readiness = new Map<string, Map<string, boolean>>();
  const note = (key: string, address: EndpointAddress, ready: boolean): void => {
    const id = addressKey(address);
    if (!addresses.has(id)) addresses.set(id, address);
    let byAddress = readiness.get(key);
    if (byAddress === undefined) readiness.set(key, (byAddress = new Map()));
    if (byAddress.get(id) !== true) byAddress.set(id, ready);
  };
  for (const subset of subsets) {
    const subsetPorts = subset.ports ?? [];
    const keys = subsetPorts.length === 0 ? [NO_PORT_KEY] : subsetPorts.map(portKey);
    subsetPorts.forEach((port, index) => ports.set(keys[index] as string, port));
    for (const key of keys) {
      for (const address of subset.addresses ?? []) note(key, address, true);
      for (const address of subset.notReadyAddresses ?? []) note(key, address, false);
    }
  }
  // Group the ports by the exact set of (address, readiness) offering them.
  const groups = new Map<string, { members: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const [key, members] of readiness) {
    const groupKey = [...members].map(([id, ready]) => `${id}=${ready}`).sort().join(',');
    let group = groups.get(groupKey);
    if (group === undefined) groups.set(groupKey, (group = { members, ports: [] }));
    const port = ports.get(key);
    if (key !== NO_PORT_KEY && port !== undefined) group.ports.push(port);
  }
  const result: EndpointSubset[] = [];
  for (const { members, ports: groupPorts } of groups.values()) {
    const ready = [...members].filter(([, isReady]) => isReady).map(([id]) => addresses.get(id) as EndpointAddress);
    const notReady = [...members].filter(([, isReady]) => !isReady).map(([id]) => addresses.get(id) as EndpointAddress);
    result.push(subsetOf(ready, notReady, groupPorts));
  }
  return sortSubsets(result);
}

function subsetOf(ready: EndpointAddress[], notReady: EndpointAddress[], ports: EndpointPort[]): EndpointSubset {
  const subset: EndpointSubset = {};
  if (ready.length > 0) subset.addresses = ready;
  if (notReady.length > 0) subset.notReadyAddresses = notReady;
  if (ports.length > 0) subset.ports = ports;
  return subset;
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return compareText(a.ip, b.ip) || compareText(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return compareText(a.name ?? '', b.name ?? '') || a.port - b.port || compareText(a.protocol ?? '', b.protocol ?? '');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Addresses by IP then pod uid, ports by name then number, subsets by their first address then ports. */
export function sortSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const sorted = subsets.map((subset) =>
    subsetOf([...(subset.addresses ?? [])].sort(compareAddresses), [...(subset.notReadyAddresses ?? [])].sort(compareAddresses), [...(subset.ports ?? [])].sort(comparePorts)),
  );
  const firstOf = (subset: EndpointSubset): EndpointAddress | undefined => subset.addresses?.[0] ?? subset.notReadyAddresses?.[0];
  return sorted.sort((a, b) => {
    const first = firstOf(a);
    const second = firstOf(b);
    const byAddress = first === undefined || second === undefined ? 0 : compareAddresses(first, second);
    return byAddress || compareText(JSON.stringify(a.ports ?? []), JSON.stringify(b.ports ?? []));
  });
}

function totalAddresses(subsets: readonly EndpointSubset[]): { ready: number; notReady: number } {
  let ready = 0;
  let notReady = 0;
  for (const subset of subsets) {
    ready += subset.addresses?.length ?? 0;
    notReady += subset.notReadyAddresses?.length ?? 0;
  }
  return { ready, notReady };
}

/**
 * Keeps at most `max` addresses, ready ones first, cutting each subset in proportion to its share
 * (rounded up, so the last subsets may get fewer), as upstream does. truncated: something was cut.
 */
export function truncateSubsets(subsets: readonly EndpointSubset[], max = MAX_ENDPOINTS_ADDRESSES): { subsets: EndpointSubset[]; truncated: boolean } {
  const { ready, notReady } = totalAddresses(subsets);
  if (ready + notReady <= max) return { subsets: [...subsets], truncated: false };
  const cutReady = ready > max;
  const budget = cutReady ? max : max - ready;
  const total = cutReady ? ready : notReady;
  let left = budget;
  const result = subsets.map((subset) => {
    const cut = cutReady ? (subset.addresses ?? []) : (subset.notReadyAddresses ?? []);
    const keep = Math.min(Math.ceil((cut.length / total) * budget), left);
    const kept = cut.slice(0, keep);
    left -= kept.length;
    return cutReady ? subsetOf(kept, [], subset.ports ?? []) : subsetOf(subset.addresses ?? [], kept, subset.ports ?? []);
  });
  return { subsets: result, truncated: true };
}

/** Whether the over-capacity annotation agrees with the subsets (set exactly when they hold more than the maximum). */
export function capacityAnnotationCorrect(annotations: Readonly<Record<string, string>> | undefined, subsets: readonly EndpointSubset[]): boolean {
  const { ready, notReady } = totalAddresses(subsets);
  if (ready + notReady > MAX_ENDPOINTS_ADDRESSES) return false;
  return annotations?.[ANNOTATION_OVER_CAPACITY] === undefined;
}

/** Same addresses, readiness and ports, whatever the order and the pods' resourceVersions in targetRef. */
export function subsetsEqual(a: readonly EndpointSubset[] | undefined, b: readonly EndpointSubset[] | undefined): boolean {
  return isDeepStrictEqual(canonical(a ?? []), canonical(b ?? []));
}

function canonical(subsets: readonly EndpointSubset[]): unknown {
  const address = (entry: EndpointAddress): unknown => ({
    ip: entry.ip,
    hostname: entry.hostname ?? '',
    nodeName: entry.nodeName ?? '',
    targetRef: entry.targetRef === undefined ? null : { ...entry.targetRef, resourceVersion: '' },
  });
  const port = (entry: EndpointPort): unknown => ({ name: entry.name ?? '', port: entry.port, protocol: entry.protocol ?? 'TCP', appProtocol: entry.appProtocol ?? '' });
  return sortSubsets(subsets).map((subset) => ({
    addresses: (subset.addresses ?? []).map(address),
    notReadyAddresses: (subset.notReadyAddresses ?? []).map(address),
    ports: (subset.ports ?? []).map(port),
  }));
}
