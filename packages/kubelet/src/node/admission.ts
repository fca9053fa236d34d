/**
 * Pod admission as the kubelet's predicate admit handler: before a pod bound to this node starts,
 * the general predicates run against the node and the pods already active on it. A refused pod
 * gets phase Failed with the first failure's reason (the caller writes the status, upstream's
 * message being "Pod was rejected: " + `message`, and an Event of the same reason):
 *
 * - resources (upstream's order: pods, cpu, memory, ephemeral-storage): reason OutOfpods /
 *   OutOfcpu / OutOfmemory / OutOfephemeral-storage, message
 *   "Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000"
 *   (cpu in millicores, memory and storage in bytes, capacity being allocatable);
 * - NodeAffinity (nodeSelector, required node affinity), NodeName, NodePorts (a host port in use),
 *   then TaintToleration (NoExecute taints only): reason the predicate's name, message
 *   "Predicate <name> failed: <the scheduler's reason>".
 */
import { toleratesTaint } from '@k8ts/apimachinery';
import type { Container, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import { podRequests, requestsFromList } from './pod_requests.js';

export type AdmitResult = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

export interface AdmitOptions {
  /**
   * The agent runs without its own pod network: every pod shares the node's address, so a
   * container port is a host port too (a second pod on the same port is refused).
   */
  readonly podsShareNodeNetwork?: boolean;
}

interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

/** Whether `pod` may run on `node` beside `activePods` (non-terminal pods already admitted). */
export function admitPod(pod: Pod, node: Node, activePods: readonly Pod[], options: AdmitOptions = {}): AdmitResult {
  const uid = pod.metadata?.uid;
  const others = activePods.filter((other) => !(uid !== undefined ? other.metadata?.uid === uid : other.metadata?.name === pod.metadata?.name && other.metadata?.namespace === pod.metadata?.namespace));

  const shortfall = insufficientResource(pod, node, others);
  if (shortfall !== undefined) {
    return {
      admit: false,
      reason: `OutOf${shortfall.resource}`,
      message: `Node didn't have enough resource: ${shortfall.resource}, requested: ${shortfall.requested}, used: ${shortfall.used}, capacity: ${shortfall.capacity}`,
    };
  }
  const predicate = failedPredicate(pod, node, others, options);
  if (predicate !== undefined) return { admit: false, reason: predicate.name, message: `Predicate ${predicate.name} failed: ${predicate.reason}` };
  return { admit: true };
}

interface Shortfall {
  readonly resource: string;
  readonly requested: number;
  readonly used: number;
  readonly capacity: number;
}

function insufficientResource(pod: Pod, node: Node, others: readonly Pod[]): Shortfall | undefined {
  const allocatable = node.status?.allocatable as Record<string, unknown> | undefined;
  const podsAllowed = Number(allocatable?.['pods'] ?? 0);
  if (others.length + 1 > podsAllowed) return { resource: 'pods', requested: 1, used: others.length, capacity: podsAllowed };
  const capacity = requestsFromList(allocatable);
  const wanted = podRequests(pod);
  const used = { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 };
  for (const other of others) {
    const requests = podRequests(other);
    used.cpuMillis += requests.cpuMillis;
    used.memoryBytes += requests.memoryBytes;
    used.ephemeralStorageBytes += requests.ephemeralStorageBytes;
  }
  const checks: [string, keyof typeof used][] = [
    ['cpu', 'cpuMillis'],
    ['memory', 'memoryBytes'],
    ['ephemeral-storage', 'ephemeralStorageBytes'],
  ];
  for (const [resource, key] of checks) {
    if (wanted[key] > 0 && wanted[key] > capacity[key] - used[key]) return { resource, requested: wanted[key], used: used[key], capacity: capacity[key] };
  }
  return undefined;
}

function failedPredicate(pod: Pod, node: Node, others: readonly Pod[], options: AdmitOptions): { name: string; reason: string } | undefined {
  if (!matchesNodeSelector(pod, node)) return { name: 'NodeAffinity', reason: "node(s) didn't match Pod's node affinity/selector" };
  const nodeName = pod.spec?.nodeName;
  if (nodeName !== undefined && nodeName !== '' && nodeName !== node.metadata?.name) return { name: 'NodeName', reason: "node(s) didn't match the requested node name" };
  const used = others.flatMap((other) => hostPorts(other, options));
  if (hostPorts(pod, options).some((wanted) => used.some((taken) => portsConflict(taken, wanted)))) {
    return { name: 'NodePorts', reason: "node(s) didn't have free ports for the requested pod ports" };
  }
  const untolerated = (node.spec?.taints ?? []).some((taint) => taint.effect === 'NoExecute' && !(pod.spec?.tolerations ?? []).some((toleration) => toleratesTaint(toleration, taint)));
  if (untolerated) return { name: 'TaintToleration', reason: "node(s) had taints that the pod didn't tolerate" };
  return undefined;
}

/** The pod's host ports: containers' and sidecars' hostPort (every containerPort when pods share the node's network). */
function hostPorts(pod: Pod, options: AdmitOptions): HostPort[] {
  const everyPortIsHost = options.podsShareNodeNetwork === true || pod.spec?.hostNetwork === true;
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const result: HostPort[] = [];
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      const number = port.hostPort !== undefined && port.hostPort > 0 ? port.hostPort : everyPortIsHost ? port.containerPort : 0;
      if (number > 0) result.push({ ip: port.hostIP || '0.0.0.0', protocol: port.protocol || 'TCP', port: number });
    }
  }
  return result;
}

/** Same protocol and port, and overlapping addresses (0.0.0.0 overlaps every address). */
function portsConflict(a: HostPort, b: HostPort): boolean {
  return a.protocol === b.protocol && a.port === b.port && (a.ip === '0.0.0.0' || b.ip === '0.0.0.0' || a.ip === b.ip);
}

/** spec.nodeSelector and the required terms of spec.affinity.nodeAffinity (terms ORed, requirements ANDed). */
function matchesNodeSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((term) => termMatches(term, labels, node.metadata?.name ?? ''));
}

function termMatches(term: NodeSelectorTerm, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  return expressions.every((r) => requirementMatches(r, labels[r.key])) && fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, nodeName));
}

function requirementMatches(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const have = Number.parseInt(value, 10);
      const want = Number.parseInt(values[0] as string, 10);
      if (Number.isNaN(have) || Number.isNaN(want)) return false;
      return requirement.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}
