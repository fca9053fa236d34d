/**
 * Whether a node has room for a pod's requests (kube's noderesources.Fits): one more pod under the
 * node's pod capacity, and each requested resource within allocatable minus what the node's pods
 * already request. Every shortfall is reported, so FailedScheduling can say
 * "Insufficient cpu, Insufficient memory" for one node.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { podRequests, type Resource } from '../../framework/resource.js';

/** One resource the node lacks for the pod. */
export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** Extended resources the Fit filter may be told to ignore (they are not counted by the node). */
export interface IgnoredResources {
  /** Extended resource names, e.g. "example.com/foo". */
  names?: ReadonlySet<string>;
  /** Extended resource domains, e.g. "example.com" for every "example.com/...". */
  groups?: ReadonlySet<string>;
}

/**
 * A resource outside kubernetes.io with a domain, such as "nvidia.com/gpu" (kube's
 * IsExtendedResourceName); hugepages and attachable volumes are not extended resources.
 */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.includes('kubernetes.io/') || name.startsWith('requests.')) return false;
  const [prefix = '', local = '', ...rest] = name.split('/');
  return rest.length === 0 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix) && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(local);
}

function isIgnored(name: string, ignored: IgnoredResources): boolean {
  if (!isExtendedResourceName(name)) return false;
  return (ignored.names?.has(name) ?? false) || (ignored.groups?.has(name.split('/')[0] ?? '') ?? false);
}

function shortfall(resourceName: string, requested: number, used: number, capacity: number): InsufficientResource | undefined {
  if (requested <= 0 || requested <= capacity - used) return undefined;
  return { resourceName, reason: `Insufficient ${resourceName}`, requested, used, capacity };
}

/** Everything the node lacks for a pod requesting `request`; empty when it fits. */
export function insufficientResources(request: Resource, nodeInfo: NodeInfo, ignored: IgnoredResources = {}): InsufficientResource[] {
  // The common case, checked first without allocating and from the NodeInfo's own copies of the
  // numbers (no loads from its Resource objects): it runs for most nodes of every pod.
  if (
    request.scalar.size === 0 &&
    nodeInfo.podCount + 1 <= nodeInfo.allowedPodNumber &&
    shortfall('cpu', request.milliCpu, nodeInfo.requestedMilliCpu, nodeInfo.allocatableMilliCpu) === undefined &&
    shortfall('memory', request.memory, nodeInfo.requestedMemory, nodeInfo.allocatableMemory) === undefined &&
    shortfall('ephemeral-storage', request.ephemeralStorage, nodeInfo.requestedEphemeralStorage, nodeInfo.allocatableEphemeralStorage) === undefined
  ) {
    return [];
  }
  const { allocatable, requested } = nodeInfo;
  const podCount = nodeInfo.pods.length;
  const result: InsufficientResource[] = [];
  if (podCount + 1 > allocatable.allowedPodNumber)
    result.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: podCount, capacity: allocatable.allowedPodNumber });
  const checks: (InsufficientResource | undefined)[] = [
    shortfall('cpu', request.milliCpu, requested.milliCpu, allocatable.milliCpu),
    shortfall('memory', request.memory, requested.memory, allocatable.memory),
    shortfall('ephemeral-storage', request.ephemeralStorage, requested.ephemeralStorage, allocatable.ephemeralStorage),
  ];
  for (const [name, amount] of request.scalar) {
    if (isIgnored(name, ignored)) continue;
    checks.push(shortfall(name, amount, requested.scalar.get(name) ?? 0, allocatable.scalar.get(name) ?? 0));
  }
  for (const check of checks) if (check !== undefined) result.push(check);
  return result;
}

/** What the node lacks for the pod (for preemption and autoscaling-style what-ifs). */
export function fits(pod: Pod, nodeInfo: NodeInfo): InsufficientResource[] {
  return insufficientResources(podRequests(pod), nodeInfo);
}
