/**
 * PodDisruptionBudget rules shared by the eviction subresource (API server) and the disruption
 * controller, as upstream's component-helpers/apps/poddisruptionbudget and pod utilities have them.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { matchesLabelSelector } from './labels.js';
import { formatTime } from './time.js';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
/** The reasons of the DisruptionAllowed condition. */
export const DISRUPTION_REASONS = { sufficientPods: 'SufficientPods', insufficientPods: 'InsufficientPods', syncFailed: 'SyncFailed' } as const;
/** The cause type a refused eviction's Status carries. */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';

/** Whether the budget's selector selects the pod (same namespace; a nil or unreadable selector selects nothing). */
export function budgetSelectsPod(budget: PodDisruptionBudget, pod: Pod): boolean {
  if ((budget.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return false;
  try {
    return matchesLabelSelector(budget.spec?.selector, pod.metadata?.labels);
  } catch {
    return false;
  }
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/**
 * apimeta.SetStatusCondition on a condition list: the transition time changes only when the status
 * does. Returns the new list.
 */
export function setStatusCondition(conditions: readonly Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const existing = list[index];
  if (existing === undefined) return [...list, { ...next, lastTransitionTime: formatTime(now) }];
  list[index] = { ...next, lastTransitionTime: existing.status === next.status ? existing.lastTransitionTime : formatTime(now) };
  return list;
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while disruptions are allowed, else False/InsufficientPods. */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: Date): PodDisruptionBudgetStatus {
  const allowed = status.disruptionsAllowed > 0;
  return {
    ...status,
    conditions: setStatusCondition(
      status.conditions,
      {
        type: DISRUPTION_ALLOWED_CONDITION,
        status: allowed ? 'True' : 'False',
        reason: allowed ? DISRUPTION_REASONS.sufficientPods : DISRUPTION_REASONS.insufficientPods,
        message: '',
        ...(status.observedGeneration === undefined ? {} : { observedGeneration: status.observedGeneration }),
      },
      now,
    ),
  };
}
