/**
 * PodDisruptionBudgets in preemption: victims whose eviction would take a budget below zero are
 * "violating"; the dry run tries hardest to spare them and prefers nodes with fewer of them.
 *
 * SEAM: k8ts has no PodDisruptionBudget objects yet, so no victim ever violates one. When PDBs exist,
 * only this function changes: group by each matching budget's status.disruptionsAllowed (counting
 * down per matching pod, skipping pods already in status.disruptedPods), keeping the input order.
 */
import type { PodInfo } from '../../framework/node_info.js';

export interface PdbGroups {
  violating: PodInfo[];
  nonViolating: PodInfo[];
}

/** Splits `podInfos` (order kept) by whether evicting them would violate a budget: today, never. */
export function groupByPdbViolation(podInfos: readonly PodInfo[]): PdbGroups {
  return { violating: [], nonViolating: [...podInfos] };
}
