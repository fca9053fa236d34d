/**
 * PodTopologySpread's scoring of ScheduleAnyway constraints. PreScore counts the group's pods per
 * domain of the candidate nodes, over all nodes (hostname domains are counted at Score, from the
 * node itself). A node's raw score is, per constraint, count * log(domains + 2) + (maxSkew - 1),
 * so fuller domains score higher; NormalizeScore flips that so the emptiest node gets 100.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { MAX_NODE_SCORE, type NodeScore } from '../../framework/interfaces.js';
import { countMatchingPods, hasAllTopologyKeys, HOSTNAME_LABEL, MatchingPodsOnNode, type SpreadConstraint } from './constraints.js';
import { NodeInclusion } from './node_inclusion.js';

/** Read-only once written, so clones share it. */
export class SpreadPreScoreState implements StateData {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Candidate nodes lacking some topology key: they score 0. */
    readonly ignoredNodes: ReadonlySet<string>,
    /** Per constraint: topology value -> pods of the group (not used for hostname). */
    readonly counts: readonly Map<string, number>[],
    /** Per constraint: log(number of domains + 2), so that small topologies weigh less. */
    readonly weights: readonly number[],
  ) {}

  clone(): SpreadPreScoreState {
    return this;
  }
}

/**
 * `requireAllTopologies`: whether a node must carry every topology key to be scored (false only
 * for system-default constraints, so that unzoned nodes still spread by hostname).
 */
export function buildPreScoreState(
  pod: Pod,
  constraints: readonly SpreadConstraint[],
  candidates: readonly NodeInfo[],
  allNodes: readonly NodeInfo[],
  requireAllTopologies: boolean,
): SpreadPreScoreState {
  const ignoredNodes = new Set<string>();
  const counts = constraints.map(() => new Map<string, number>());
  for (const nodeInfo of candidates) {
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    if (requireAllTopologies && !hasAllTopologyKeys(labels, constraints)) {
      ignoredNodes.add(nodeInfo.name);
      continue;
    }
    constraints.forEach((constraint, index) => {
      if (constraint.topologyKey !== HOSTNAME_LABEL) (counts[index] as Map<string, number>).set(labels[constraint.topologyKey] ?? '', 0);
    });
  }
  const weights = constraints.map((constraint, index) => {
    const domains = constraint.topologyKey === HOSTNAME_LABEL ? candidates.length - ignoredNodes.size : (counts[index]?.size ?? 0);
    return Math.log(domains + 2);
  });
  countAllNodes(pod, constraints, allNodes, counts, requireAllTopologies);
  return new SpreadPreScoreState(constraints, ignoredNodes, counts, weights);
}

/** Adds every node's matching pods to the domains some candidate node is in. */
function countAllNodes(pod: Pod, constraints: readonly SpreadConstraint[], allNodes: readonly NodeInfo[], counts: Map<string, number>[], requireAllTopologies: boolean): void {
  const namespace = pod.metadata?.namespace ?? '';
  const inclusion = new NodeInclusion(pod);
  for (const nodeInfo of allNodes) {
    const node = nodeInfo.node;
    if (node === undefined) continue;
    const labels = node.metadata?.labels ?? {};
    if (requireAllTopologies && !hasAllTopologyKeys(labels, constraints)) continue;
    const matching = new MatchingPodsOnNode(nodeInfo, namespace);
    constraints.forEach((constraint, index) => {
      const domains = counts[index] as Map<string, number>;
      const value = labels[constraint.topologyKey] ?? '';
      const current = domains.get(value);
      if (current === undefined || !inclusion.includes(constraint, node)) return;
      domains.set(value, current + matching.count(constraint.selector));
    });
  }
}

/** The node's raw score: higher when its domains already hold more of the group. */
export function scoreNode(state: SpreadPreScoreState, pod: Pod, nodeInfo: NodeInfo): number {
  if (state.ignoredNodes.has(nodeInfo.name)) return 0;
  const labels = nodeInfo.node?.metadata?.labels ?? {};
  const namespace = pod.metadata?.namespace ?? '';
  let score = 0;
  state.constraints.forEach((constraint, index) => {
    const value = labels[constraint.topologyKey];
    if (value === undefined) return;
    const count =
      constraint.topologyKey === HOSTNAME_LABEL
        ? countMatchingPods(nodeInfo.pods, constraint.selector, namespace)
        : (state.counts[index]?.get(value) ?? 0);
    score += count * (state.weights[index] ?? 0) + (constraint.maxSkew - 1);
  });
  return Math.round(score);
}

/** Flips raw scores into [0, MAX_NODE_SCORE]: the least crowded node gets the most; ignored nodes 0. */
export function normalizeSpreadScores(state: SpreadPreScoreState, scores: NodeScore[]): void {
  let min = Infinity;
  let max = 0;
  for (const { name, score } of scores) {
    if (state.ignoredNodes.has(name)) continue;
    min = Math.min(min, score);
    max = Math.max(max, score);
  }
  for (const entry of scores) {
    if (state.ignoredNodes.has(entry.name)) entry.score = 0;
    else if (max === 0) entry.score = MAX_NODE_SCORE;
    else entry.score = Math.trunc((MAX_NODE_SCORE * (max + min - entry.score)) / max);
  }
}
