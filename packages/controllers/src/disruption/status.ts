/**
 * A PodDisruptionBudget's status from its pods, as kube-controller-manager's disruption controller
 * computes it (pkg/controller/disruption):
 *
 * - expectedPods and desiredHealthy: with an integer minAvailable, the selected pods' count and that
 *   integer; with a percentage minAvailable or any maxUnavailable, the scale of the pods' controllers
 *   (a Deployment's replicas for its ReplicaSets' pods, a ReplicaSet's own), with the percentage
 *   rounded up; desiredHealthy = expected - maxUnavailable, never below 0. A pod with no controller
 *   is counted as unmanaged (a Warning upstream); a controller that cannot be found fails the sync.
 * - disruptedPods: the entries the eviction API wrote, kept while their pod exists, is not yet being
 *   deleted and the entry is younger than DELETION_TIMEOUT_MS (older: the pod was not deleted after
 *   all; the next check is due when the youngest kept entry expires).
 * - currentHealthy: selected pods that are Ready, not being deleted and not in disruptedPods.
 * - disruptionsAllowed = currentHealthy - desiredHealthy, and 0 when that is negative or no pods are
 *   expected; observedGeneration the budget's generation; the DisruptionAllowed condition follows.
 */
import { DISRUPTION_REASONS, formatTime, isPodReady, parseTime, setStatusCondition, withDisruptionAllowedCondition, DISRUPTION_ALLOWED_CONDITION } from '@k8ts/apimachinery';
import type { KubeObject } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

export type BudgetObject = PodDisruptionBudget & KubeObject;

/** Upstream's DeletionTimeout: an eviction not followed by the pod's deletion within it is forgotten. */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/** A sync that cannot compute the status: the budget then allows no disruption (SyncFailed). */
export class BudgetSyncError extends Error {}

/** The scale of a pod's controller (its desired replicas), or undefined when the controller is unknown. */
export type ScaleOf = (namespace: string, owner: OwnerReference) => number | undefined;

export interface BudgetComputation {
  readonly status: PodDisruptionBudgetStatus;
  /** Names of selected pods with no controller (only when the scale of controllers was needed). */
  readonly unmanagedPods: readonly string[];
  /** disruptedPods entries dropped because the pod was not deleted in time. */
  readonly notDeleted: readonly string[];
  /** When to compute again because a disruptedPods entry expires then (ms since the epoch). */
  readonly recheckAtMs: number | undefined;
}

/** An int, or "N%" of `total` rounded up (intstr.GetScaledValueFromIntOrPercent with roundUp). */
export function scaledUp(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (match === null) throw new BudgetSyncError(`invalid value for IntOrString: invalid value "${value}"`);
  return Math.ceil((Number(match[1]) * total) / 100);
}

export function computeBudgetStatus(budget: BudgetObject, pods: readonly Pod[], scaleOf: ScaleOf, nowMs: number): BudgetComputation {
  const { expectedPods, desiredHealthy, unmanagedPods } = expectedCounts(budget, pods, scaleOf);
  const { disruptedPods, notDeleted, recheckAtMs } = keptDisruptions(budget, pods, nowMs);
  let currentHealthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp !== undefined) continue;
    if (Object.hasOwn(disruptedPods, pod.metadata?.name ?? '')) continue;
    if (isPodReady(pod)) currentHealthy++;
  }
  const allowed = currentHealthy - desiredHealthy;
  const status: PodDisruptionBudgetStatus = {
    ...budget.status,
    observedGeneration: budget.metadata?.generation ?? 0,
    currentHealthy,
    desiredHealthy,
    expectedPods,
    disruptionsAllowed: expectedPods <= 0 || allowed <= 0 ? 0 : allowed,
    disruptedPods,
  };
  if (Object.keys(disruptedPods).length === 0) delete (status as { disruptedPods?: unknown }).disruptedPods;
  return { status: withDisruptionAllowedCondition(status, new Date(nowMs)), unmanagedPods, notDeleted, recheckAtMs };
}

/** The status of a budget whose sync failed: no disruption allowed, the reason in its condition. */
export function failSafeStatus(budget: BudgetObject, message: string, nowMs: number): PodDisruptionBudgetStatus {
  const status = budget.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 };
  return {
    ...status,
    disruptionsAllowed: 0,
    conditions: setStatusCondition(
      status.conditions,
      {
        type: DISRUPTION_ALLOWED_CONDITION,
        status: 'False',
        reason: DISRUPTION_REASONS.syncFailed,
        message,
        ...(status.observedGeneration === undefined ? {} : { observedGeneration: status.observedGeneration }),
      },
      new Date(nowMs),
    ),
  };
}

function expectedCounts(budget: BudgetObject, pods: readonly Pod[], scaleOf: ScaleOf): { expectedPods: number; desiredHealthy: number; unmanagedPods: string[] } {
  const spec = budget.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const { expected, unmanaged } = expectedScale(budget, pods, scaleOf);
    const maxUnavailable = scaledUp(spec.maxUnavailable, expected);
    return { expectedPods: expected, desiredHealthy: Math.max(0, expected - maxUnavailable), unmanagedPods: unmanaged };
  }
  if (typeof spec.minAvailable === 'number') return { expectedPods: pods.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
  if (typeof spec.minAvailable === 'string') {
    const { expected, unmanaged } = expectedScale(budget, pods, scaleOf);
    return { expectedPods: expected, desiredHealthy: scaledUp(spec.minAvailable, expected), unmanagedPods: unmanaged };
  }
  // Validation refuses a budget with neither; upstream then expects nothing.
  return { expectedPods: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/** The sum of the scales of the pods' controllers, each counted once. */
function expectedScale(budget: BudgetObject, pods: readonly Pod[], scaleOf: ScaleOf): { expected: number; unmanaged: string[] } {
  const namespace = budget.metadata?.namespace ?? '';
  const counted = new Map<string, number>();
  const unmanaged: string[] = [];
  for (const pod of pods) {
    const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
    if (owner === undefined) {
      unmanaged.push(pod.metadata?.name ?? '');
      continue;
    }
    if (counted.has(owner.uid)) continue;
    const scale = scaleOf(namespace, owner);
    if (scale === undefined) throw new BudgetSyncError(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
    counted.set(owner.uid, scale);
  }
  let expected = 0;
  for (const scale of counted.values()) expected += scale;
  return { expected, unmanaged };
}

function keptDisruptions(budget: BudgetObject, pods: readonly Pod[], nowMs: number): { disruptedPods: Record<string, string>; notDeleted: string[]; recheckAtMs: number | undefined } {
  const recorded = budget.status?.disruptedPods ?? {};
  const disruptedPods: Record<string, string> = {};
  const notDeleted: string[] = [];
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (!Object.hasOwn(recorded, name) || pod.metadata?.deletionTimestamp !== undefined) continue;
    const since = parseTime(recorded[name]);
    if (since === undefined) continue;
    const expires = since + DELETION_TIMEOUT_MS;
    if (expires < nowMs) {
      notDeleted.push(name);
      continue;
    }
    disruptedPods[name] = formatTime(since);
    recheckAtMs = recheckAtMs === undefined ? expires : Math.min(recheckAtMs, expires);
  }
  return { disruptedPods, notDeleted, recheckAtMs };
}

/** Whether writing `next` would change nothing (upstream skips the write then). */
export function statusUnchanged(budget: BudgetObject, next: PodDisruptionBudgetStatus): boolean {
  const current = budget.status;
  if (current === undefined) return false;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return (
    current.currentHealthy === next.currentHealthy &&
    current.desiredHealthy === next.desiredHealthy &&
    current.expectedPods === next.expectedPods &&
    current.disruptionsAllowed === next.disruptionsAllowed &&
    current.observedGeneration === next.observedGeneration &&
    same(sortedKeys(current.disruptedPods), sortedKeys(next.disruptedPods)) &&
    same(current.conditions, next.conditions)
  );
}

function sortedKeys(map: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Upstream's stalePodDisruptionTimeout: a DisruptionTarget condition on a pod still not being deleted after it is reset. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * For a pod marked DisruptionTarget=True (by an eviction) that is not being deleted: in how many ms
 * the mark is stale (0 or less: now). Undefined for any other pod.
 */
export function staleDisruptionInMs(pod: Pod, nowMs: number): number | undefined {
  if (pod.metadata?.deletionTimestamp !== undefined) return undefined;
  const condition = pod.status?.conditions?.find((candidate) => candidate.type === 'DisruptionTarget');
  if (condition?.status !== 'True') return undefined;
  const since = parseTime(condition.lastTransitionTime) ?? 0;
  return since + STALE_POD_DISRUPTION_TIMEOUT_MS - nowMs;
}
