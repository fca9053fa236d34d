/**
 * What the scheduler knows of one node: the Node, the pods on it (bound or assumed), and the sums it
 * decides with (kube's framework.NodeInfo). The cache owns NodeInfos and hands the scheduling cycle a
 * snapshot; plugins only read them (preemption works on clones).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { addResource, cloneResource, emptyResource, podRequests, resourceFromList, type Resource } from './resource.js';

/** A pod with what the scheduler derives from it once. */
export interface PodInfo {
  readonly pod: Pod;
  /** podRequests(pod). */
  readonly requests: Resource;
  /** podRequests(pod, {nonZero: true}): what scoring counts. */
  readonly nonZeroRequests: Resource;
}

export function podInfoFor(pod: Pod): PodInfo {
  return { pod, requests: podRequests(pod), nonZeroRequests: podRequests(pod, { nonZero: true }) };
}

/** `namespace/name`, the key pods are known by in the cache and queue. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export function hasAffinity(pod: Pod): boolean {
  const affinity = pod.spec?.affinity;
  return affinity?.podAffinity !== undefined || affinity?.podAntiAffinity !== undefined;
}

export function hasRequiredAntiAffinity(pod: Pod): boolean {
  return (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
}

/** A host port a container asks for, as NodePorts compares them. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** Host ports a pod asks for ("0.0.0.0" when a port names no host IP). */
export function podHostPorts(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (!port.hostPort) continue;
      ports.push({ ip: port.hostIP || '0.0.0.0', protocol: port.protocol ?? 'TCP', port: port.hostPort });
    }
  }
  return ports;
}

let nextGeneration = 1;

/** A number that grows every time any NodeInfo changes: snapshots copy only what changed. */
export function newGeneration(): number {
  return nextGeneration++;
}

export class NodeInfo {
  node: Node | undefined;
  /**
   * The node's name ('' without a node), kept here rather than read through the Node: the filter and
   * score loops read it for every node they visit, and the Node objects are cold in memory there.
   */
  name = '';
  readonly pods: PodInfo[] = [];
  readonly podsWithAffinity: PodInfo[] = [];
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** Host ports in use on the node. */
  usedPorts: HostPort[] = [];
  /** Sum of the pods' requests. Changed only by this class's methods (the copies below follow it). */
  requested: Resource = emptyResource();
  /** Sum of the pods' non-zero requests (for scoring). Changed only by this class's methods. */
  nonZeroRequested: Resource = emptyResource();
  /** node.status.allocatable, with `allowedPodNumber` the node's pod capacity. Changed only by this class's methods. */
  allocatable: Resource = emptyResource();
  generation = newGeneration();

  // Copies of the numbers the Fit filter and the resource scorers read for every node they visit,
  // held on the NodeInfo itself: the Resource objects above are separate, scattered through the heap,
  // and loading them missed the cache for most nodes (cycle_bench.ts: ~20% of the cycle). Every
  // method that changes the Resources or the pods updates them (numbersChanged).
  podCount = 0;
  allowedPodNumber = 0;
  allocatableMilliCpu = 0;
  allocatableMemory = 0;
  allocatableEphemeralStorage = 0;
  requestedMilliCpu = 0;
  requestedMemory = 0;
  requestedEphemeralStorage = 0;
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;

  constructor(node?: Node, pods: readonly Pod[] = []) {
    if (node !== undefined) this.setNode(node);
    for (const pod of pods) this.addPod(pod);
  }

  setNode(node: Node): void {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.allocatable = resourceFromList(node.status?.allocatable as Record<string, string> | undefined);
    this.numbersChanged();
  }

  /** The node is gone; the NodeInfo stays while pods remain on it. */
  clearNode(): void {
    this.node = undefined;
    this.name = '';
    this.generation = newGeneration();
  }

  addPod(pod: Pod): void {
    this.addPodInfo(podInfoFor(pod));
  }

  addPodInfo(info: PodInfo): void {
    this.pods.push(info);
    if (hasAffinity(info.pod)) this.podsWithAffinity.push(info);
    if (hasRequiredAntiAffinity(info.pod)) this.podsWithRequiredAntiAffinity.push(info);
    addResource(this.requested, info.requests);
    addResource(this.nonZeroRequested, info.nonZeroRequests);
    this.usedPorts.push(...podHostPorts(info.pod));
    this.numbersChanged();
  }

  /** Removes the pod with this pod's namespace/name (uid when both have one); false if absent. */
  removePod(pod: Pod): boolean {
    const index = this.pods.findIndex((info) => samePod(info.pod, pod));
    if (index < 0) return false;
    const [info] = this.pods.splice(index, 1) as [PodInfo];
    removeFrom(this.podsWithAffinity, info);
    removeFrom(this.podsWithRequiredAntiAffinity, info);
    addResource(this.requested, info.requests, -1);
    addResource(this.nonZeroRequested, info.nonZeroRequests, -1);
    for (const port of podHostPorts(info.pod)) {
      const at = this.usedPorts.findIndex((used) => used.ip === port.ip && used.protocol === port.protocol && used.port === port.port);
      if (at >= 0) this.usedPorts.splice(at, 1);
    }
    this.numbersChanged();
    return true;
  }

  /** A copy whose pod lists and sums can change without touching this one (pods themselves are shared). */
  clone(): NodeInfo {
    const copy = new NodeInfo();
    copy.node = this.node;
    copy.name = this.name;
    copy.pods.push(...this.pods);
    copy.podsWithAffinity.push(...this.podsWithAffinity);
    copy.podsWithRequiredAntiAffinity.push(...this.podsWithRequiredAntiAffinity);
    copy.usedPorts = [...this.usedPorts];
    copy.requested = cloneResource(this.requested);
    copy.nonZeroRequested = cloneResource(this.nonZeroRequested);
    copy.allocatable = cloneResource(this.allocatable);
    copy.numbersChanged();
    copy.generation = this.generation;
    return copy;
  }

  /** A new generation, and the hot copies read again from the Resources and the pod list. */
  private numbersChanged(): void {
    const { allocatable, requested, nonZeroRequested } = this;
    this.podCount = this.pods.length;
    this.allowedPodNumber = allocatable.allowedPodNumber;
    this.allocatableMilliCpu = allocatable.milliCpu;
    this.allocatableMemory = allocatable.memory;
    this.allocatableEphemeralStorage = allocatable.ephemeralStorage;
    this.requestedMilliCpu = requested.milliCpu;
    this.requestedMemory = requested.memory;
    this.requestedEphemeralStorage = requested.ephemeralStorage;
    this.nonZeroMilliCpu = nonZeroRequested.milliCpu;
    this.nonZeroMemory = nonZeroRequested.memory;
    this.generation = newGeneration();
  }
}

export function samePod(a: Pod, b: Pod): boolean {
  if (a.metadata?.uid && b.metadata?.uid) return a.metadata.uid === b.metadata.uid;
  return podKey(a) === podKey(b);
}

function removeFrom(list: PodInfo[], info: PodInfo): void {
  const index = list.indexOf(info);
  if (index >= 0) list.splice(index, 1);
}
