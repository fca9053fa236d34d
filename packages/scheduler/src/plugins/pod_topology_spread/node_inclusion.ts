/**
 * Which nodes' pods a spread constraint counts (nodeAffinityPolicy / nodeTaintsPolicy). This is a
 * private, minimal copy of the node-selector and toleration rules (the NodeAffinity and
 * TaintToleration plugins own the full ones), so this plugin depends on no other plugin:
 * - nodeAffinityPolicy Honor: the node passes the pod's nodeSelector and required node affinity
 *   (nodeSelectorTerms ORed; In/NotIn/Exists/DoesNotExist/Gt/Lt on labels, In/NotIn on the field
 *   metadata.name; a term that is empty or cannot be parsed matches nothing);
 * - nodeTaintsPolicy Honor: the pod tolerates every NoSchedule/NoExecute taint of the node.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { SpreadConstraint } from './constraints.js';

/** The incoming pod's view of which nodes its constraints count; built once per scheduling step. */
export class NodeInclusion {
  private readonly nodeSelector: readonly (readonly [string, string])[];
  private readonly requiredTerms: readonly NodeSelectorTerm[] | undefined;
  private readonly tolerations: readonly Toleration[];

  constructor(pod: Pod) {
    this.nodeSelector = Object.entries(pod.spec?.nodeSelector ?? {});
    this.requiredTerms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    this.tolerations = pod.spec?.tolerations ?? [];
  }

  includes(constraint: SpreadConstraint, node: Node): boolean {
    if (constraint.nodeAffinityPolicy === 'Honor' && !this.matchesRequiredNodeAffinity(node)) return false;
    if (constraint.nodeTaintsPolicy === 'Honor' && hasUntoleratedTaint(node, this.tolerations)) return false;
    return true;
  }

  /** The pod's nodeSelector and required node affinity (nodeSelectorTerms ORed). */
  matchesRequiredNodeAffinity(node: Node): boolean {
    const labels = node.metadata?.labels ?? {};
    for (const [key, value] of this.nodeSelector) {
      if (labels[key] !== value) return false;
    }
    return this.requiredTerms === undefined || this.requiredTerms.some((term) => termMatches(term, node));
  }
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return expressions.every((r) => labelRequirementMatches(r, labels)) && fields.every((r) => fieldRequirementMatches(r, node));
}

function labelRequirementMatches(requirement: NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  // Value lists the operator does not allow make the requirement invalid, hence unmatched.
  switch (requirement.operator) {
    case 'In':
      return values.length > 0 && value !== undefined && values.includes(value);
    case 'NotIn':
      return values.length > 0 && (value === undefined || !values.includes(value));
    case 'Exists':
      return values.length === 0 && value !== undefined;
    case 'DoesNotExist':
      return values.length === 0 && value === undefined;
    case 'Gt':
    case 'Lt':
      return compareIntegers(requirement.operator, value, values);
    default:
      return false;
  }
}

const INTEGER = /^[+-]?\d+$/;

function compareIntegers(operator: 'Gt' | 'Lt', value: string | undefined, values: readonly string[]): boolean {
  const bound = values[0];
  if (values.length !== 1 || bound === undefined || !INTEGER.test(bound)) return false;
  if (value === undefined || !INTEGER.test(value)) return false;
  return operator === 'Gt' ? BigInt(value) > BigInt(bound) : BigInt(value) < BigInt(bound);
}

function fieldRequirementMatches(requirement: NodeSelectorRequirement, node: Node): boolean {
  const values = requirement.values ?? [];
  if (requirement.key !== 'metadata.name' || values.length !== 1) return false;
  const name = node.metadata?.name ?? '';
  if (requirement.operator === 'In') return name === values[0];
  if (requirement.operator === 'NotIn') return name !== values[0];
  return false;
}

/** A NoSchedule or NoExecute taint none of the tolerations tolerates. */
function hasUntoleratedTaint(node: Node, tolerations: readonly Toleration[]): boolean {
  return (node.spec?.taints ?? []).some(
    (taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => toleratesTaint(t, taint)),
  );
}

function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}
