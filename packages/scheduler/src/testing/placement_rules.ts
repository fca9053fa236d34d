/**
 * Where a pod may run, as the invariant checkers judge it: a second, deliberately small statement of
 * the placement rules, written from Kubernetes' documentation and kept apart from the scheduler
 * (nothing here imports its framework, plugins or runtime). A checker that asked the scheduler's own
 * filters would share their bugs and could never object to them.
 *
 * It knows the rules the property test's workloads use: cpu, memory and pod-count requests against
 * allocatable; NoSchedule/NoExecute taints and tolerations; unschedulable nodes; nodeSelector; required
 * pod anti-affinity (label selectors, topologyKey, namespaces); host ports. A pod that uses anything
 * else that decides feasibility is refused loudly (unmodelled() names it), so that a checker never
 * judges a pod by rules it does not know. Test-only (not exported from the package).
 */
import { integerValue, milliValue, parseQuantity } from '@k8ts/apimachinery';
import type { Container, Node, Pod, PodAffinityTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/** A pod and the node it is on (undefined: a node the cluster does not have). */
export interface Placed {
  pod: Pod;
  node: Node | undefined;
}

export interface Amounts {
  milliCpu: number;
  memory: number;
}

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
const KNOWN_RESOURCES = new Set(['cpu', 'memory']);

export function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

export function nameOf(object: Pod | Node): string {
  return object.metadata?.name ?? '';
}

/** Succeeded or Failed: its containers are gone and hold nothing on the node any more. */
export function terminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** What of the pod's spec these rules do not know and that could decide where it fits; empty = all known. */
export function unmodelled(pod: Pod): string[] {
  const spec = pod.spec;
  const found: string[] = [];
  const affinity = spec?.affinity;
  if (affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) found.push('required node affinity');
  if (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution) found.push('required pod affinity');
  for (const term of affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (term.namespaceSelector) found.push('an anti-affinity namespaceSelector');
    if (term.matchLabelKeys?.length || term.mismatchLabelKeys?.length) found.push('anti-affinity matchLabelKeys');
  }
  if ((spec?.topologySpreadConstraints ?? []).some((constraint) => constraint.whenUnsatisfiable !== 'ScheduleAnyway')) found.push('hard topology spread');
  for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const name of Object.keys(container.resources?.requests ?? {})) if (!KNOWN_RESOURCES.has(name)) found.push(`a request for ${name}`);
  }
  return found;
}

/**
 * The pod's requests, as the docs define a pod's effective request: its containers' sum plus its
 * sidecars' (init containers that keep running), or, if larger, what the init phase needs at its
 * peak (each plain init container with the sidecars started before it); plus the pod's overhead.
 */
export function requestsOf(pod: Pod): Amounts {
  const running = { milliCpu: 0, memory: 0 };
  for (const container of pod.spec?.containers ?? []) add(running, containerRequests(container));
  const sidecars = { milliCpu: 0, memory: 0 };
  const initPeak = { milliCpu: 0, memory: 0 };
  for (const container of pod.spec?.initContainers ?? []) {
    const requests = containerRequests(container);
    if (container.restartPolicy === 'Always') {
      add(sidecars, requests);
      atLeast(initPeak, sidecars);
    } else {
      atLeast(initPeak, { milliCpu: sidecars.milliCpu + requests.milliCpu, memory: sidecars.memory + requests.memory });
    }
  }
  add(running, sidecars);
  atLeast(running, initPeak);
  add(running, amountsOf(pod.spec?.overhead));
  return running;
}

function containerRequests(container: Container): Amounts {
  return amountsOf(container.resources?.requests);
}

function amountsOf(list: Readonly<Record<string, string>> | undefined): Amounts {
  return {
    milliCpu: list?.['cpu'] === undefined ? 0 : milliValue(parseQuantity(list['cpu'])),
    memory: list?.['memory'] === undefined ? 0 : integerValue(parseQuantity(list['memory'])),
  };
}

function add(into: Amounts, amounts: Amounts): void {
  into.milliCpu += amounts.milliCpu;
  into.memory += amounts.memory;
}

function atLeast(into: Amounts, amounts: Amounts): void {
  into.milliCpu = Math.max(into.milliCpu, amounts.milliCpu);
  into.memory = Math.max(into.memory, amounts.memory);
}

export interface Allocatable extends Amounts {
  pods: number;
}

export function allocatableOf(node: Node): Allocatable {
  const allocatable = node.status?.allocatable;
  const pods = allocatable?.['pods'];
  return { ...amountsOf(allocatable), pods: pods === undefined ? 0 : integerValue(parseQuantity(pods)) };
}

/**
 * Why `pod` does not fit next to `others` (the pods holding room on the node) within the node's
 * allocatable, or undefined when it fits. A resource the pod does not request is not checked.
 */
export function whyNotRoom(pod: Pod, node: Node, others: readonly Pod[]): string | undefined {
  const allocatable = allocatableOf(node);
  if (others.length + 1 > allocatable.pods) return `no room for another pod (${others.length} of ${allocatable.pods})`;
  const asked = requestsOf(pod);
  const used: Amounts = { milliCpu: 0, memory: 0 };
  for (const other of others) add(used, requestsOf(other));
  if (asked.milliCpu > 0 && used.milliCpu + asked.milliCpu > allocatable.milliCpu) return `not enough cpu`;
  if (asked.memory > 0 && used.memory + asked.memory > allocatable.memory) return `not enough memory`;
  return undefined;
}

/**
 * Why the node itself refuses the pod, whoever else is on it: an untolerated NoSchedule or NoExecute
 * taint, the unschedulable mark, a nodeSelector label it lacks. Undefined when it does not.
 */
export function whyNodeRefuses(pod: Pod, node: Node): string | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerations.some((toleration) => tolerates(toleration, taint))) return `untolerated taint ${taint.key}=${taint.value ?? ''}:${taint.effect}`;
  }
  if (node.spec?.unschedulable && !tolerations.some((toleration) => tolerates(toleration, UNSCHEDULABLE_TAINT))) return 'node is unschedulable';
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[key] !== value) return `nodeSelector ${key}=${value} not matched`;
  }
  return undefined;
}

/**
 * Why `pod` on `node` and `other` on `otherNode` cannot both be where they are: a required
 * anti-affinity term of either that selects the other within one topology domain, or a host port
 * both take on the same node. Undefined when they can.
 */
export function whyNeighboursClash(pod: Pod, node: Node, other: Pod, otherNode: Node): string | undefined {
  const repelled = repels(pod, node, other, otherNode) ?? repels(other, otherNode, pod, node);
  if (repelled !== undefined) return repelled;
  if (nameOf(node) !== nameOf(otherNode)) return undefined;
  for (const port of hostPorts(pod)) {
    if (hostPorts(other).some((taken) => portsClash(port, taken))) return `host port ${port.protocol}/${port.hostPort} taken by ${keyOf(other)}`;
  }
  return undefined;
}

/**
 * Why `pod` may not be placed on `node` given what is placed already (bound pods that have not
 * terminated; the pod itself excluded): the node, a neighbour, or room. Undefined when it may.
 */
export function whyNotPlaceable(pod: Pod, node: Node, placed: readonly Placed[]): string | undefined {
  const refusal = whyNodeRefuses(pod, node);
  if (refusal !== undefined) return refusal;
  const others = placed.filter((p) => keyOf(p.pod) !== keyOf(pod));
  for (const other of others) {
    if (other.node === undefined) continue;
    const clash = whyNeighboursClash(pod, node, other.pod, other.node);
    if (clash !== undefined) return clash;
  }
  const sameNode = others.filter((other) => other.node !== undefined && nameOf(other.node) === nameOf(node));
  return whyNotRoom(
    pod,
    node,
    sameNode.map((other) => other.pod),
  );
}

// --- the rules' parts ---

/** A toleration tolerates a taint when the effects agree (empty = any) and the key and value match (Exists: any value; no key: any taint). */
function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** Whether one of `pod`'s required anti-affinity terms selects `other` in the same topology domain. */
function repels(pod: Pod, node: Node, other: Pod, otherNode: Node): string | undefined {
  for (const term of pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (!inTermNamespaces(term, pod, other) || !selects(term.labelSelector, other.metadata?.labels ?? {})) continue;
    const domain = node.metadata?.labels?.[term.topologyKey];
    if (domain !== undefined && domain === otherNode.metadata?.labels?.[term.topologyKey]) {
      return `anti-affinity of ${keyOf(pod)} with ${keyOf(other)} in ${term.topologyKey}=${domain}`;
    }
  }
  return undefined;
}

/** A term looks at the namespaces it lists, or at its own pod's namespace when it lists none. */
function inTermNamespaces(term: PodAffinityTerm, pod: Pod, other: Pod): boolean {
  if (term.namespaceSelector || term.matchLabelKeys?.length || term.mismatchLabelKeys?.length) {
    throw new Error(`placement_rules.ts does not model the anti-affinity term of ${keyOf(pod)} (namespaceSelector or matchLabelKeys)`);
  }
  const namespaces = term.namespaces?.length ? term.namespaces : [pod.metadata?.namespace ?? 'default'];
  return namespaces.includes(other.metadata?.namespace ?? 'default');
}

/** A label selector: no selector selects nothing, an empty one everything; every requirement must hold. */
function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const holds =
      operator === 'In' ? has && values.includes(labels[key]!)
      : operator === 'NotIn' ? !has || !values.includes(labels[key]!)
      : operator === 'Exists' ? has
      : operator === 'DoesNotExist' ? !has
      : false;
    if (!holds) return false;
  }
  return true;
}

interface HostPort {
  hostPort: number;
  protocol: string;
  hostIP: string;
}

function hostPorts(pod: Pod): HostPort[] {
  const containers: Container[] = pod.spec?.containers ?? [];
  return containers.flatMap((container) =>
    (container.ports ?? [])
      .filter((port) => (port.hostPort ?? 0) > 0)
      .map((port) => ({ hostPort: port.hostPort!, protocol: port.protocol ?? 'TCP', hostIP: port.hostIP || '0.0.0.0' })),
  );
}

/** The same port and protocol on addresses that overlap (0.0.0.0 overlaps every address). */
function portsClash(a: HostPort, b: HostPort): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (a.hostIP === b.hostIP || a.hostIP === '0.0.0.0' || b.hostIP === '0.0.0.0');
}
