/**
 * InterPodAffinity's PreFilter state and Filter checks. PreFilter walks the cluster once and counts,
 * per topology pair, (1) existing pods whose required anti-affinity selects the incoming pod,
 * (2) existing pods matching all the incoming pod's required affinity terms, (3) existing pods
 * matching each of its required anti-affinity terms. Filter then only looks up the node's pairs.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { TopologyCounts } from './topology_counts.js';
import {
  affinityTermsOrNone,
  matchesAllTerms,
  termMatches,
  type Labels,
  type NamespaceLabelsOf,
  type PodAffinityTerms,
} from './terms.js';

export class AffinityPreFilterState implements StateData {
  /** Whether matching the incoming pod's required terms needs other namespaces' labels at all. */
  readonly termsUseNamespaceSelector: boolean;

  constructor(
    readonly pod: Pod,
    readonly terms: PodAffinityTerms,
    /** Labels of the incoming pod's namespace, as existing pods' namespaceSelectors see them. */
    readonly podNamespaceLabels: Labels,
    /** Labels of the incoming pod's namespace as its own terms see them (undefined = unknown). */
    readonly ownNamespaceLabels: Labels | undefined,
    readonly existingAntiAffinityCounts: TopologyCounts,
    readonly affinityCounts: TopologyCounts,
    readonly antiAffinityCounts: TopologyCounts,
  ) {
    this.termsUseNamespaceSelector = [...terms.requiredAffinity, ...terms.requiredAntiAffinity].some((term) => term.namespaceSelector !== null);
  }

  clone(): AffinityPreFilterState {
    return new AffinityPreFilterState(
      this.pod,
      this.terms,
      this.podNamespaceLabels,
      this.ownNamespaceLabels,
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
    );
  }

  /** Counts `other` (on `node`) in (+1) or out (-1), as if it were added to or removed from the node. */
  updateWithPod(other: Pod, node: Node, delta: number, namespaceLabelsOf: NamespaceLabelsOf): void {
    for (const term of affinityTermsOrNone(other).requiredAntiAffinity) {
      if (termMatches(term, this.pod, this.podNamespaceLabels)) this.existingAntiAffinityCounts.addForNode(node, term.topologyKey, delta);
    }
    countIncomingTerms(this, other, node, delta, namespaceLabelsOf);
  }
}

/** Counts one existing pod against the incoming pod's required affinity and anti-affinity terms. */
function countIncomingTerms(state: AffinityPreFilterState, existing: Pod, node: Node, delta: number, namespaceLabelsOf: NamespaceLabelsOf): void {
  const { requiredAffinity, requiredAntiAffinity } = state.terms;
  if (requiredAffinity.length === 0 && requiredAntiAffinity.length === 0) return;
  const namespaceLabels = state.termsUseNamespaceSelector ? namespaceLabelsOf(existing.metadata?.namespace ?? '') : undefined;
  if (matchesAllTerms(requiredAffinity, existing, namespaceLabels)) {
    for (const term of requiredAffinity) state.affinityCounts.addForNode(node, term.topologyKey, delta);
  }
  for (const term of requiredAntiAffinity) {
    if (termMatches(term, existing, namespaceLabels)) state.antiAffinityCounts.addForNode(node, term.topologyKey, delta);
  }
}

/**
 * Builds the state. `allNodes` are walked only when the incoming pod has required terms;
 * `nodesWithRequiredAntiAffinity` (usually few) for the symmetric check.
 */
export function buildPreFilterState(
  pod: Pod,
  terms: PodAffinityTerms,
  allNodes: readonly NodeInfo[],
  nodesWithRequiredAntiAffinity: readonly NodeInfo[],
  namespaceLabelsOf: NamespaceLabelsOf,
): AffinityPreFilterState {
  const ownNamespaceLabels = namespaceLabelsOf(pod.metadata?.namespace ?? '');
  const state = new AffinityPreFilterState(pod, terms, ownNamespaceLabels ?? {}, ownNamespaceLabels, new TopologyCounts(), new TopologyCounts(), new TopologyCounts());
  for (const nodeInfo of nodesWithRequiredAntiAffinity) {
    const node = nodeInfo.node;
    if (node === undefined) continue;
    for (const existing of nodeInfo.podsWithRequiredAntiAffinity) {
      for (const term of affinityTermsOrNone(existing.pod).requiredAntiAffinity) {
        if (termMatches(term, pod, state.podNamespaceLabels)) state.existingAntiAffinityCounts.addForNode(node, term.topologyKey, 1);
      }
    }
  }
  if (terms.requiredAffinity.length === 0 && terms.requiredAntiAffinity.length === 0) return state;
  for (const nodeInfo of allNodes) {
    const node = nodeInfo.node;
    if (node === undefined) continue;
    for (const existing of nodeInfo.pods) countIncomingTerms(state, existing.pod, node, 1, namespaceLabelsOf);
  }
  return state;
}

/** Every required affinity term's domain on this node holds a matching pod (or the pod is the first of its group). */
export function satisfiesPodAffinity(state: AffinityPreFilterState, labels: Labels): boolean {
  let podsExist = true;
  for (const term of state.terms.requiredAffinity) {
    const value = labels[term.topologyKey];
    // A node without the topology label is in no domain, so it can never satisfy the term.
    if (value === undefined) return false;
    if (state.affinityCounts.get(term.topologyKey, value) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: nothing anywhere matches the terms, but the
  // pod matches them itself, so it may go to any node that has the topology labels.
  return state.affinityCounts.size === 0 && matchesAllTerms(state.terms.requiredAffinity, state.pod, state.ownNamespaceLabels);
}

/** No required anti-affinity term's domain on this node holds a matching pod. */
export function satisfiesPodAntiAffinity(state: AffinityPreFilterState, labels: Labels): boolean {
  if (state.antiAffinityCounts.size === 0) return true;
  return state.terms.requiredAntiAffinity.every((term) => {
    const value = labels[term.topologyKey];
    return value === undefined || state.antiAffinityCounts.get(term.topologyKey, value) <= 0;
  });
}

/** No existing pod's required anti-affinity rules out the incoming pod in any of this node's domains. */
export function satisfiesExistingPodsAntiAffinity(state: AffinityPreFilterState, labels: Labels): boolean {
  return state.existingAntiAffinityCounts.size === 0 || !state.existingAntiAffinityCounts.anyPositiveForLabels(labels);
}
