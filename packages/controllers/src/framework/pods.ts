/**
 * Small rules about pods the controllers read, as upstream's podutil and controller helpers have
 * them (IsPodActive, IsPodTerminal, IsPodReady, IsPodAvailable).
 */
import { parseTime } from '@k8ts/apimachinery';
import type { KubeObject } from '@k8ts/client';
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';

export type PodObject = Pod & KubeObject;

/** Not finished (Succeeded/Failed) and not being deleted: a pod that counts as a replica. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.deletionTimestamp === undefined;
}

/** Succeeded or Failed: its containers stopped for good; the pod will not run again. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podReadyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** When the pod's Ready condition turned True, if it is ready (0 when unknown or not ready). */
export function podReadySinceMs(pod: Pod): number {
  return isPodReady(pod) ? (parseTime(podReadyCondition(pod)?.lastTransitionTime) ?? 0) : 0;
}

/**
 * Ready for longer than minReadySeconds (upstream: the condition's lastTransitionTime plus
 * minReadySeconds strictly before now); with minReadySeconds 0, ready is available.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySinceMs(pod);
  return since !== 0 && since + minReadySeconds * 1000 < nowMs;
}
