/**
 * PodTopologySpread's PreFilter state and Filter check for DoNotSchedule constraints. PreFilter
 * counts, per constraint, the group's pods in every eligible domain (a domain with none still
 * counts as a domain, for minDomains and the global minimum); Filter is then a few map lookups.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { hasAllTopologyKeys, MatchingPodsOnNode, type SpreadConstraint } from './constraints.js';
import { NodeInclusion } from './node_inclusion.js';

export class SpreadPreFilterState implements StateData {
  /** Smallest count per constraint, computed when first asked for after a change. */
  private readonly minimums: (number | undefined)[];

  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Per constraint: topology value -> pods of the group in that domain. */
    private readonly counts: Map<string, number>[],
  ) {
    this.minimums = constraints.map(() => undefined);
  }

  clone(): SpreadPreFilterState {
    return new SpreadPreFilterState(
      this.constraints,
      this.counts.map((domains) => new Map(domains)),
    );
  }

  count(constraintIndex: number, value: string): number {
    return this.counts[constraintIndex]?.get(value) ?? 0;
  }

  add(constraintIndex: number, value: string, delta: number): void {
    const domains = this.counts[constraintIndex];
    if (domains === undefined) return;
    domains.set(value, (domains.get(value) ?? 0) + delta);
    this.minimums[constraintIndex] = undefined;
  }

  /** The skew baseline: the emptiest domain's count, or 0 while there are fewer domains than minDomains. */
  globalMinimum(constraintIndex: number): number {
    const domains = this.counts[constraintIndex];
    const constraint = this.constraints[constraintIndex];
    if (domains === undefined || constraint === undefined || domains.size < constraint.minDomains || domains.size === 0) return 0;
    let minimum = this.minimums[constraintIndex];
    if (minimum === undefined) {
      minimum = Infinity;
      for (const count of domains.values()) minimum = Math.min(minimum, count);
      this.minimums[constraintIndex] = minimum;
    }
    return minimum;
  }

  /**
   * Counts `other` in (+1) or out (-1) on `node`, as preemption adds or removes it. Only pods of
   * the incoming pod's namespace on nodes the constraint counts matter.
   */
  updateWithPod(other: Pod, preemptor: Pod, node: Node, delta: number): void {
    if ((other.metadata?.namespace ?? '') !== (preemptor.metadata?.namespace ?? '')) return;
    const labels = node.metadata?.labels ?? {};
    if (!hasAllTopologyKeys(labels, this.constraints)) return;
    const inclusion = new NodeInclusion(preemptor);
    this.constraints.forEach((constraint, index) => {
      if (!constraint.selector.matches(other) || !inclusion.includes(constraint, node)) return;
      this.add(index, labels[constraint.topologyKey] ?? '', delta);
    });
  }
}

/** Counts the group's pods per domain over all nodes that carry every topology key. */
export function buildPreFilterState(pod: Pod, constraints: readonly SpreadConstraint[], nodes: readonly NodeInfo[]): SpreadPreFilterState {
  const counts = constraints.map(() => new Map<string, number>());
  const namespace = pod.metadata?.namespace ?? '';
  const inclusion = new NodeInclusion(pod);
  for (const nodeInfo of nodes) {
    const node = nodeInfo.node;
    if (node === undefined) continue;
    const labels = node.metadata?.labels ?? {};
    if (!hasAllTopologyKeys(labels, constraints)) continue;
    const matching = new MatchingPodsOnNode(nodeInfo, namespace);
    constraints.forEach((constraint, index) => {
      if (!inclusion.includes(constraint, node)) return;
      const value = labels[constraint.topologyKey] ?? '';
      const domains = counts[index] as Map<string, number>;
      domains.set(value, (domains.get(value) ?? 0) + matching.count(constraint.selector));
    });
  }
  return new SpreadPreFilterState(constraints, counts);
}

export type SpreadVerdict = 'fits' | 'missingLabel' | 'skewTooLarge';

/** Placing the pod on the node keeps every constraint's skew (domain + self - global minimum) within maxSkew. */
export function checkNode(state: SpreadPreFilterState, pod: Pod, node: Node): SpreadVerdict {
  const labels = node.metadata?.labels ?? {};
  for (const [index, constraint] of state.constraints.entries()) {
    const value = labels[constraint.topologyKey];
    if (value === undefined) return 'missingLabel';
    const self = constraint.selector.matches(pod) ? 1 : 0;
    const skew = state.count(index, value) + self - state.globalMinimum(index);
    if (skew > constraint.maxSkew) return 'skewTooLarge';
  }
  return 'fits';
}
