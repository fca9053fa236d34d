/**
 * Filters as preemption runs them (kube's RunFilterPluginsWithNominatedPods): the pod must fit both
 * with and without the pods already nominated to the node with equal or higher priority. Those pods
 * were promised the room first; the pod may only take what lower-priority nominees were promised.
 * Treating them as present is conservative for resources and anti-affinity, treating them as absent
 * is conservative for affinity, so both passes must succeed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import { podPriority, type Handle } from '../../framework/interfaces.js';
import { samePod, type NodeInfo } from '../../framework/node_info.js';
import { Code, Status } from '../../framework/status.js';

export function runFiltersWithNominatedPods(handle: Handle, state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
  const withNominated = addNominatedPods(handle, state, pod, nodeInfo);
  if (withNominated instanceof Status) return withNominated;
  if (withNominated === undefined) return handle.runFilterPlugins(state, pod, nodeInfo);

  const status = handle.runFilterPlugins(withNominated.state, pod, withNominated.nodeInfo);
  if (status.code !== Code.Success) return status;
  return handle.runFilterPlugins(state, pod, nodeInfo);
}

/** Copies of state and node with the nominees added; undefined when there are none. */
function addNominatedPods(handle: Handle, state: CycleState, pod: Pod, nodeInfo: NodeInfo): { state: CycleState; nodeInfo: NodeInfo } | Status | undefined {
  const nominees = handle
    .nominatedPodsForNode(nodeInfo.name)
    .filter((info) => podPriority(info.pod) >= podPriority(pod) && !samePod(info.pod, pod));
  if (nominees.length === 0) return undefined;
  const stateCopy = state.clone();
  const nodeCopy = nodeInfo.clone();
  for (const info of nominees) {
    nodeCopy.addPodInfo(info);
    const status = handle.runPreFilterExtensionAddPod(stateCopy, pod, info, nodeCopy);
    if (!status.isSuccess()) return Status.error(status.message());
  }
  return { state: stateCopy, nodeInfo: nodeCopy };
}
