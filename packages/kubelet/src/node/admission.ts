/**
 * Pod admission as the kubelet's predicate admit handler: before a pod bound to this node starts,
 * the general predicates run against the node and the pods already active on it, with the
 * scheduler's own checks (as upstream's kubelet calls the scheduler's plugins). A refused pod gets
 * phase Failed with the first failure's reason (the caller writes the status, upstream's message
 * being "Pod was rejected: " + `message`, and an Event of the same reason):
 *
 * - resources (upstream's order: pods, cpu, memory, ephemeral-storage, then extended resources,
 *   hugepages): reason OutOfpods / OutOfcpu / OutOfmemory / OutOfephemeral-storage /
 *   OutOf<name>, message "Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000"
 *   (cpu in millicores, the others in bytes or units, capacity being allocatable); an extended
 *   resource the node does not advertise at all is not checked (upstream leaves it to extenders);
 * - NodeAffinity (nodeSelector, required node affinity), NodeName, NodePorts (a host port in use),
 *   then TaintToleration (NoExecute taints only): reason the predicate's name, message
 *   "Predicate <name> failed: <the scheduler's reason>".
 */
import {
  NODE_AFFINITY_ERR_REASON,
  NODE_NAME_ERR_REASON,
  NODE_PORTS_ERR_REASON,
  NodeInfo,
  findUntoleratedTaint,
  fitsNodeName,
  hostPortConflicts,
  insufficientResources,
  isExtendedResourceName,
  podMatchesNodeSelectorAndAffinity,
  podRequests,
  type HostPort,
  type InsufficientResource,
} from '@k8ts/scheduler';
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';

export type AdmitResult = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

export interface AdmitOptions {
  /**
   * The agent runs without its own pod network: every pod shares the node's address, so a
   * container port is a host port too (a second pod on the same port is refused).
   */
  readonly podsShareNodeNetwork?: boolean;
}

/** Upstream's kubelet-only reason (tainttoleration.ErrReasonNoExecute). */
const NO_EXECUTE_ERR_REASON = "node(s) had taints that the pod didn't tolerate";

/** Whether `pod` may run on `node` beside `activePods` (non-terminal pods already admitted). */
export function admitPod(pod: Pod, node: Node, activePods: readonly Pod[], options: AdmitOptions = {}): AdmitResult {
  const uid = pod.metadata?.uid;
  const others = activePods.filter((other) => !(uid !== undefined ? other.metadata?.uid === uid : other.metadata?.name === pod.metadata?.name && other.metadata?.namespace === pod.metadata?.namespace));
  const nodeInfo = new NodeInfo(node, others);

  const shortfall = firstInsufficientResource(pod, nodeInfo);
  if (shortfall !== undefined) {
    return {
      admit: false,
      reason: `OutOf${shortfall.resourceName}`,
      message: `Node didn't have enough resource: ${shortfall.resourceName}, requested: ${shortfall.requested}, used: ${shortfall.used}, capacity: ${shortfall.capacity}`,
    };
  }
  const predicate = failedPredicate(pod, nodeInfo, node, others, options);
  if (predicate !== undefined) return { admit: false, reason: predicate.name, message: `Predicate ${predicate.name} failed: ${predicate.reason}` };
  return { admit: true };
}

/** NodeResourcesFit's first shortfall, ignoring extended resources the node does not advertise. */
function firstInsufficientResource(pod: Pod, nodeInfo: NodeInfo): InsufficientResource | undefined {
  const request = podRequests(pod);
  const unadvertised = new Set([...request.scalar.keys()].filter((name) => isExtendedResourceName(name) && !nodeInfo.allocatable.scalar.has(name)));
  return insufficientResources(request, nodeInfo, { names: unadvertised })[0];
}

function failedPredicate(pod: Pod, nodeInfo: NodeInfo, node: Node, others: readonly Pod[], options: AdmitOptions): { name: string; reason: string } | undefined {
  if (!podMatchesNodeSelectorAndAffinity(pod, node)) return { name: 'NodeAffinity', reason: NODE_AFFINITY_ERR_REASON };
  if (!fitsNodeName(pod, nodeInfo)) return { name: 'NodeName', reason: NODE_NAME_ERR_REASON };
  const used = others.flatMap((other) => hostPorts(other, options));
  if (hostPorts(pod, options).some((wanted) => hostPortConflicts(used, wanted))) return { name: 'NodePorts', reason: NODE_PORTS_ERR_REASON };
  // The kubelet only cares for NoExecute taints: NoSchedule ones were the scheduler's to honour.
  if (findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, (taint) => taint.effect === 'NoExecute') !== undefined) {
    return { name: 'TaintToleration', reason: NO_EXECUTE_ERR_REASON };
  }
  return undefined;
}

/**
 * The pod's host ports: containers' and sidecars' hostPort (as upstream's NodePorts since 1.33;
 * the scheduler's podHostPorts counts containers only), and every containerPort when pods share
 * the node's network or the pod uses the host's.
 */
function hostPorts(pod: Pod, options: AdmitOptions): HostPort[] {
  const everyPortIsHost = options.podsShareNodeNetwork === true || pod.spec?.hostNetwork === true;
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const result: HostPort[] = [];
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      const number = port.hostPort !== undefined && port.hostPort > 0 ? port.hostPort : everyPortIsHost ? port.containerPort : 0;
      if (number > 0) result.push({ ip: port.hostIP ?? '', protocol: port.protocol ?? '', port: number });
    }
  }
  return result;
}
