/**
 * Whether a pod may preempt at all (kube's PodEligibleToPreemptOthers):
 * - preemptionPolicy Never opts out;
 * - a pod already nominated to a node where a lower-priority victim is still terminating from a
 *   preemption waits for it rather than preempting more pods. If its nominated node can no longer
 *   take it at all (UnschedulableAndUnresolvable), it may preempt elsewhere.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfoLister, NodeToStatus } from '../../framework/interfaces.js';
import { Code } from '../../framework/status.js';
import { canPreempt } from './victims.js';

export const PREEMPT_NEVER_MESSAGE = 'not eligible due to preemptionPolicy=Never.';
export const TERMINATING_VICTIM_MESSAGE = 'not eligible due to a terminating pod on the nominated node.';

/** undefined when eligible, else why not. */
export function ineligibilityReason(pod: Pod, nodes: NodeInfoLister, filteredNodeStatus: NodeToStatus): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return PREEMPT_NEVER_MESSAGE;
  const nominated = pod.status?.nominatedNodeName;
  if (!nominated) return undefined;
  // A node missing from the map was ruled out before Filter: as unresolvable as it gets.
  const nominatedStatus = filteredNodeStatus.get(nominated)?.code ?? Code.UnschedulableAndUnresolvable;
  if (nominatedStatus === Code.UnschedulableAndUnresolvable) return undefined;
  const nodeInfo = nodes.get(nominated);
  if (nodeInfo?.pods.some((info) => canPreempt(info.pod, pod) && terminatingByPreemption(info.pod))) return TERMINATING_VICTIM_MESSAGE;
  return undefined;
}

/** Being deleted, and marked by the scheduler as its preemption victim (the DisruptionTarget condition). */
export function terminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  const condition = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  return condition?.status === 'True' && condition.reason === 'PreemptionByScheduler';
}
