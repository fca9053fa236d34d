/**
 * What must hold after schedulers ran against the simulated cluster, as checkers over its final state
 * and history. Each returns the violations it finds (none = holds), saying which rule broke, where
 * (a pod or node) and what was seen, so a failing property test can print them with its seed.
 * Test-only (not exported from the package).
 */
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { Snapshot } from '../cache/snapshot.js';
import { CycleState } from '../framework/cycle_state.js';
import { podKey } from '../framework/node_info.js';
import { addResource, emptyResource, podRequests, resourceFromList } from '../framework/resource.js';
import { Framework } from '../runtime/framework.js';
import { DEFAULT_SCHEDULER_NAME, profileWithDefaults } from '../runtime/profile.js';
import { SchedulingAlgorithm } from '../runtime/schedule_one.js';
import type { ClusterWriter } from '../scheduler/cluster_writer.js';
import { inTreeRegistry } from '../scheduler/in_tree_registry.js';
import type { BindingRecord } from './sim_cluster.js';

export interface Violation {
  invariant: string;
  /** The pod (namespace/name) or node concerned. */
  where: string;
  what: string;
}

/**
 * A pod is bound at most once, and keeps the node it was bound to: a second successful binding of the
 * same pod (by uid) is a violation, and so is a pod in `pods` (the final state) on another node than
 * its binding named.
 */
export function noPodBoundTwice(history: { readonly bindings: readonly BindingRecord[] }, pods: readonly Pod[] = []): Violation[] {
  const invariant = 'noPodBoundTwice';
  const violations: Violation[] = [];
  const first = new Map<string, BindingRecord>();
  for (const binding of history.bindings) {
    const id = binding.uid || binding.pod;
    const earlier = first.get(id);
    if (earlier === undefined) {
      first.set(id, binding);
      continue;
    }
    violations.push({
      invariant,
      where: binding.pod,
      what: `bound to ${earlier.node} by ${earlier.writer} at ${earlier.time}, then again to ${binding.node} by ${binding.writer} at ${binding.time}`,
    });
  }
  for (const pod of pods) {
    const binding = first.get(pod.metadata?.uid || podKey(pod));
    const nodeName = pod.spec?.nodeName ?? '';
    if (binding !== undefined && nodeName !== binding.node) {
      violations.push({ invariant, where: podKey(pod), what: `bound to ${binding.node} by ${binding.writer}, but now on "${nodeName}"` });
    }
  }
  return violations;
}

/**
 * On every node, the requests of the pods bound to it that have not terminated (phase Succeeded or
 * Failed) fit its allocatable cpu and memory, and their number its allocatable pods.
 */
export function noNodeOvercommitted(nodes: readonly Node[], pods: readonly Pod[]): Violation[] {
  const violations: Violation[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const onNode = pods.filter((pod) => pod.spec?.nodeName === name && !terminated(pod));
    const requested = emptyResource();
    for (const pod of onNode) addResource(requested, podRequests(pod));
    const allocatable = resourceFromList(node.status?.allocatable as Record<string, string> | undefined);
    const names = onNode.map((pod) => pod.metadata?.name ?? '').join(', ');
    const over = (resource: string, asked: string, room: string): void => {
      violations.push({ invariant: 'noNodeOvercommitted', where: name, what: `${resource}: ${asked} requested of ${room} allocatable (pods ${names})` });
    };
    if (requested.milliCpu > allocatable.milliCpu) over('cpu', `${requested.milliCpu}m`, `${allocatable.milliCpu}m`);
    if (requested.memory > allocatable.memory) over('memory', String(requested.memory), String(allocatable.memory));
    if (onNode.length > allocatable.allowedPodNumber) over('pods', String(onNode.length), String(allocatable.allowedPodNumber));
  }
  return violations;
}

export interface PendingCheckOptions {
  /** The pods of these schedulers are checked; default ['default-scheduler']. */
  schedulerNames?: readonly string[];
  /** For namespaceSelector terms of inter-pod affinity. */
  namespaces?: readonly Namespace[];
}

/**
 * No pod is left pending that could run: each unbound, non-terminating pod of the given schedulers is
 * run once more through the default profile's PreFilter and Filter plugins over the final state, and a
 * pod that passes on some node is a violation (a scheduler missed the event that made room for it).
 * Nominations are not counted: once everything settled, none should hold room any more.
 */
export function noSchedulablePodLeftPending(nodes: readonly Node[], pods: readonly Pod[], options: PendingCheckOptions = {}): Violation[] {
  const schedulerNames = new Set(options.schedulerNames ?? [DEFAULT_SCHEDULER_NAME]);
  const pending = pods.filter(
    (pod) => !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && schedulerNames.has(pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME),
  );
  if (pending.length === 0 || nodes.length === 0) return [];
  const snapshot = Snapshot.from(
    nodes,
    pods.filter((pod) => pod.spec?.nodeName && !terminated(pod)),
  );
  const namespaceLabels = new Map((options.namespaces ?? []).map((ns) => [ns.metadata?.name ?? '', ns.metadata?.labels ?? {}]));
  const framework = new Framework(profileWithDefaults(), inTreeRegistry(WRITES_NOTHING), {
    snapshot: () => snapshot,
    namespaceLabels: (namespace) => namespaceLabels.get(namespace),
    evictPod: async () => {},
    nominatedPodsForNode: () => [],
  });
  const algorithm = new SchedulingAlgorithm();
  const violations: Violation[] = [];
  for (const pod of pending) {
    const { feasible } = algorithm.findNodesThatFitPod(framework, new CycleState(), pod);
    if (feasible.length === 0) continue;
    const fits = feasible.map((nodeInfo) => nodeInfo.name).sort().join(', ');
    violations.push({ invariant: 'noSchedulablePodLeftPending', where: podKey(pod), what: `still pending, but fits on ${fits}` });
  }
  return violations;
}

function terminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

const WRITES_NOTHING: ClusterWriter = {
  bind: async () => {},
  updatePodSchedulingStatus: async () => {},
  clearNominatedNodeName: async () => {},
  evictPod: async () => {},
  recordEvent: () => {},
};
