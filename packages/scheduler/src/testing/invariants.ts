/**
 * What must hold after schedulers ran against the simulated cluster, as checkers over its final state
 * and history. Each returns the violations it finds (none = holds), saying which rule broke, where
 * (a pod or node) and what was seen, so a failing property test can print them with its seed.
 *
 * The checkers judge by their own statement of the rules (placement_rules.ts) and by what the
 * schedulers asked of the API (every binding attempt, refused ones included), never by the
 * scheduler's code or by what the simulated API let through: a check that shares the code under test,
 * or that the fake API enforces for it, cannot fail. Test-only (not exported from the package).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { allocatableOf, keyOf, nameOf, requestsOf, terminated, unmodelled, whyNeighboursClash, whyNodeRefuses, whyNotPlaceable, type Placed } from './placement_rules.js';
import type { BindingAttempt } from './sim_cluster.js';

export interface Violation {
  invariant: string;
  /** The pod (namespace/name) or node concerned. */
  where: string;
  what: string;
}

const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * A pod is bound at most once, judged by what the schedulers tried, not only by what the API let
 * through. Over the attempts in the order they reached the API, each of these is a violation:
 * - the API accepting a second binding of a pod (by uid);
 * - a writer trying to bind a pod it bound itself already;
 * - a writer trying again after the API told it the pod is already assigned.
 * A writer's first try at a pod another writer bound, refused with 409, is not: two replicas that both
 * believe they lead race that way, and the API's refusal is what settles it (as upstream).
 * And a pod in `pods` (the final state) sits on the node its binding named.
 */
export function noPodBoundTwice(history: { readonly attempts: readonly BindingAttempt[] }, pods: readonly Pod[] = []): Violation[] {
  const invariant = 'noPodBoundTwice';
  const violations: Violation[] = [];
  const bound = new Map<string, BindingAttempt>();
  const toldAssigned = new Map<string, Set<string>>();
  for (const attempt of history.attempts) {
    const id = attempt.uid || attempt.pod;
    const binding = bound.get(id);
    const told = toldAssigned.get(id) ?? new Set<string>();
    const tried = `tried to bind it to ${attempt.node} at ${attempt.time} (the API answered ${attempt.answer})`;
    if (binding !== undefined && attempt.answer === 'Bound') {
      violations.push({ invariant, where: attempt.pod, what: `bound to ${binding.node} by ${binding.writer} at ${binding.time}, then bound again to ${attempt.node} by ${attempt.writer} at ${attempt.time}` });
    } else if (binding !== undefined && binding.writer === attempt.writer) {
      violations.push({ invariant, where: attempt.pod, what: `${attempt.writer} bound it to ${binding.node} at ${binding.time}, then ${tried}` });
    } else if (told.has(attempt.writer)) {
      violations.push({ invariant, where: attempt.pod, what: `${attempt.writer} was told it is already assigned, then ${tried}` });
    }
    if (attempt.answer === 'Bound' && binding === undefined) bound.set(id, attempt);
    if (attempt.answer === 'AlreadyAssigned') toldAssigned.set(id, told.add(attempt.writer));
  }
  for (const pod of pods) {
    const binding = bound.get(pod.metadata?.uid || keyOf(pod));
    const nodeName = pod.spec?.nodeName ?? '';
    if (binding !== undefined && nodeName !== binding.node) {
      violations.push({ invariant, where: keyOf(pod), what: `bound to ${binding.node} by ${binding.writer}, but now on "${nodeName}"` });
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
    const name = nameOf(node);
    const onNode = pods.filter((pod) => pod.spec?.nodeName === name && !terminated(pod));
    const requested = { milliCpu: 0, memory: 0 };
    for (const pod of onNode) {
      const requests = requestsOf(pod);
      requested.milliCpu += requests.milliCpu;
      requested.memory += requests.memory;
    }
    const allocatable = allocatableOf(node);
    const names = onNode.map(nameOf).join(', ');
    const over = (resource: string, asked: string, room: string): void => {
      violations.push({ invariant: 'noNodeOvercommitted', where: name, what: `${resource}: ${asked} requested of ${room} allocatable (pods ${names})` });
    };
    if (requested.milliCpu > allocatable.milliCpu) over('cpu', `${requested.milliCpu}m`, `${allocatable.milliCpu}m`);
    if (requested.memory > allocatable.memory) over('memory', String(requested.memory), String(allocatable.memory));
    if (onNode.length > allocatable.pods) over('pods', String(onNode.length), String(allocatable.pods));
  }
  return violations;
}

/**
 * No bound pod that has not terminated is on a node it may not use: the node exists, and tolerates
 * it (taints, unschedulable) and has the labels its nodeSelector asks. Judged on the final state: for
 * runs whose nodes do not change once pods are bound to them. Throws for a pod that uses a rule
 * placement_rules.ts does not model.
 */
export function noPodOnForbiddenNode(nodes: readonly Node[], pods: readonly Pod[]): Violation[] {
  const invariant = 'noPodOnForbiddenNode';
  const violations: Violation[] = [];
  for (const { pod, node } of placedPods(nodes, pods)) {
    assertModelled(pod, invariant);
    const refusal = node === undefined ? 'no such node' : whyNodeRefuses(pod, node);
    if (refusal !== undefined) violations.push({ invariant, where: keyOf(pod), what: `on ${pod.spec?.nodeName}: ${refusal}` });
  }
  return violations;
}

/**
 * No two bound pods that have not terminated clash where they are: neither has a required
 * anti-affinity term selecting the other in their topology domain, and they take no host port twice on
 * one node. Each clashing pair is reported once. Room is noNodeOvercommitted's business.
 */
export function noPodsClashing(nodes: readonly Node[], pods: readonly Pod[]): Violation[] {
  const invariant = 'noPodsClashing';
  const violations: Violation[] = [];
  const placed = placedPods(nodes, pods).filter((p): p is { pod: Pod; node: Node } => p.node !== undefined);
  placed.forEach(({ pod, node }, index) => {
    assertModelled(pod, invariant);
    for (const other of placed.slice(index + 1)) {
      const clash = whyNeighboursClash(pod, node, other.pod, other.node);
      if (clash !== undefined) violations.push({ invariant, where: keyOf(pod), what: `on ${nameOf(node)}, with ${keyOf(other.pod)} on ${nameOf(other.node)}: ${clash}` });
    }
  });
  return violations;
}

export interface PendingCheckOptions {
  /** The pods of these schedulers are checked; default ['default-scheduler']. */
  schedulerNames?: readonly string[];
}

/**
 * No pod is left pending that could run: each unbound, non-terminating pod of the given schedulers is
 * placed, alone, against the final state by placement_rules.ts, and a pod that some node would take
 * is a violation (a scheduler missed the event that made room for it). Nominations are not counted:
 * once everything settled, none should hold room any more. Throws for a pod that uses a rule
 * placement_rules.ts does not model, rather than guess.
 */
export function noSchedulablePodLeftPending(nodes: readonly Node[], pods: readonly Pod[], options: PendingCheckOptions = {}): Violation[] {
  const invariant = 'noSchedulablePodLeftPending';
  const schedulerNames = new Set(options.schedulerNames ?? [DEFAULT_SCHEDULER_NAME]);
  const pending = pods.filter(
    (pod) => !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && schedulerNames.has(pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME),
  );
  const placed = placedPods(nodes, pods);
  const violations: Violation[] = [];
  for (const pod of pending) {
    assertModelled(pod, invariant);
    const fits = nodes.filter((node) => whyNotPlaceable(pod, node, placed) === undefined).map(nameOf).sort();
    if (fits.length > 0) violations.push({ invariant, where: keyOf(pod), what: `still pending, but fits on ${fits.join(', ')}` });
  }
  return violations;
}

/** Bound pods that have not terminated (terminating ones still hold their place), with their nodes. */
function placedPods(nodes: readonly Node[], pods: readonly Pod[]): Placed[] {
  const byName = new Map(nodes.map((node) => [nameOf(node), node]));
  return pods.filter((pod) => pod.spec?.nodeName && !terminated(pod)).map((pod) => ({ pod, node: byName.get(pod.spec!.nodeName!) }));
}

function assertModelled(pod: Pod, invariant: string): void {
  const unknown = unmodelled(pod);
  if (unknown.length > 0) throw new Error(`${invariant} cannot judge ${keyOf(pod)}: placement_rules.ts does not model ${unknown.join(', ')}`);
}
