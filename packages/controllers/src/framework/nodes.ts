/** Reading nodes as the node controllers do (upstream pkg/controller/util/node): conditions and readiness. */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';

export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return (node.status?.conditions ?? []).find((condition) => condition.type === type);
}

/** The node's Ready condition is True (upstream nodeutil.IsNodeReady). */
export function isNodeReady(node: Node): boolean {
  return nodeCondition(node, 'Ready')?.status === 'True';
}
