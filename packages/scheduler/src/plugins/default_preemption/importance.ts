/**
 * Which pods matter more when choosing victims: higher priority first, then the pod that has been
 * running longer (kube's util.MoreImportantPod).
 */
import { parseTime } from '@k8ts/apimachinery';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podPriority } from '../../framework/interfaces.js';

/**
 * status.startTime in ms. A pod that has not started yet (assumed, or bound and still pending) counts
 * as starting now: later than every started pod.
 */
export function podStartTime(pod: Pod): number {
  return parseTime(pod.status?.startTime) ?? Number.POSITIVE_INFINITY;
}

/** True when `a` should be spared before `b`. */
export function moreImportantPod(a: Pod, b: Pod): boolean {
  const priorityA = podPriority(a);
  const priorityB = podPriority(b);
  if (priorityA !== priorityB) return priorityA > priorityB;
  return podStartTime(a) < podStartTime(b);
}

/** A comparator for Array.sort: most important first. */
export function byImportance(a: Pod, b: Pod): number {
  if (moreImportantPod(a, b)) return -1;
  if (moreImportantPod(b, a)) return 1;
  return 0;
}

/** The earliest start among the victims of the highest priority (victims are non-empty). */
export function earliestStartOfTopVictims(victims: readonly Pod[]): number {
  let topPriority = Number.NEGATIVE_INFINITY;
  let earliest = Number.POSITIVE_INFINITY;
  for (const victim of victims) {
    const priority = podPriority(victim);
    if (priority > topPriority) {
      topPriority = priority;
      earliest = podStartTime(victim);
    } else if (priority === topPriority) {
      earliest = Math.min(earliest, podStartTime(victim));
    }
  }
  return earliest;
}
