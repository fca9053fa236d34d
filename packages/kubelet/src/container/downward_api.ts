import os from 'node:os';
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { integerValue, milliValue, parseQuantity, type Quantity } from '@k8ts/apimachinery';

/**
 * The downward API's values, as the kubelet computes them for env vars (fieldRef, resourceFieldRef)
 * and for downwardAPI volume files. Errors carry upstream's messages.
 */

export interface PodNetworkFacts {
  /** The pod's IPs, primary first (empty before the sandbox has a network). */
  readonly podIPs: readonly string[];
  /** The node's IPs, primary first. */
  readonly hostIPs: readonly string[];
}

/** The node's allocatable resources (Node.status.allocatable), the default for absent limits. */
export type Allocatable = Readonly<Record<string, string | undefined>>;

/** A pod field as the env var fieldRef sees it (the status.* fields are env-only upstream). */
export function podFieldValue(selector: ObjectFieldSelector, pod: Pod, network: PodNetworkFacts): string {
  switch (selector.fieldPath) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return network.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return network.hostIPs.join(',');
    case 'status.podIP':
      return network.podIPs[0] ?? '';
    case 'status.podIPs':
      return network.podIPs.join(',');
    default:
      return metadataFieldValue(selector.fieldPath, pod);
  }
}

/** metadata.{name,namespace,uid,labels,annotations} and subscripted labels['k'] / annotations['k']. */
export function metadataFieldValue(fieldPath: string, pod: Pod): string {
  const metadata = pod.metadata ?? {};
  const subscripted = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
  if (subscripted !== null) {
    const [, path, key = ''] = subscripted;
    const map = path === 'metadata.labels' ? metadata.labels : metadata.annotations;
    return map?.[key] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return metadata.name ?? '';
    case 'metadata.namespace':
      return metadata.namespace ?? '';
    case 'metadata.uid':
      return metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(metadata.labels ?? {});
    case 'metadata.annotations':
      return formatMap(metadata.annotations ?? {});
    default:
      throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** `key="value"` lines sorted by key, as upstream's fieldpath.FormatMap (no trailing newline). */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${JSON.stringify(map[key])}`)
    .join('\n');
}

/**
 * A container's resource as resourceFieldRef reads it: limits.cpu / requests.cpu in units of the
 * divisor rounded up (via millicores), limits.memory / requests.memory likewise (via bytes). An
 * absent limit is the node's allocatable, as upstream's defaultPodLimitsForDownwardAPI.
 */
export function containerResourceValue(selector: ResourceFieldSelector, container: Container, allocatable: Allocatable): string {
  const divisor = selector.divisor === undefined || isZero(selector.divisor) ? parseQuantity('1') : parseQuantity(selector.divisor);
  const [kind, resource = ''] = splitOnce(selector.resource, '.');
  if ((kind !== 'limits' && kind !== 'requests') || !['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
    throw new Error(`unsupported container resource : ${selector.resource}`);
  }
  const amount = resourceAmount(container, kind, resource, allocatable);
  const value =
    resource === 'cpu'
      ? Math.ceil(milliValue(amount) / milliValue(divisor))
      : Math.ceil(integerValue(amount) / integerValue(divisor));
  return String(value);
}

function resourceAmount(container: Container, kind: 'limits' | 'requests', resource: string, allocatable: Allocatable): Quantity {
  const declared = container.resources?.[kind]?.[resource];
  if (declared !== undefined) return parseQuantity(declared);
  if (kind === 'requests') return parseQuantity('0');
  return parseQuantity(allocatable[resource] ?? hostCapacity(resource));
}

function hostCapacity(resource: string): string {
  if (resource === 'cpu') return String(os.availableParallelism());
  if (resource === 'memory') return String(os.totalmem());
  return '0';
}

function isZero(quantity: string): boolean {
  try {
    return parseQuantity(quantity).numerator === 0n;
  } catch {
    return false;
  }
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
