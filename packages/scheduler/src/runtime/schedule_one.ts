/**
 * Choosing a node for one pod (kube's schedulePod): PreFilter, then Filter over the snapshot until
 * enough feasible nodes are found, then PreScore and Score, then the best-scored node with ties
 * broken at random. Pure over the framework's snapshot: the driver assumes, reserves and binds.
 *
 * Made for thousands of nodes per cycle: the Filter loop allocates nothing per passing node, starts
 * where the previous cycle stopped, stops early, and the best node is found in one pass (no sort).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../framework/cycle_state.js';
import type { NodeToStatus } from '../framework/interfaces.js';
import type { NodeInfo } from '../framework/node_info.js';
import { Code, Status } from '../framework/status.js';
import type { Framework, PostFilterOutcome } from './framework.js';

/** At least this many nodes are searched for feasibility, so that small clusters spread pods. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never goes below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export interface ScheduleResult {
  suggestedHost: string;
  /** Nodes Filter looked at (feasible plus rejected). */
  evaluatedNodes: number;
  feasibleNodes: number;
}

/** Why a pod fits nowhere. */
export interface Diagnosis {
  /** Every node that is not feasible, with why (nodes PreFilter excluded included). */
  readonly nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod on some node: the queue requeues it on their events. */
  readonly unschedulablePlugins: Set<string>;
  /** Set when PreFilter rejected the pod: then it stands for every node. */
  preFilterMsg: string;
  /** What PostFilter (preemption) said; set by runPostFilter. */
  postFilterMsg: string;
}

/** The pod fits on no node (kube's framework.FitError). */
export class FitError {
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {}

  get nodeToStatus(): NodeToStatus {
    return this.diagnosis.nodeToStatus;
  }

  /**
   * "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {k: v}." — each
   * reason counted over the nodes, "<count> <reason>" strings sorted as strings (as upstream, so "10 x"
   * sorts before "2 y"), the PreFilter message instead when PreFilter rejected the pod, and the
   * PostFilter message appended.
   */
  message(): string {
    const { preFilterMsg, postFilterMsg, nodeToStatus } = this.diagnosis;
    let message = `0/${this.numAllNodes} nodes are available:`;
    if (preFilterMsg !== '') {
      message += ` ${preFilterMsg}.`;
    } else {
      const counts = new Map<string, number>();
      for (const status of nodeToStatus.values()) {
        for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      const histogram = [...counts].map(([reason, count]) => `${count} ${reason}`).sort();
      if (histogram.length > 0) message += ` ${histogram.join(', ')}.`;
    }
    if (postFilterMsg !== '') message += ` ${postFilterMsg}`;
    return message;
  }
}

/** A FitError for a pod rejected on its chosen node after Filter (by Reserve or Permit), as upstream. */
export function fitErrorOnNode(pod: Pod, nodeName: string, status: Status): FitError {
  const plugins = new Set<string>(status.plugin !== undefined ? [status.plugin] : []);
  return new FitError(pod, 1, { nodeToStatus: new Map([[nodeName, status]]), unschedulablePlugins: plugins, preFilterMsg: '', postFilterMsg: '' });
}

/** A plugin failed (not the pod's fault): the pod goes to backoff. */
export class SchedulingError extends Error {
  constructor(readonly status: Status) {
    super(status.message());
    this.name = 'SchedulingError';
  }
}

/** The snapshot has no nodes; the pod is unschedulable (and unresolvable) for now. */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}

/**
 * How many feasible nodes a cycle looks for before it stops filtering (upstream's numFeasibleNodesToFind):
 * all nodes below 100; else `percentage` of them, where 0 means adaptive, 50% minus 1% per 125 nodes
 * and at least 5%; never fewer than 100.
 */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  if (percentage === 0) {
    percentage = Math.max(50 - Math.trunc(numAllNodes / 125), MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
  }
  return Math.max(Math.trunc((numAllNodes * percentage) / 100), MIN_FEASIBLE_NODES_TO_FIND);
}

/**
 * The node with the highest total; among equals each is picked with the same probability, by
 * reservoir sampling over one pass (the k-th tie replaces the pick with probability 1/k).
 */
export function selectHost(nodes: readonly NodeInfo[], totals: ArrayLike<number>, random: () => number): string {
  if (nodes.length === 0) throw new Error('empty priorityList');
  let best = 0;
  let bestScore = totals[0]!;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    const score = totals[i]!;
    if (score > bestScore) {
      best = i;
      bestScore = score;
      ties = 1;
    } else if (score === bestScore) {
      ties++;
      if (Math.floor(random() * ties) === 0) best = i;
    }
  }
  return nodes[best]!.name;
}

/** PreScore then Score over the feasible nodes; totals by index. Without Score plugins every node scores 1. */
export function prioritizeNodes(fwk: Framework, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Float64Array {
  if (!fwk.hasScorePlugins()) return new Float64Array(nodes.length).fill(1);
  const preScore = fwk.runPreScorePlugins(state, pod, nodes);
  if (!preScore.isSuccess()) throw new SchedulingError(preScore);
  const { totals, status } = fwk.runScorePlugins(state, pod, nodes);
  if (!status.isSuccess()) throw new SchedulingError(status);
  return totals;
}

/** Runs PostFilter (preemption) for a pod that fits nowhere and records its message on the FitError. */
export async function runPostFilter(fwk: Framework, state: CycleState, pod: Pod, fitError: FitError): Promise<PostFilterOutcome> {
  const outcome = await fwk.runPostFilterPlugins(state, pod, fitError.nodeToStatus);
  fitError.diagnosis.postFilterMsg = outcome.status.message();
  return outcome;
}

export interface SchedulingAlgorithmOptions {
  /** Uniform in [0, 1); Math.random by default. Inject a seeded one for reproducible runs. */
  random?: () => number;
  /** For profiles that set none; 0 (adaptive) by default. */
  percentageOfNodesToScore?: number;
}

interface FitResult {
  feasible: NodeInfo[];
  diagnosis: Diagnosis;
}

/** The scheduler-wide algorithm state: where the next cycle starts filtering, and the random source. */
export class SchedulingAlgorithm {
  /** Index into the node list where the next cycle's Filter starts, so all nodes get their turn. */
  nextStartNodeIndex = 0;
  private readonly random: () => number;
  private readonly percentageOfNodesToScore: number;

  constructor(options: SchedulingAlgorithmOptions = {}) {
    this.random = options.random ?? Math.random;
    this.percentageOfNodesToScore = options.percentageOfNodesToScore ?? 0;
  }

  /**
   * The node for `pod`, or a FitError when none fits. Throws SchedulingError when a plugin fails and
   * NoNodesAvailableError when the snapshot is empty.
   */
  schedulePod(fwk: Framework, state: CycleState, pod: Pod): ScheduleResult | FitError {
    const numAllNodes = fwk.snapshot().list().length;
    if (numAllNodes === 0) throw new NoNodesAvailableError();
    const { feasible, diagnosis } = this.findNodesThatFitPod(fwk, state, pod);
    const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.size;
    if (feasible.length === 0) return new FitError(pod, numAllNodes, diagnosis);
    if (feasible.length === 1) return { suggestedHost: feasible[0]!.name, evaluatedNodes, feasibleNodes: 1 };
    const totals = prioritizeNodes(fwk, state, pod, feasible);
    return { suggestedHost: selectHost(feasible, totals, this.random), evaluatedNodes, feasibleNodes: feasible.length };
  }

  /** PreFilter, the nominated node if the pod has one, then Filter over the candidate nodes. */
  findNodesThatFitPod(fwk: Framework, state: CycleState, pod: Pod): FitResult {
    const snapshot = fwk.snapshot();
    const allNodes = snapshot.list();
    const preFilter = fwk.runPreFilterPlugins(state, pod);
    const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set(preFilter.narrowedBy), preFilterMsg: '', postFilterMsg: '' };
    const { status } = preFilter;
    if (!status.isSuccess()) {
      if (!status.isRejected()) throw new SchedulingError(status);
      // The rejection stands for every node, so that preemption can tell whether it may help.
      for (const nodeInfo of allNodes) diagnosis.nodeToStatus.set(nodeInfo.name, status);
      diagnosis.preFilterMsg = status.message();
      if (status.plugin !== undefined) diagnosis.unschedulablePlugins.add(status.plugin);
      return { feasible: [], diagnosis };
    }

    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const feasible = this.evaluateNominatedNode(fwk, state, pod, nominated, diagnosis);
      if (feasible.length > 0) return { feasible, diagnosis };
    }

    const narrowed = preFilter.result?.nodeNames;
    let nodes = allNodes;
    if (narrowed !== undefined) {
      const candidates: NodeInfo[] = [];
      for (const name of narrowed) {
        const nodeInfo = snapshot.get(name);
        if (nodeInfo !== undefined) candidates.push(nodeInfo);
      }
      nodes = candidates;
    }
    const feasible: NodeInfo[] = [];
    try {
      this.findNodesThatPassFilters(fwk, state, pod, diagnosis, nodes, feasible);
    } finally {
      const processed = feasible.length + diagnosis.nodeToStatus.size;
      this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % allNodes.length;
    }
    if (feasible.length === 0 && narrowed !== undefined) {
      const excluded = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${[...preFilter.narrowedBy].sort().join(' ')}]`);
      for (const nodeInfo of allNodes) {
        if (!diagnosis.nodeToStatus.has(nodeInfo.name)) diagnosis.nodeToStatus.set(nodeInfo.name, excluded);
      }
    }
    return { feasible, diagnosis };
  }

  /** Filters `nodes` from the rotating start index into `feasible`, until enough are found. */
  private findNodesThatPassFilters(fwk: Framework, state: CycleState, pod: Pod, diagnosis: Diagnosis, nodes: readonly NodeInfo[], feasible: NodeInfo[]): void {
    const count = nodes.length;
    if (count === 0) return;
    const percentage = fwk.percentageOfNodesToScore ?? this.percentageOfNodesToScore;
    // Without scoring any feasible node is as good as another: the first will do.
    const wanted = fwk.hasScorePlugins() ? numFeasibleNodesToFind(percentage, count) : 1;
    let index = this.nextStartNodeIndex % count;
    if (!fwk.hasFilterPlugins()) {
      for (let i = 0; i < Math.min(wanted, count); i++) feasible.push(nodes[(index + i) % count]!);
      return;
    }
    for (let i = 0; i < count; i++) {
      const nodeInfo = nodes[index]!;
      if (++index === count) index = 0;
      const status = fwk.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
      if (status.code === Code.Success) {
        feasible.push(nodeInfo);
        if (feasible.length >= wanted) return;
      } else if (status.isRejected()) {
        diagnosis.nodeToStatus.set(nodeInfo.name, status);
        if (status.plugin !== undefined) diagnosis.unschedulablePlugins.add(status.plugin);
      } else {
        throw new SchedulingError(status);
      }
    }
  }

  /** The node preemption nominated is likely the only one that fits, so it is tried alone first. */
  private evaluateNominatedNode(fwk: Framework, state: CycleState, pod: Pod, nodeName: string, diagnosis: Diagnosis): NodeInfo[] {
    const nodeInfo = fwk.snapshot().get(nodeName);
    if (nodeInfo === undefined) return [];
    const status = fwk.hasFilterPlugins() ? fwk.runFilterPluginsWithNominatedPods(state, pod, nodeInfo) : Status.success();
    if (status.isSuccess()) return [nodeInfo];
    if (!status.isRejected()) return []; // upstream logs the error and searches all nodes
    diagnosis.nodeToStatus.set(nodeName, status);
    if (status.plugin !== undefined) diagnosis.unschedulablePlugins.add(status.plugin);
    return [];
  }
}
