/**
 * NodePorts decides whether a node still has the host ports a pod asks for, as kube-scheduler's
 * plugin of that name. Ports conflict when protocol and port are equal and the host IPs overlap:
 * 0.0.0.0 (every address) overlaps any IP, a specific IP only itself and 0.0.0.0. PreFilter
 * collects the pod's host ports (Skip when it asks for none); Filter rejects a node where one is
 * taken (Unschedulable: evicting the pod holding it would free it).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent, EnqueueExtensions, FilterPlugin, PluginFactory, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle_state.js';
import { podHostPorts, type HostPort, type NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodePorts';

export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const PRE_FILTER_KEY = `PreFilter${NAME}`;

/** Binding to every address of the node. */
export const BIND_ALL_HOST_IP = '0.0.0.0';

class PreFilterState implements StateData {
  constructor(readonly ports: readonly HostPort[]) {}
  // The pod's own ports do not change when other pods come and go.
  clone(): StateData {
    return this;
  }
}

/** An empty IP binds every address; an empty protocol is TCP. */
function sanitized(port: HostPort): HostPort {
  return { ip: port.ip || BIND_ALL_HOST_IP, protocol: port.protocol || 'TCP', port: port.port };
}

/** Whether `wanted` collides with any of the ports in use. */
export function hostPortConflicts(used: readonly HostPort[], wanted: HostPort): boolean {
  if (wanted.port <= 0) return false;
  const want = sanitized(wanted);
  return used.some((entry) => {
    const taken = sanitized(entry);
    if (taken.protocol !== want.protocol || taken.port !== want.port) return false;
    return want.ip === BIND_ALL_HOST_IP || taken.ip === BIND_ALL_HOST_IP || taken.ip === want.ip;
  });
}

/** Whether none of the ports is taken on the node. */
export function fitsPorts(ports: readonly HostPort[], nodeInfo: NodeInfo): boolean {
  return !ports.some((port) => hostPortConflicts(nodeInfo.usedPorts, port));
}

/** Whether the node has every host port the pod asks for. */
export function podFitsPorts(pod: Pod, nodeInfo: NodeInfo): boolean {
  return fitsPorts(podHostPorts(pod), nodeInfo);
}

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status: Status } {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return { status: Status.skip() };
    state.write(PRE_FILTER_KEY, new PreFilterState(ports));
    return { status: Status.success() };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const ports = state.read<PreFilterState>(PRE_FILTER_KEY)?.ports ?? podHostPorts(pod);
    return fitsPorts(ports, nodeInfo) ? Status.success() : Status.unschedulable(ERR_REASON);
  }

  /** A pod deleted frees its ports; a node added (or changed) may have them free. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = () => new NodePorts();
