/**
 * NodeResourcesFit decides whether a node has room for a pod's resource requests and how much it
 * prefers the node by its allocation, as kube-scheduler's plugin of that name:
 * - PreFilter: the pod's requests (sum of containers, raised to the largest init container,
 *   sidecars added, plus overhead) into CycleState.
 * - Filter: "Too many pods", "Insufficient cpu", "Insufficient memory", "Insufficient
 *   ephemeral-storage", "Insufficient <extended resource>": all that apply, as Unschedulable
 *   (preempting pods can make room).
 * - Score: the configured scoring strategy over the node's requests with the pod's:
 *   LeastAllocated (default: spread), MostAllocated (bin pack) or RequestedToCapacityRatio (a shape).
 * Args (NodeResourcesFitArgs): ignoredResources, ignoredResourceGroups, scoringStrategy.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type {
  ClusterEvent,
  EnqueueExtensions,
  FilterPlugin,
  PluginFactory,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { podRequests, type Resource } from '../../framework/resource.js';
import { Status } from '../../framework/status.js';
import {
  AllocationScratch,
  DEFAULT_RESOURCE_SPECS,
  leastAllocatedScorer,
  mostAllocatedScorer,
  podRequestList,
  requestedToCapacityRatioScorer,
  scoreAllocation,
  type AllocationScorer,
  type ResourceSpec,
  type UtilizationShapePoint,
} from './allocation.js';
import { insufficientResources, type IgnoredResources } from './fits.js';

export * from './allocation.js';
export * from './fits.js';

export const NAME = 'NodeResourcesFit';

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

export interface ScoringStrategy {
  /** Default LeastAllocated. */
  type?: ScoringStrategyType;
  /** Default cpu and memory, weight 1 each; a weight of 0 means 1. */
  resources?: ResourceSpec[];
  requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
}

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

class PreFilterState implements StateData {
  constructor(readonly request: Resource) {}
  // The pod's requests do not change when other pods come and go.
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly podRequests: readonly number[]) {}
  clone(): StateData {
    return this;
  }
}

/** The strategy's scorer; throws for what upstream's args validation rejects. */
function strategyScorer(type: string, resources: readonly ResourceSpec[], strategy: ScoringStrategy): AllocationScorer {
  switch (type) {
    case 'LeastAllocated':
      return leastAllocatedScorer(resources);
    case 'MostAllocated':
      return mostAllocatedScorer(resources);
    case 'RequestedToCapacityRatio': {
      const shape = strategy.requestedToCapacityRatio?.shape ?? [];
      if (shape.length === 0) throw new Error('scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point must be specified');
      return requestedToCapacityRatioScorer(resources, shape);
    }
    default:
      throw new Error(`scoring strategy ${type} is not supported`);
  }
}

export class Fit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly strategy: string;
  readonly resources: readonly ResourceSpec[];
  private readonly ignored: IgnoredResources;
  private readonly scorer: AllocationScorer;
  private readonly scratch: AllocationScratch;

  constructor(args: NodeResourcesFitArgs = {}) {
    const strategy = args.scoringStrategy ?? {};
    this.strategy = strategy.type ?? 'LeastAllocated';
    const resources = strategy.resources?.length ? strategy.resources : DEFAULT_RESOURCE_SPECS;
    this.resources = resources.map(({ name, weight }) => ({ name, weight: weight || 1 }));
    this.scorer = strategyScorer(this.strategy, this.resources, strategy);
    this.scratch = new AllocationScratch(this.resources.length);
    this.ignored = { names: new Set(args.ignoredResources ?? []), groups: new Set(args.ignoredResourceGroups ?? []) };
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status: Status } {
    state.write(PRE_FILTER_KEY, new PreFilterState(podRequests(pod)));
    return { status: Status.success() };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (nodeInfo.node === undefined) return Status.error('node not found');
    const request = state.read<PreFilterState>(PRE_FILTER_KEY)?.request ?? podRequests(pod);
    const missing = insufficientResources(request, nodeInfo, this.ignored);
    return missing.length === 0 ? Status.success() : Status.unschedulable(...missing.map(({ reason }) => reason));
  }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(PRE_SCORE_KEY, new PreScoreState(podRequestList(pod, this.resources, false)));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    if (nodeInfo.node === undefined) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    const requests = state.read<PreScoreState>(PRE_SCORE_KEY)?.podRequests ?? podRequestList(pod, this.resources, false);
    return { score: scoreAllocation(nodeInfo, requests, this.resources, this.scorer, false, this.scratch), status: Status.success() };
  }

  /** A pod deleted frees resources; a node added (or its allocatable changed) may have them. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = (args) => new Fit(args as NodeResourcesFitArgs);
