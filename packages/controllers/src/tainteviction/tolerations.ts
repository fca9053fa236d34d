/**
 * Which NoExecute taints a pod tolerates and for how long (upstream GetMatchingTolerations and
 * getMinTolerationTime), as pure functions; whether one toleration tolerates one taint is
 * apimachinery's toleratesTaint.
 */
import { toleratesTaint } from '@k8ts/apimachinery';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

export function noExecuteTaints(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((taint) => taint.effect === 'NoExecute');
}

/** When a pod on a node with these NoExecute taints is to be evicted. */
export type EvictionDecision = { readonly kind: 'never' } | { readonly kind: 'at'; readonly atMs: number };

/**
 * The eviction time of a pod: at once (the taint's own time) when some taint is not tolerated;
 * otherwise, for each taint, the first toleration that tolerates it bounds the pod's stay to its
 * tolerationSeconds after the taint was added (0 or less: at once; unset: no bound), and the
 * earliest bound wins; with no bound at all the pod stays. `addedMs` gives each taint's timeAdded
 * (or when the controller first saw it, for a taint written without one).
 */
export function evictionTime(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined, addedMs: (taint: Taint) => number): EvictionDecision {
  let earliest: number | undefined;
  for (const taint of taints) {
    const toleration = (tolerations ?? []).find((candidate) => toleratesTaint(candidate, taint));
    let bound: number | undefined;
    if (toleration === undefined) bound = addedMs(taint);
    else if (typeof toleration.tolerationSeconds === 'number') bound = addedMs(taint) + Math.max(0, toleration.tolerationSeconds) * 1000;
    if (bound !== undefined && (earliest === undefined || bound < earliest)) earliest = bound;
  }
  return earliest === undefined ? { kind: 'never' } : { kind: 'at', atMs: earliest };
}
