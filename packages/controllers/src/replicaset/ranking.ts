/**
 * Which pods a ReplicaSet deletes first when it has too many: upstream's ActivePodsWithRanks order
 * (kube 1.32, with PodDeletionCost and LogarithmicScaleDown on, as they are by default). The least
 * valuable come first, each rule applied in turn until one tells the two pods apart:
 *
 * 1. not assigned to a node < assigned;
 * 2. phase Pending < Unknown < Running;
 * 3. not ready < ready;
 * 4. lower `controller.kubernetes.io/pod-deletion-cost` < higher;
 * 5. more related pods on the same node (its "rank": crowded nodes) < fewer;
 * 6. both ready: ready for less time < longer (compared in power-of-two buckets of the time since,
 *    the same bucket falling back to the pod uid, so scale-down is spread and not always the newest);
 * 7. more container restarts < fewer;
 * 8. created more recently < earlier (the same buckets and uid fallback).
 */
import { parseTime } from '@k8ts/apimachinery';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady, podReadySinceMs } from '../framework/pods.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

export interface RankedPod {
  readonly pod: Pod;
  /** Active related pods on this pod's node (upstream's rank). */
  readonly rank: number;
}

/**
 * The `count` pods to delete out of `pods` (the ReplicaSet's own active pods), ranking each by the
 * active `relatedPods` on its node (upstream: the pods of every ReplicaSet with the same controller).
 */
export function podsToDelete<P extends Pod>(pods: readonly P[], relatedPods: readonly Pod[], count: number, nowMs: number): P[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const pod of relatedPods) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => compareForDeletion(a, b, nowMs));
  return ranked.slice(0, count).map((entry) => entry.pod);
}

/** Negative when `a` should be deleted before `b` (sort order of upstream's Less). */
export function compareForDeletion(a: RankedPod, b: RankedPod, nowMs: number): number {
  if (deleteFirst(a, b, nowMs)) return -1;
  if (deleteFirst(b, a, nowMs)) return 1;
  return 0;
}

/** Upstream's Less(i, j): true when `a` is the less valuable pod. */
function deleteFirst(a: RankedPod, b: RankedPod, nowMs: number): boolean {
  const nodeA = a.pod.spec?.nodeName ?? '';
  const nodeB = b.pod.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const phaseA = PHASE_ORDINAL[a.pod.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDINAL[b.pod.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  const readyA = isPodReady(a.pod);
  const readyB = isPodReady(b.pod);
  if (readyA !== readyB) return !readyA;
  const costA = deletionCost(a.pod);
  const costB = deletionCost(b.pod);
  if (costA !== costB) return costA < costB;
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (readyA && readyB) {
    const sinceA = podReadySinceMs(a.pod);
    const sinceB = podReadySinceMs(b.pod);
    if (sinceA !== sinceB) return newerInBuckets(a.pod, sinceA, b.pod, sinceB, nowMs);
  }
  const restartsA = maxContainerRestarts(a.pod);
  const restartsB = maxContainerRestarts(b.pod);
  if (restartsA !== restartsB) return restartsA > restartsB;
  // An absent or unreadable time is Go's zero time: the oldest.
  const createdA = parseTime(a.pod.metadata?.creationTimestamp) ?? 0;
  const createdB = parseTime(b.pod.metadata?.creationTimestamp) ?? 0;
  if (createdA !== createdB) return newerInBuckets(a.pod, createdA, b.pod, createdB, nowMs);
  return false;
}

/**
 * LogarithmicScaleDown: the more recent time first, where times whose age falls in the same
 * power-of-two bucket (of nanoseconds, as upstream) tie and the smaller uid goes first. A zero time
 * (unknown) counts as most recent.
 */
function newerInBuckets(a: Pod, timeA: number, b: Pod, timeB: number, nowMs: number): boolean {
  if (timeA === 0 || timeB === 0) return afterOrZero(timeA, timeB);
  const bucketDiff = ageBucket(timeA, nowMs) - ageBucket(timeB, nowMs);
  if (bucketDiff === 0) return (a.metadata?.uid ?? '') < (b.metadata?.uid ?? '');
  return bucketDiff < 0;
}

function ageBucket(timeMs: number, nowMs: number): number {
  const ageNs = (nowMs - timeMs) * 1e6;
  return ageNs > 0 ? Math.floor(Math.log2(ageNs)) : -1;
}

/** Upstream's afterOrZero: a zero time sorts first, else the later time. */
function afterOrZero(timeA: number, timeB: number): boolean {
  if (timeA === 0 || timeB === 0) return timeA === 0;
  return timeA > timeB;
}

/** The pod-deletion-cost annotation as an int32; absent or unreadable counts 0, as upstream. */
export function deletionCost(pod: Pod): number {
  const text = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return 0;
  const value = Number(text);
  return value >= -2_147_483_648 && value <= 2_147_483_647 ? value : 0;
}

function maxContainerRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((status) => status.restartCount ?? 0));
}
