/**
 * Writing a node's taints the way the node controllers do (upstream's AddOrUpdateTaintOnNode /
 * RemoveTaintOffNode): a conditional update from the cached node first; on a conflict the node is
 * read again from the API and the change recomputed, a few times.
 */
import { isConflict, isNotFound, type ResourceClient } from '@k8ts/client';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';

/** Attempts before a taint change is given up (and left to the next pass). */
export const TAINT_UPDATE_ATTEMPTS = 5;

/**
 * Applies `change` (the node's new taints, or undefined for "nothing to do") to the node. Returns
 * false when the node is gone; throws when the change keeps conflicting or the API fails.
 */
export async function updateNodeTaints(nodes: ResourceClient<Node>, cached: Node, change: (node: Node) => Taint[] | undefined): Promise<boolean> {
  let node = cached;
  for (let attempt = 1; ; attempt++) {
    const taints = change(node);
    if (taints === undefined) return true;
    try {
      await nodes.update({ ...node, spec: { ...node.spec, taints } });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      if (!isConflict(error) || attempt >= TAINT_UPDATE_ATTEMPTS) throw error;
    }
    try {
      node = await nodes.get(node.metadata?.name ?? '');
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
