/**
 * InterPodAffinity's scoring: PreScore sums, per topology pair, the weights of every preferred term
 * that holds between the incoming pod and an existing pod (either pod's terms; anti-affinity
 * subtracts), plus hardPodAffinityWeight for each existing pod's required affinity term that
 * selects the incoming pod. A node's score is the sum over its labels' pairs.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { MAX_NODE_SCORE, type NodeScore } from '../../framework/interfaces.js';
import { TopologyCounts } from './topology_counts.js';
import {
  affinityTermsOrNone,
  termMatches,
  type AffinityTerm,
  type Labels,
  type NamespaceLabelsOf,
  type PodAffinityTerms,
  type WeightedAffinityTerm,
} from './terms.js';

/** Read-only once written, so clones share it. */
export class AffinityPreScoreState implements StateData {
  constructor(readonly topologyScore: TopologyCounts) {}

  clone(): AffinityPreScoreState {
    return this;
  }
}

export interface ScoringInput {
  pod: Pod;
  terms: PodAffinityTerms;
  /** True: the incoming pod's preferred terms count, so every pod is looked at. */
  hasPreferredTerms: boolean;
  hardPodAffinityWeight: number;
  namespaceLabelsOf: NamespaceLabelsOf;
}

/** Sums the score of every topology pair over the given nodes' pods. */
export function buildTopologyScore(input: ScoringInput, nodeInfos: readonly NodeInfo[]): TopologyCounts {
  const scores = new TopologyCounts();
  const podNamespaceLabels = input.namespaceLabelsOf(input.pod.metadata?.namespace ?? '') ?? {};
  for (const nodeInfo of nodeInfos) {
    const node = nodeInfo.node;
    // Only labelled nodes have domains to score.
    if (node === undefined || Object.keys(node.metadata?.labels ?? {}).length === 0) continue;
    const pods = input.hasPreferredTerms ? nodeInfo.pods : nodeInfo.podsWithAffinity;
    for (const existing of pods) scoreExistingPod(input, scores, existing.pod, node, podNamespaceLabels);
  }
  return scores;
}

function scoreExistingPod(input: ScoringInput, scores: TopologyCounts, existing: Pod, node: Node, podNamespaceLabels: Labels): void {
  if (input.hasPreferredTerms) {
    const existingNamespaceLabels = input.namespaceLabelsOf(existing.metadata?.namespace ?? '');
    addWeighted(scores, input.terms.preferredAffinity, existing, existingNamespaceLabels, node, 1);
    addWeighted(scores, input.terms.preferredAntiAffinity, existing, existingNamespaceLabels, node, -1);
  }
  const theirs = affinityTermsOrNone(existing);
  if (input.hardPodAffinityWeight > 0) {
    for (const term of theirs.requiredAffinity) addTerm(scores, term, input.hardPodAffinityWeight, input.pod, podNamespaceLabels, node);
  }
  addWeighted(scores, theirs.preferredAffinity, input.pod, podNamespaceLabels, node, 1);
  addWeighted(scores, theirs.preferredAntiAffinity, input.pod, podNamespaceLabels, node, -1);
}

function addWeighted(
  scores: TopologyCounts,
  terms: readonly WeightedAffinityTerm[],
  pod: Pod,
  namespaceLabels: Labels | undefined,
  node: Node,
  sign: 1 | -1,
): void {
  for (const term of terms) addTerm(scores, term, sign * term.weight, pod, namespaceLabels, node);
}

/** When the term selects `pod`, adds `weight` to the domain of `node` (where the term's other side runs). */
function addTerm(scores: TopologyCounts, term: AffinityTerm, weight: number, pod: Pod, namespaceLabels: Labels | undefined, node: Node): void {
  if (termMatches(term, pod, namespaceLabels)) scores.addForNode(node, term.topologyKey, weight);
}

/** Maps raw scores linearly onto [0, MAX_NODE_SCORE], the lowest to 0 and the highest to the max. */
export function normalizeAffinityScores(scores: NodeScore[]): void {
  let min = Infinity;
  let max = -Infinity;
  for (const { score } of scores) {
    min = Math.min(min, score);
    max = Math.max(max, score);
  }
  const spread = max - min;
  // Same float order as upstream (max * fraction, then truncate), so edge cases round alike.
  for (const entry of scores) entry.score = spread > 0 ? Math.trunc(MAX_NODE_SCORE * ((entry.score - min) / spread)) : 0;
}
