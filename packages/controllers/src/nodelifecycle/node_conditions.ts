/**
 * Reading nodes as the node controllers do (upstream pkg/controller/util/node and
 * component-helpers' node topology): conditions, readiness and zones.
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';

export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return (node.status?.conditions ?? []).find((condition) => condition.type === type);
}

/** The node's Ready condition is True (upstream nodeutil.IsNodeReady). */
export function isNodeReady(node: Node): boolean {
  return nodeCondition(node, 'Ready')?.status === 'True';
}

/** A node with this label is left out of its zone's disruption count (upstream, as named). */
export const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

/**
 * The zone a node counts in for eviction rate limits: region and zone labels joined by ":\0:" as
 * upstream's GetZoneKey, "" when the node has neither (all such nodes share one zone).
 */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}
