/**
 * Victim selection on one node (kube's SelectVictimsOnNode): the smallest set of lower-priority pods
 * whose removal lets the preemptor pass Filter. Works on a copy of the node and of the cycle state.
 *
 * First every lower-priority pod is removed; if the preemptor still does not fit, the node cannot be
 * helped. Otherwise pods are put back one by one, most important first (budget-violating ones before
 * the others), and each stays if the preemptor still fits; the rest are the victims.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import { podPriority, type Handle } from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';
import { runFiltersWithNominatedPods } from './filter_with_nominated.js';
import { byImportance } from './importance.js';
import { groupByPdbViolation } from './pdb.js';

export const NO_VICTIMS_MESSAGE = 'No preemption victims found for incoming pod';

export interface NodeVictims {
  /** Most important first. */
  pods: Pod[];
  numPdbViolations: number;
}

/** Only lower-priority pods may be preempted. */
export function canPreempt(victim: Pod, preemptor: Pod): boolean {
  return podPriority(victim) < podPriority(preemptor);
}

/**
 * `nodeInfo` and `state` must be copies: they are changed. Success with the victims, or the status
 * that keeps this node out (UnschedulableAndUnresolvable when nothing could be preempted, the
 * failing filter's status, or Error).
 */
export function selectVictimsOnNode(handle: Handle, state: CycleState, pod: Pod, nodeInfo: NodeInfo): { victims?: NodeVictims; status: Status } {
  const remove = (info: PodInfo): Status | undefined => {
    if (!nodeInfo.removePod(info.pod)) return Status.error(`no corresponding pod ${info.pod.metadata?.name ?? ''} in pods of node ${nodeInfo.name}`);
    return extensionError(handle.runPreFilterExtensionRemovePod(state, pod, info, nodeInfo));
  };
  const add = (info: PodInfo): Status | undefined => {
    nodeInfo.addPodInfo(info);
    return extensionError(handle.runPreFilterExtensionAddPod(state, pod, info, nodeInfo));
  };

  const candidates = nodeInfo.pods.filter((info) => canPreempt(info.pod, pod));
  if (candidates.length === 0) return { status: Status.unresolvable(NO_VICTIMS_MESSAGE) };
  for (const info of candidates) {
    const error = remove(info);
    if (error) return { status: error };
  }
  const fits = runFiltersWithNominatedPods(handle, state, pod, nodeInfo);
  if (!fits.isSuccess()) return { status: fits };

  candidates.sort((a, b) => byImportance(a.pod, b.pod));
  const { violating, nonViolating } = groupByPdbViolation(candidates);
  const victims: PodInfo[] = [];
  let numPdbViolations = 0;
  /** Puts the pod back; true if it had to go again. */
  const reprieve = (info: PodInfo): boolean | Status => {
    const error = add(info);
    if (error) return error;
    if (runFiltersWithNominatedPods(handle, state, pod, nodeInfo).isSuccess()) return false;
    const removeError = remove(info);
    if (removeError) return removeError;
    victims.push(info);
    return true;
  };
  for (const info of violating) {
    const evicted = reprieve(info);
    if (evicted instanceof Status) return { status: evicted };
    if (evicted) numPdbViolations++;
  }
  for (const info of nonViolating) {
    const evicted = reprieve(info);
    if (evicted instanceof Status) return { status: evicted };
  }
  // Two groups were appended one after the other: restore one importance order.
  if (violating.length > 0 && nonViolating.length > 0) victims.sort((a, b) => byImportance(a.pod, b.pod));
  return { victims: { pods: victims.map((info) => info.pod), numPdbViolations }, status: Status.success() };
}

function extensionError(status: Status): Status | undefined {
  return status.isSuccess() ? undefined : Status.error(status.message());
}
