/**
 * The scheduler framework's extension points, after kube-scheduler's framework (read for the ideas).
 *
 * One pod's scheduling cycle calls, in order:
 *   PreFilter   once per pod: compute what Filter needs into CycleState; may narrow the candidate
 *               nodes (PreFilterResult) or say the pod cannot fit anywhere (Unschedulable*). Skip =
 *               this plugin's Filter is not called for the pod.
 *   Filter      per node, in any order and concurrently in spirit: Success or why the node is out.
 *               Must not change anything; reads the NodeInfo and CycleState only.
 *   PostFilter  only when no node passed Filter: e.g. preemption, which may nominate a node.
 *   PreScore    once, with the nodes that passed: precompute for Score. Skip = no Score call.
 *   Score       per passing node: an integer; NormalizeScore then maps a plugin's scores into
 *               [0, MAX_NODE_SCORE]. The runtime multiplies by the plugin's weight and sums.
 *   Reserve     the chosen node is assumed: plugins that keep state update it; Unreserve undoes it
 *               when a later step fails (Unreserve must be idempotent).
 *   Permit      may approve, deny or hold (Wait) the pod before binding.
 *   Bind        writes the binding; the first Bind plugin that does not Skip wins.
 * Filter and Score are synchronous and pure over their inputs, so one cycle can run them over
 * thousands of nodes quickly; only PostFilter, Permit and Bind may do I/O.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from './cycle_state.js';
import type { NodeInfo, PodInfo } from './node_info.js';
import type { Status } from './status.js';

/** Scores are normalized into [0, MAX_NODE_SCORE] before weighting. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

export interface Plugin {
  readonly name: string;
}

/** Nodes PreFilter allows; undefined = all nodes. Several results intersect. */
export interface PreFilterResult {
  nodeNames?: ReadonlySet<string>;
}

/** Incremental updates of a plugin's PreFilter state when preemption adds or removes a pod. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status: Status };
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

/** Why each node was filtered out, by node name. */
export type NodeToStatus = Map<string, Status>;

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface ScoreExtensions {
  /** Rewrites `scores` in place into [MIN_NODE_SCORE, MAX_NODE_SCORE]. */
  normalizeScore(state: CycleState, pod: Pod, scores: NodeScore[]): Status;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status };
  scoreExtensions?(): ScoreExtensions | undefined;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string): { status: Status; timeoutMs: number };
}

export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

/**
 * A change in the cluster that may make a rejected pod schedulable. A plugin that rejects pods lists
 * the events that can undo its rejections (EnqueueExtensions); the queue moves a pod out of the
 * unschedulable set only on an event one of its rejecting plugins registered.
 */
export interface ClusterEvent {
  resource: 'Pod' | 'Node';
  action: 'Add' | 'Update' | 'Delete';
}

export interface EnqueueExtensions {
  eventsToRegister(): ClusterEvent[];
}

/** Read access to the cycle's snapshot of nodes (kube's SharedLister.NodeInfos()). */
export interface NodeInfoLister {
  list(): readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has pod affinity or anti-affinity. */
  havePodsWithAffinityList(): readonly NodeInfo[];
  /** Nodes with at least one pod that has required pod anti-affinity. */
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[];
}

/** What the framework gives plugins (kube's framework.Handle). */
export interface Handle {
  /** The snapshot the current cycle decides on. */
  snapshot(): NodeInfoLister;
  /** Labels of a namespace (for namespaceSelector in pod affinity terms); undefined if unknown. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /** Runs every Filter plugin of the profile on one node, stopping at the first rejection (preemption). */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
  /** Calls every PreFilterExtensions.addPod (preemption putting a pod back on a node). */
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  /** Calls every PreFilterExtensions.removePod (preemption trying a node without a victim). */
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
  /** Deletes a preemption victim through the API (after adding its DisruptionTarget condition). */
  evictPod(victim: Pod, preemptor: Pod): Promise<void>;
  /** Pods nominated to a node by earlier preemptions and not bound yet. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
}

export type PluginFactory = (args: Readonly<Record<string, unknown>>, handle: Handle) => Plugin;

/** The pod's priority (admission fills spec.priority from its PriorityClass; none = 0). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}
