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
import { DEFAULT_RESOURCE_SPECS, podRequestList, scoreAllocation, type ResourceSpec } from '../node_resources/allocation.js';

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
  const fractions: number[] = [];
  for (let index = 0; index < allocatable.length; index++) {
    const capacity = allocatable[index] ?? 0;
    if (capacity !== 0) fractions.push(Math.min((requested[index] ?? 0) / capacity, 1));
  }
  return Math.trunc((1 - standardDeviation(fractions)) * MAX_NODE_SCORE);
}

function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  if (values.length === 2) return Math.abs(((values[0] ?? 0) - (values[1] ?? 0)) / 2);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const squares = values.reduce((sum, value) => sum + (value - mean) * (value - mean), 0);
  return Math.sqrt(squares / values.length);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly resources: readonly ResourceSpec[];

  constructor(args: NodeResourcesBalancedAllocationArgs = {}) {
    const resources = args.resources?.length ? args.resources : DEFAULT_RESOURCE_SPECS;
    this.resources = resources.map(({ name, weight }) => ({ name, weight: weight || 1 }));
  }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(PRE_SCORE_KEY, new PreScoreState(podRequestList(pod, this.resources, true)));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    if (nodeInfo.node === undefined) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    const requests = state.read<PreScoreState>(PRE_SCORE_KEY)?.podRequests ?? podRequestList(pod, this.resources, true);
    return { score: scoreAllocation(nodeInfo, requests, this.resources, balancedResourceScore, true), status: Status.success() };
  }
}

export const factory: PluginFactory = (args) => new BalancedAllocation(args as NodeResourcesBalancedAllocationArgs);
