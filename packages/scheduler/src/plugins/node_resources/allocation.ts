/**
 * Scoring a node by how much of its allocatable resources would be requested with the pod on it
 * (kube's noderesources resourceAllocationScorer), shared by NodeResourcesFit's scoring strategies
 * and NodeResourcesBalancedAllocation.
 *
 * For each configured resource: allocatable of the node, and requested = the node's pods' requests
 * plus the pod's. cpu and memory count non-zero requests (a container asking nothing counts as
 * 100m / 200Mi) unless `useRequested`; ephemeral storage and extended resources count real requests.
 * An extended resource the pod does not ask for, or the node does not have, is left out (0, 0), and
 * each scorer skips resources with zero allocatable. All arithmetic is integer, as upstream's int64.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { isScalarResourceName, podRequests, type Resource } from '../../framework/resource.js';

/** A resource a scoring strategy looks at, with its weight in the average. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** cpu and memory, weight 1 each: the default of NodeResourcesFit and BalancedAllocation. */
export const DEFAULT_RESOURCE_SPECS: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/**
 * Folds per-resource (requested, allocatable), in the order of the ResourceSpecs, into a score. The
 * arrays are reused from node to node: a scorer reads them and keeps neither.
 */
export type AllocationScorer = (requested: readonly number[], allocatable: readonly number[]) => number;

/**
 * The per-resource arrays scoreAllocation fills for the scorer, one pair per plugin: scoring runs for
 * every feasible node of every pod, and two fresh arrays per node were a tenth of the scheduler's GC.
 */
export class AllocationScratch {
  readonly requested: number[];
  readonly allocatable: number[];
  constructor(count: number) {
    this.requested = new Array<number>(count).fill(0);
    this.allocatable = new Array<number>(count).fill(0);
  }
}

/** The amount of one named resource (cpu in millicores). */
export function resourceAmount(resource: Resource, name: string): number {
  switch (name) {
    case 'cpu':
      return resource.milliCpu;
    case 'memory':
      return resource.memory;
    case 'ephemeral-storage':
      return resource.ephemeralStorage;
    case 'pods':
      return resource.allowedPodNumber;
    default:
      return resource.scalar.get(name) ?? 0;
  }
}

/** The pod's requests of each resource (non-zero cpu/memory unless `useRequested`). */
export function podRequestList(pod: Pod, resources: readonly ResourceSpec[], useRequested: boolean): number[] {
  const requests = podRequests(pod, { nonZero: !useRequested });
  return resources.map(({ name }) => resourceAmount(requests, name));
}

/**
 * [allocatable, requested with the pod] of ephemeral storage or an extended resource on the node;
 * [0, 0] = leave it out. (cpu and memory are read from the NodeInfo's copies in scoreAllocation.)
 */
function otherAllocatableAndRequested(nodeInfo: NodeInfo, name: string, podRequest: number): [number, number] {
  if (podRequest === 0 && isScalarResourceName(name)) return [0, 0];
  const allocatable = nodeInfo.allocatable;
  if (name === 'ephemeral-storage') return [allocatable.ephemeralStorage, nodeInfo.requested.ephemeralStorage + podRequest];
  const amount = allocatable.scalar.get(name);
  if (amount === undefined) return [0, 0];
  return [amount, (nodeInfo.requested.scalar.get(name) ?? 0) + podRequest];
}

/**
 * The scorer's score of the node with the pod (whose requests are `podRequests`) on it. Runs for
 * every feasible node of every pod, so it avoids per-resource allocations.
 */
export function scoreAllocation(
  nodeInfo: NodeInfo,
  podRequests: readonly number[],
  resources: readonly ResourceSpec[],
  scorer: AllocationScorer,
  useRequested: boolean,
  scratch: AllocationScratch = new AllocationScratch(resources.length),
): number {
  const count = resources.length;
  const { requested, allocatable } = scratch;
  for (let index = 0; index < count; index++) {
    requested[index] = 0;
    allocatable[index] = 0;
    const name = (resources[index] as ResourceSpec).name;
    const podRequest = podRequests[index] ?? 0;
    // cpu and memory from the NodeInfo's own copies of the numbers (see NodeInfo.podCount).
    if (name === 'cpu') {
      allocatable[index] = nodeInfo.allocatableMilliCpu;
      requested[index] = (useRequested ? nodeInfo.requestedMilliCpu : nodeInfo.nonZeroMilliCpu) + podRequest;
      continue;
    }
    if (name === 'memory') {
      allocatable[index] = nodeInfo.allocatableMemory;
      requested[index] = (useRequested ? nodeInfo.requestedMemory : nodeInfo.nonZeroMemory) + podRequest;
      continue;
    }
    const [amount, asked] = otherAllocatableAndRequested(nodeInfo, name, podRequest);
    if (amount === 0) continue;
    allocatable[index] = amount;
    requested[index] = asked;
  }
  return scorer(requested, allocatable);
}

/** Free share of the resource on [0, MAX_NODE_SCORE]: more free is better; overcommitted is 0. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Used share of the resource on [0, MAX_NODE_SCORE]: more used is better (bin packing). */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  // Defaults for pods without requests can push the sum past capacity: count it as full.
  return Math.trunc((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
}

/** The weighted average (truncated) of per-resource scores over resources the node has. */
function weightedAverage(resources: readonly ResourceSpec[], perResource: (requested: number, capacity: number) => number): AllocationScorer {
  return (requested, allocatable) => {
    let total = 0;
    let weights = 0;
    for (let index = 0; index < allocatable.length; index++) {
      const capacity = allocatable[index] ?? 0;
      if (capacity === 0) continue;
      const weight = resources[index]?.weight ?? 1;
      total += perResource(requested[index] ?? 0, capacity) * weight;
      weights += weight;
    }
    return weights === 0 ? 0 : Math.trunc(total / weights);
  };
}

/** LeastAllocated: favors nodes with the most free resources (spreading). */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): AllocationScorer {
  return weightedAverage(resources, leastRequestedScore);
}

/** MostAllocated: favors nodes with the least free resources (bin packing). */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): AllocationScorer {
  return weightedAverage(resources, mostRequestedScore);
}

/** A point of RequestedToCapacityRatio's shape: utilization in [0, 100] scores [0, 10]. */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** The highest score a shape point may give; shapes are scaled up to MAX_NODE_SCORE. */
export const MAX_CUSTOM_PRIORITY_SCORE = 10;

/** The piecewise linear function through the points (flat before the first and after the last). */
export function brokenLinearFunction(shape: readonly UtilizationShapePoint[]): (utilization: number) => number {
  return (p) => {
    for (let index = 0; index < shape.length; index++) {
      const point = shape[index] as UtilizationShapePoint;
      if (p > point.utilization) continue;
      const previous = shape[index - 1];
      if (previous === undefined) return point.score;
      return previous.score + Math.trunc(((point.score - previous.score) * (p - previous.utilization)) / (point.utilization - previous.utilization));
    }
    return shape[shape.length - 1]?.score ?? 0;
  };
}

/**
 * RequestedToCapacityRatio: each resource's utilization percentage (100 when overcommitted or the
 * node has none) through the shape; resources scoring 0 are left out of the rounded weighted average.
 */
export function requestedToCapacityRatioScorer(resources: readonly ResourceSpec[], shape: readonly UtilizationShapePoint[]): AllocationScorer {
  const scale = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
  const raw = brokenLinearFunction(shape.map(({ utilization, score }) => ({ utilization, score: score * scale })));
  const resourceScore = (requested: number, capacity: number): number =>
    capacity === 0 || requested > capacity ? raw(100) : raw(Math.trunc((requested * 100) / capacity));
  return (requested, allocatable) => {
    let total = 0;
    let weights = 0;
    allocatable.forEach((capacity, index) => {
      if (capacity === 0) return;
      const score = resourceScore(requested[index] ?? 0, capacity);
      if (score <= 0) return;
      const weight = resources[index]?.weight ?? 1;
      total += score * weight;
      weights += weight;
    });
    return weights === 0 ? 0 : Math.round(total / weights);
  };
}
