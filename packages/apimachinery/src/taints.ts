/**
 * Taints and tolerations as Kubernetes defines them (k8s.io/api/core/v1): the well-known taint keys
 * the node controllers, the scheduler and admission agree on, and the rule by which a toleration
 * tolerates a taint (v1 Toleration.ToleratesTaint).
 */
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** The node's Ready condition is False. */
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
/** The node's Ready condition is Unknown: the node controller has not heard from it. */
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** The node is cordoned (spec.unschedulable). */
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
/** Set by an operator on a node that is shut down for good: its pods may go. */
export const TAINT_NODE_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

/**
 * The toleration tolerates the taint: its effect is empty (every effect) or the taint's, its key is
 * empty (every key; valid only with Exists) or the taint's, and with Exists any value matches while
 * with Equal (or no operator) the values must be equal. An unknown operator tolerates nothing.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
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
