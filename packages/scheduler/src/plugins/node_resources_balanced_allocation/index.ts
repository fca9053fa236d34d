/**
 * NodeResourcesBalancedAllocation prefers nodes whose resources would be used evenly with the pod
 * on them, as kube-scheduler's plugin of that name: for each resource (default cpu and memory) the
 * fraction requested/allocatable (capped at 1), and score = (1 - standard deviation) * 100,
 * truncated. With two resources the deviation is |f1 - f2| / 2. It counts the pods' real requests
 * (not the 100m/200Mi defaults for containers without requests). Score only: it rejects nothing.
 * Args (NodeResourcesBalancedAllocationArgs): `resources` (weights are ignored).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PluginFactory, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';
import { AllocationScratch, DEFAULT_RESOURCE_SPECS, podRequestList, scoreAllocation, type ResourceSpec } from '../node_resources/allocation.js';

export const NAME = 'NodeResourcesBalancedAllocation';

const PRE_SCORE_KEY = `PreScore${NAME}`;

export interface NodeResourcesBalancedAllocationArgs {
  resources?: ResourceSpec[];
}

class PreScoreState implements StateData {
  constructor(readonly podRequests: readonly number[]) {}
  clone(): StateData {
    return this;
  }
}

/** (1 - standard deviation of the used fractions) on [0, MAX_NODE_SCORE]; resources the node lacks are left out. */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  // Two passes over the arrays instead of a list of fractions: this runs for every feasible node.
  let count = 0;
  let sum = 0;
  let first = 0;
  let second = 0;
  for (let index = 0; index < allocatable.length; index++) {
    const fraction = usedFraction(requested, allocatable, index);
    if (fraction === undefined) continue;
    if (count === 0) first = fraction;
    else if (count === 1) second = fraction;
    sum += fraction;
    count++;
  }
  return Math.trunc((1 - standardDeviation(requested, allocatable, count, sum, first, second)) * MAX_NODE_SCORE);
}

/** The used share of resource `index`, capped at 1; undefined when the node has none of it. */
function usedFraction(requested: readonly number[], allocatable: readonly number[], index: number): number | undefined {
  const capacity = allocatable[index] ?? 0;
  return capacity === 0 ? undefined : Math.min((requested[index] ?? 0) / capacity, 1);
}

/** The fractions' standard deviation, as upstream: half the difference for exactly two. */
function standardDeviation(requested: readonly number[], allocatable: readonly number[], count: number, sum: number, first: number, second: number): number {
  if (count < 2) return 0;
  if (count === 2) return Math.abs((first - second) / 2);
  const mean = sum / count;
  let squares = 0;
  for (let index = 0; index < allocatable.length; index++) {
    const fraction = usedFraction(requested, allocatable, index);
    if (fraction !== undefined) squares += (fraction - mean) * (fraction - mean);
  }
  return Math.sqrt(squares / count);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly resources: readonly ResourceSpec[];
  private readonly scratch: AllocationScratch;

  constructor(args: NodeResourcesBalancedAllocationArgs = {}) {
    const resources = args.resources?.length ? args.resources : DEFAULT_RESOURCE_SPECS;
    this.resources = resources.map(({ name, weight }) => ({ name, weight: weight || 1 }));
    this.scratch = new AllocationScratch(this.resources.length);
  }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(PRE_SCORE_KEY, new PreScoreState(podRequestList(pod, this.resources, true)));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    if (nodeInfo.node === undefined) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    const requests = state.read<PreScoreState>(PRE_SCORE_KEY)?.podRequests ?? podRequestList(pod, this.resources, true);
    return { score: scoreAllocation(nodeInfo, requests, this.resources, balancedResourceScore, true, this.scratch), status: Status.success() };
  }
}

export const factory: PluginFactory = (args) => new BalancedAllocation(args as NodeResourcesBalancedAllocationArgs);
