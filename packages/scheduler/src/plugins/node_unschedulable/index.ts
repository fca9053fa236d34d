/**
 * NodeUnschedulable decides that a cordoned node (`spec.unschedulable`, as `kubectl cordon` sets)
 * takes no new pods, except pods that tolerate the node.kubernetes.io/unschedulable:NoSchedule
 * taint (DaemonSet pods do), as kube-scheduler's plugin of that name. Preemption cannot help, so
 * the rejection is UnschedulableAndUnresolvable.
 */
import { TAINT_NODE_UNSCHEDULABLE } from '@k8ts/apimachinery';
import type { Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent, EnqueueExtensions, FilterPlugin, PluginFactory } from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';
import { tolerates } from '../taint_toleration/index.js';

export const NAME = 'NodeUnschedulable';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
/** The NodeInfo has no Node (it was deleted while pods still point at it). */
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' };

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (node === undefined) return Status.unresolvable(ERR_REASON_UNKNOWN_CONDITION);
    if (!node.spec?.unschedulable) return Status.success();
    // Tolerating the taint a cordon stands for is tolerating the cordon itself.
    if (tolerates(pod.spec?.tolerations, UNSCHEDULABLE_TAINT)) return Status.success();
    return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  }

  /** A node added or uncordoned; the pod itself updated (it may have gained the toleration). */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
      { resource: 'Pod', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = () => new NodeUnschedulable();
