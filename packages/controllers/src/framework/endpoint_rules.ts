/**
 * The rules both the Endpoints and the EndpointSlice controllers apply to a Service's pods, after
 * upstream's k8s.io/endpointslice/util: which pods count, which address and port each offers, and
 * which Services a pod change concerns. Pure functions over plain objects.
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { isPodReady, isPodTerminal, podReadyCondition } from './pods.js';

/** Set (empty) on Endpoints and EndpointSlices of headless Services. */
export const LABEL_HEADLESS_SERVICE = 'service.kubernetes.io/headless';
/** When the change that led to this Endpoints/EndpointSlice content happened (RFC 3339, nanoseconds). */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

/** Whether the pod belongs in Endpoints/EndpointSlices at all: not terminal, has an IP, and (unless asked to) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIps(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp !== undefined) return false;
  return true;
}

/** A pod's hostname is published when its subdomain names the Service (the headless-Service DNS contract). */
export function shouldSetHostname(pod: Pod, service: Service): boolean {
  return (pod.spec?.hostname ?? '') !== '' && pod.spec?.subdomain === service.metadata?.name && pod.metadata?.namespace === service.metadata?.namespace;
}

/** A cluster IP that is neither empty nor None (headless). */
export function isServiceIpSet(service: Service): boolean {
  const clusterIp = service.spec?.clusterIP ?? '';
  return clusterIp !== '' && clusterIp !== 'None';
}

/** status.podIPs, or status.podIP alone when podIPs was not filled in. */
export function podIps(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((entry) => entry.ip ?? '').filter((ip) => ip !== '');
  if (ips.length > 0) return ips;
  const single = pod.status?.podIP ?? '';
  return single === '' ? [] : [single];
}

export function isIpv6(ip: string): boolean {
  return ip.includes(':');
}

/**
 * The container port a Service port reaches on this pod: a numeric targetPort as it is, a named one
 * looked up among the pod's container (and restartable init container) ports of the same protocol.
 * undefined: the pod has no such port, and is left out for this Service port.
 */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((container) => container.restartPolicy === 'Always');
  for (const container of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

/**
 * The Service's selector, or undefined when it has none: such a Service's endpoints are managed by
 * its user. An empty selector counts as none, as upstream stores it (an empty map decodes as nil).
 */
export function serviceSelector(service: Service): Readonly<Record<string, string>> | undefined {
  const selector = service.spec?.selector;
  return selector === undefined || Object.keys(selector).length === 0 ? undefined : selector;
}

export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** Pods of the Service's namespace its selector picks (none without a selector). */
export function podsSelectedBy(service: Service, podsInNamespace: readonly Pod[]): Pod[] {
  const selector = serviceSelector(service);
  if (selector === undefined) return [];
  return podsInNamespace.filter((pod) => selectorMatches(selector, pod.metadata?.labels));
}

/** The `namespace/name` key both endpoints controllers sync a Service by (its Endpoints share its name). */
export function serviceKey(service: Pick<Service, 'metadata'>): string {
  return `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
}

/** Keys of the Services (of the pod's namespace) whose selector matches these labels. */
export function servicesMatching(servicesInNamespace: readonly Service[], labels: Readonly<Record<string, string>> | undefined): Set<string> {
  const keys = new Set<string>();
  for (const service of servicesInNamespace) {
    const selector = serviceSelector(service);
    if (selector !== undefined && selectorMatches(selector, labels)) keys.add(serviceKey(service));
  }
  return keys;
}

/**
 * How a pod update matters: `podChanged` when its endpoint may differ (deletion, readiness, IPs,
 * phase), `labelsChanged` when the Services it belongs to may differ (labels, hostname, subdomain).
 */
export function podEndpointsChanged(oldPod: Pod, newPod: Pod): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameLabels(oldPod.metadata?.labels, newPod.metadata?.labels) ||
    oldPod.spec?.hostname !== newPod.spec?.hostname ||
    oldPod.spec?.subdomain !== newPod.spec?.subdomain;
  const podChanged =
    oldPod.metadata?.deletionTimestamp !== newPod.metadata?.deletionTimestamp ||
    isPodReady(oldPod) !== isPodReady(newPod) ||
    isPodTerminal(oldPod) !== isPodTerminal(newPod) ||
    podIps(oldPod).join(',') !== podIps(newPod).join(',') ||
    oldPod.spec?.nodeName !== newPod.spec?.nodeName ||
    readyTransition(oldPod) !== readyTransition(newPod);
  return { podChanged, labelsChanged };
}

/**
 * The Services to sync after a pod update (services: those of the pod's namespace): none for a
 * resync (same resourceVersion) or an irrelevant change; both old and new members when the pod
 * changed; only those joined or left when just its labels did.
 */
export function servicesToSyncOnPodUpdate(servicesInNamespace: readonly Service[], oldPod: Pod, newPod: Pod): Set<string> {
  if (oldPod.metadata?.resourceVersion === newPod.metadata?.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(oldPod, newPod);
  if (!podChanged && !labelsChanged) return new Set();
  const current = servicesMatching(servicesInNamespace, newPod.metadata?.labels);
  if (!labelsChanged) return current;
  const previous = servicesMatching(servicesInNamespace, oldPod.metadata?.labels);
  if (podChanged) return new Set([...current, ...previous]);
  return new Set([...[...current].filter((key) => !previous.has(key)), ...[...previous].filter((key) => !current.has(key))]);
}

/** The Ready condition's lastTransitionTime: what the trigger-time annotation reports. */
export function readyTransition(pod: Pod): string | undefined {
  return podReadyCondition(pod)?.lastTransitionTime;
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const left = Object.entries(a ?? {});
  if (left.length !== Object.keys(b ?? {}).length) return false;
  return left.every(([key, value]) => b?.[key] === value);
}
