/**
 * The taints the node lifecycle controller owns and how it changes a node's list of them
 * (upstream's taint templates, TaintNodesByCondition and SwapNodeControllerTaint), as pure
 * functions over taint lists.
 */
import {
  formatTime,
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
} from '@k8ts/apimachinery';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';

export const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' };
export const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };

/** Which NoSchedule taint a node condition in a given status calls for (TaintNodesByCondition). */
const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((byStatus) => Object.values(byStatus)));

/** Same key and effect: the identity of a taint on a node (upstream MatchTaint). */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function hasTaint(taints: readonly Taint[] | undefined, template: Taint): boolean {
  return (taints ?? []).some((taint) => sameTaint(taint, template));
}

/**
 * The node's taints with `add` added (stamped timeAdded = now) and `remove` removed, matched by key
 * and effect; undefined when that changes nothing. A taint to add that the node already has is kept
 * as it is — with its first timeAdded — so a controller restarted while a node is down does not
 * restart the tolerationSeconds of that node's pods (upstream re-stamps it; see the package notes).
 */
export function swapTaints(taints: readonly Taint[] | undefined, add: readonly Taint[], remove: readonly Taint[], nowMs: number): Taint[] | undefined {
  const current = taints ?? [];
  const kept = current.filter((taint) => !remove.some((gone) => sameTaint(taint, gone)));
  const added = add
    .filter((taint) => !hasTaint(kept, taint))
    .map((taint) => ({ ...taint, timeAdded: formatTime(nowMs) }));
  if (kept.length === current.length && added.length === 0) return undefined;
  return [...kept, ...added];
}

/**
 * TaintNodesByCondition: the NoSchedule taints to add and remove so the node carries exactly the
 * ones its conditions (and spec.unschedulable) call for, among the taint keys this rule owns.
 */
export function noScheduleTaintChanges(node: Node): { add: Taint[]; remove: Taint[] } {
  const wanted: Taint[] = [];
  for (const condition of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[condition.type]?.[condition.status];
    if (key !== undefined) wanted.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) wanted.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
  const owned = (node.spec?.taints ?? []).filter(
    (taint) => taint.effect === 'NoSchedule' && (taint.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(taint.key)),
  );
  return {
    add: wanted.filter((taint) => !hasTaint(owned, taint)),
    remove: owned.filter((taint) => !hasTaint(wanted, taint)),
  };
}
