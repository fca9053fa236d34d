/**
 * NodeName decides that a pod naming a node in `spec.nodeName` can only go to that node, as
 * kube-scheduler's plugin of that name. PreFilter narrows the candidates to that node (Skip when
 * the pod names none); Filter rules out every other node for good (UnschedulableAndUnresolvable).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent, EnqueueExtensions, FilterPlugin, PluginFactory, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodeName';

export const ERR_REASON = "node(s) didn't match the requested node name";

/** A pod that names no node fits any node; one that does fits only that node. */
export function fitsNodeName(pod: Pod, nodeInfo: NodeInfo): boolean {
  const wanted = pod.spec?.nodeName ?? '';
  return wanted === '' || wanted === nodeInfo.name;
}

export class NodeName implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  preFilter(_state: CycleState, pod: Pod): { result?: PreFilterResult; status: Status } {
    const wanted = pod.spec?.nodeName ?? '';
    if (wanted === '') return { status: Status.skip() };
    return { result: { nodeNames: new Set([wanted]) }, status: Status.success() };
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (nodeInfo.node === undefined) return Status.error('node not found');
    return fitsNodeName(pod, nodeInfo) ? Status.success() : Status.unresolvable(ERR_REASON);
  }

  /** Only the named node appearing (or changing) can help. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = () => new NodeName();
