/**
 * The message when preemption finds no candidate, in FitError's form:
 * "0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod."
 * Nodes the dry run never tried count as "Preemption is not helpful for scheduling".
 */
import type { NodeToStatus } from '../../framework/interfaces.js';

export const NOT_HELPFUL_MESSAGE = 'Preemption is not helpful for scheduling';

export function noCandidateMessage(numAllNodes: number, nodeStatuses: NodeToStatus): string {
  const counts = new Map<string, number>();
  const count = (reason: string, n: number): void => {
    counts.set(reason, (counts.get(reason) ?? 0) + n);
  };
  for (const status of nodeStatuses.values()) for (const reason of status.reasons) count(reason, 1);
  if (nodeStatuses.size < numAllNodes) count(NOT_HELPFUL_MESSAGE, numAllNodes - nodeStatuses.size);
  // Sorted as strings, count included, as upstream does.
  const histogram = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  const head = `0/${numAllNodes} nodes are available:`;
  return histogram.length > 0 ? `${head} ${histogram.join(', ')}.` : head;
}
