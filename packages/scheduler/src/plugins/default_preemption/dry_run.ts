/**
 * The dry run (kube's findCandidates + DryRunPreemption): which nodes preemption could help, and on
 * which of them, with which victims, the preemptor would fit. Nodes are tried from a random offset
 * (so that repeated preemptions spread over the cluster) until enough candidates are found.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import type { Handle, NodeToStatus } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Code, Status } from '../../framework/status.js';
import { selectVictimsOnNode, type NodeVictims } from './victims.js';

export interface Candidate {
  nodeName: string;
  victims: NodeVictims;
}

export interface DryRunResult {
  /** Candidates violating no budget first, then the others. */
  candidates: Candidate[];
  /** Why each node tried and not kept is out. */
  nodeStatuses: NodeToStatus;
  /** Messages of Error statuses met on the way. */
  errors: string[];
}

/**
 * Nodes whose Filter status is Unschedulable, in snapshot order. UnschedulableAndUnresolvable nodes,
 * and nodes absent from the map (PreFilter already ruled them out), cannot be helped by removing pods.
 */
export function nodesPreemptionMayHelp(nodes: readonly NodeInfo[], filteredNodeStatus: NodeToStatus): NodeInfo[] {
  return nodes.filter((nodeInfo) => filteredNodeStatus.get(nodeInfo.name)?.code === Code.Unschedulable);
}

/**
 * Tries `nodes` starting at `offset` (wrapping around) and stops once it has `wanted` candidates,
 * at least one of them violating no budget.
 */
export function dryRunPreemption(handle: Handle, state: CycleState, pod: Pod, nodes: readonly NodeInfo[], offset: number, wanted: number): DryRunResult {
  const nonViolating: Candidate[] = [];
  const violating: Candidate[] = [];
  const nodeStatuses: NodeToStatus = new Map();
  const errors: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const nodeInfo = nodes[(offset + i) % nodes.length]!;
    const { victims, status: selected } = selectVictimsOnNode(handle, state.clone(), pod, nodeInfo.clone());
    if (selected.isSuccess() && victims !== undefined && victims.pods.length > 0) {
      const list = victims.numPdbViolations === 0 ? nonViolating : violating;
      if (list.length < wanted) list.push({ nodeName: nodeInfo.name, victims });
      if (nonViolating.length > 0 && nonViolating.length + violating.length >= wanted) break;
      continue;
    }
    const status = selected.isSuccess() ? Status.error(`expected at least one victim pod on node "${nodeInfo.name}"`) : selected;
    if (status.code === Code.Error) errors.push(status.message());
    nodeStatuses.set(nodeInfo.name, status);
  }
  return { candidates: [...nonViolating, ...violating], nodeStatuses, errors };
}
