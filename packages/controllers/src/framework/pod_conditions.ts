/**
 * Pod conditions as the node controllers set them (upstream's UpdatePodCondition): the transition
 * time moves only when the status changes, and "changed" says whether anything is to be written.
 */
import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { formatTime } from '@k8ts/apimachinery';
import { podReadyCondition } from './pods.js';

export function withPodCondition(status: PodStatus | undefined, condition: Omit<PodCondition, 'lastTransitionTime'>, nowMs: number): { status: PodStatus; changed: boolean } {
  const conditions = [...(status?.conditions ?? [])];
  const index = conditions.findIndex((existing) => existing.type === condition.type);
  const old = conditions[index];
  if (old === undefined) {
    return { status: { ...status, conditions: [...conditions, { ...condition, lastTransitionTime: formatTime(nowMs) }] }, changed: true };
  }
  const lastTransitionTime = old.status === condition.status ? old.lastTransitionTime : formatTime(nowMs);
  const updated: PodCondition = { ...old, ...condition, ...(lastTransitionTime === undefined ? {} : { lastTransitionTime }) };
  const changed =
    old.status !== updated.status ||
    (old.reason ?? '') !== (updated.reason ?? '') ||
    (old.message ?? '') !== (updated.message ?? '') ||
    (old.lastProbeTime ?? null) !== (updated.lastProbeTime ?? null) ||
    old.lastTransitionTime !== updated.lastTransitionTime;
  conditions[index] = updated;
  return { status: { ...status, conditions }, changed };
}

/** The pod's status with its Ready condition False, when it has one that is not False yet (upstream's MarkPodsNotReady). */
export function notReadyStatus(pod: Pod, nowMs: number): PodStatus | undefined {
  const ready = podReadyCondition(pod);
  if (ready === undefined) return undefined;
  const { status, changed } = withPodCondition(pod.status, { ...ready, status: 'False' }, nowMs);
  return changed ? status : undefined;
}
