/**
 * What pod GC deletes (upstream pkg/controller/podgc, 1.32), as pure functions over the caches:
 * - terminated pods (any phase but Pending, Running, Unknown) beyond the threshold, evicted ones
 *   first, then the oldest (creationTimestamp, then name);
 * - terminating pods on a node that is not Ready and carries the node.kubernetes.io/out-of-service
 *   taint (the admin's word that the node is gone for good);
 * - pods bound to a node that no longer exists, once it has been missing from the cache for the
 *   quarantine and a live GET confirms it is gone;
 * - terminating pods that were never scheduled.
 */
import { parseTime, TAINT_NODE_OUT_OF_SERVICE } from '@k8ts/apimachinery';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isNodeReady } from '../framework/nodes.js';

/** How often pod GC runs (upstream gcCheckPeriod). */
export const GC_CHECK_PERIOD_MS = 20_000;
/** How long a node must be missing from the cache before the live check (upstream quarantineTime). */
export const QUARANTINE_MS = 40_000;

export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
}

/** Evicted by the kubelet (Failed with reason Evicted). */
function isEvicted(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted';
}

/** Evicted pods first, then by creation time, then by name (upstream byEvictionAndCreationTimestamp). */
export function byEvictionAndCreation(a: Pod, b: Pod): number {
  const evicted = Number(isEvicted(b)) - Number(isEvicted(a));
  if (evicted !== 0) return evicted;
  const created = (parseTime(a.metadata?.creationTimestamp) ?? 0) - (parseTime(b.metadata?.creationTimestamp) ?? 0);
  if (created !== 0) return created;
  const [nameA, nameB] = [a.metadata?.name ?? '', b.metadata?.name ?? ''];
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/** The terminated pods to delete so that `threshold` remain (0 turns this off). */
export function terminatedPodsToDelete(pods: readonly Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isPodTerminated);
  const excess = terminated.length - threshold;
  return excess <= 0 ? [] : terminated.sort(byEvictionAndCreation).slice(0, excess);
}

/** Terminating pods on a node that is not Ready and is tainted out-of-service. */
export function terminatingOnOutOfServiceNodes(pods: readonly Pod[], node: (name: string) => Node | undefined): Pod[] {
  return pods
    .filter((pod) => {
      if (!pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) return false;
      const found = node(pod.spec.nodeName);
      return found !== undefined && !isNodeReady(found) && (found.spec?.taints ?? []).some((taint) => taint.key === TAINT_NODE_OUT_OF_SERVICE);
    })
    .sort(byEvictionAndCreation);
}

/** Terminating pods that never got a node: no kubelet will ever finish them. */
export function unscheduledTerminating(pods: readonly Pod[]): Pod[] {
  return pods.filter((pod) => pod.metadata?.deletionTimestamp && !pod.spec?.nodeName);
}

/**
 * Puts the nodes pods are bound to but the cache lacks into quarantine (node name → since when),
 * lets go of nodes that came back or that no pod names any more, and answers the nodes whose
 * quarantine is over: to be checked with a live GET, after which they leave the quarantine.
 */
export function quarantineMissingNodes(quarantine: Map<string, number>, pods: readonly Pod[], nodeExists: (name: string) => boolean, nowMs: number): string[] {
  const missing = new Set(pods.map((pod) => pod.spec?.nodeName ?? '').filter((name) => name !== '' && !nodeExists(name)));
  for (const name of quarantine.keys()) if (!missing.has(name)) quarantine.delete(name);
  for (const name of missing) if (!quarantine.has(name)) quarantine.set(name, nowMs);
  const due = [...quarantine].filter(([, since]) => nowMs >= since + QUARANTINE_MS).map(([name]) => name);
  for (const name of due) quarantine.delete(name);
  return due;
}
