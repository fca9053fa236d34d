/**
 * Which nodes' pods a spread constraint counts (nodeAffinityPolicy / nodeTaintsPolicy), with the
 * NodeAffinity and TaintToleration plugins' own matching rules:
 * - nodeAffinityPolicy Honor: the node passes the pod's nodeSelector and required node affinity;
 * - nodeTaintsPolicy Honor: the pod tolerates every NoSchedule/NoExecute taint of the node.
 */
import type { Node, Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { RequiredNodeAffinity } from '../node_affinity/node_selector.js';
import { findUntoleratedTaint, isDoNotScheduleTaint } from '../taint_toleration/index.js';
import type { SpreadConstraint } from './constraints.js';

/** The incoming pod's view of which nodes its constraints count; built once per scheduling step. */
export class NodeInclusion {
  private readonly affinity: RequiredNodeAffinity;
  private readonly tolerations: readonly Toleration[];

  constructor(pod: Pod) {
    this.affinity = new RequiredNodeAffinity(pod);
    this.tolerations = pod.spec?.tolerations ?? [];
  }

  includes(constraint: SpreadConstraint, node: Node): boolean {
    if (constraint.nodeAffinityPolicy === 'Honor' && !this.affinity.matches(node)) return false;
    if (constraint.nodeTaintsPolicy === 'Honor' && findUntoleratedTaint(node.spec?.taints, this.tolerations, isDoNotScheduleTaint) !== undefined) return false;
    return true;
  }

  /** The pod's nodeSelector and required node affinity (nodeSelectorTerms ORed). */
  matchesRequiredNodeAffinity(node: Node): boolean {
    return this.affinity.matches(node);
  }
}
