/**
 * PodTopologySpread decides how evenly a group of pods spreads over topology domains (zones,
 * hosts, ...), as kube-scheduler's plugin of that name:
 * - Filter (DoNotSchedule constraints): a node without the constraint's topology label is out
 *   (UnschedulableAndUnresolvable); otherwise placing the pod there must keep
 *   "pods of the group in the node's domain + 1 (if the pod is of the group) - fewest in any
 *   domain" within maxSkew (Unschedulable: preemption may even it out). With fewer domains than
 *   minDomains the fewest counts as 0.
 * - Score (ScheduleAnyway constraints): nodes in domains holding fewer of the group score higher.
 * Only nodes the constraint counts form domains: those passing the pod's nodeSelector and required
 * node affinity (nodeAffinityPolicy, default Honor) and, with nodeTaintsPolicy Honor (default
 * Ignore), whose NoSchedule/NoExecute taints the pod tolerates (NodeAffinity's and TaintToleration's
 * matching, see node_inclusion.ts). The group is the constraint's labelSelector plus the pod's values of
 * matchLabelKeys, in the pod's namespace, ignoring terminating pods.
 *
 * Default constraints, for pods without topologySpreadConstraints: args.defaultingType 'System'
 * (default) uses maxSkew 3 on kubernetes.io/hostname and 5 on topology.kubernetes.io/zone, both
 * ScheduleAnyway; 'List' uses args.defaultConstraints. Upstream selects the group of a default
 * constraint with the selectors of the Services, ReplicaSets and StatefulSets selecting the pod;
 * we have no such listers, so OUR DECISION is: the group is the pods with the same controller
 * ownerReference uid as the incoming pod, and a pod without a controller gets no default constraints.
 */
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import type { NodeInfo, PodInfo } from '../../framework/node_info.js';
import type {
  ClusterEvent,
  EnqueueExtensions,
  FilterPlugin,
  Handle,
  NodeScore,
  PluginFactory,
  PreFilterExtensions,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';
import { constraintsFor, SYSTEM_DEFAULT_CONSTRAINTS, type SpreadConstraint, type WhenUnsatisfiable } from './constraints.js';
import { buildPreFilterState, checkNode, SpreadPreFilterState } from './filtering.js';
import { buildPreScoreState, normalizeSpreadScores, scoreNode, SpreadPreScoreState } from './scoring.js';

export { SYSTEM_DEFAULT_CONSTRAINTS } from './constraints.js';

export const NAME = 'PodTopologySpread';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const PRE_FILTER_STATE_KEY = `PreFilter${NAME}`;
const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

export interface PodTopologySpreadArgs {
  defaultingType: 'System' | 'List';
  /** Used with defaultingType 'List'; labelSelector is not allowed (the group is the pod's controller's). */
  defaultConstraints: readonly TopologySpreadConstraint[];
}

export class PodTopologySpread
  implements PreFilterPlugin, PreFilterExtensions, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions
{
  readonly name = NAME;
  private readonly defaults: readonly TopologySpreadConstraint[];

  constructor(
    private readonly handle: Handle,
    private readonly args: PodTopologySpreadArgs = { defaultingType: 'System', defaultConstraints: [] },
  ) {
    this.defaults = args.defaultingType === 'System' ? SYSTEM_DEFAULT_CONSTRAINTS : args.defaultConstraints;
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status: Status } {
    const constraints = this.constraints(pod, 'DoNotSchedule');
    if (constraints instanceof Status) return { status: constraints };
    if (constraints.length === 0) return { status: Status.skip() };
    state.write(PRE_FILTER_STATE_KEY, buildPreFilterState(pod, constraints, nodes));
    return { status: Status.success() };
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    return updateWithPod(state, podToSchedule, podInfoToAdd, nodeInfo, 1);
  }

  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    return updateWithPod(state, podToSchedule, podInfoToRemove, nodeInfo, -1);
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (node === undefined) return Status.error('node not found');
    const computed = state.read<SpreadPreFilterState>(PRE_FILTER_STATE_KEY);
    if (computed === undefined) return Status.error(`reading "${PRE_FILTER_STATE_KEY}" from cycleState: not found`);
    switch (checkNode(computed, pod, node)) {
      case 'missingLabel':
        return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      case 'skewTooLarge':
        return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
      case 'fits':
        return Status.success();
    }
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    const allNodes = this.handle.snapshot().list();
    if (allNodes.length === 0) return Status.skip();
    const constraints = this.constraints(pod, 'ScheduleAnyway');
    if (constraints instanceof Status) return constraints;
    if (constraints.length === 0) return Status.skip();
    // Explicit or listed constraints need every topology key on a node; the system defaults do
    // not, so that nodes without a zone label still spread by hostname.
    const requireAllTopologies = (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || this.args.defaultingType !== 'System';
    state.write(PRE_SCORE_STATE_KEY, buildPreScoreState(pod, constraints, nodes, allNodes, requireAllTopologies));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    const computed = state.read<SpreadPreScoreState>(PRE_SCORE_STATE_KEY);
    if (computed === undefined) return { score: 0, status: Status.error(`reading "${PRE_SCORE_STATE_KEY}" from cycleState: not found`) };
    return { score: scoreNode(computed, pod, nodeInfo), status: Status.success() };
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    const computed = state.read<SpreadPreScoreState>(PRE_SCORE_STATE_KEY);
    if (computed !== undefined) normalizeSpreadScores(computed, scores);
    return Status.success();
  }

  /** Pods of the group coming, going or relabelled; nodes added, removed, relabelled or retainted. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', action: 'Add' },
      { resource: 'Pod', action: 'Update' },
      { resource: 'Pod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
      { resource: 'Node', action: 'Delete' },
    ];
  }

  private constraints(pod: Pod, action: WhenUnsatisfiable): SpreadConstraint[] | Status {
    try {
      return constraintsFor(pod, action, this.defaults);
    } catch (error) {
      const kind = action === 'DoNotSchedule' ? 'hard' : 'soft';
      return Status.error(`obtaining pod's ${kind} topology spread constraints: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function updateWithPod(state: CycleState, podToSchedule: Pod, podInfo: PodInfo, nodeInfo: NodeInfo, delta: number): Status {
  const computed = state.read<SpreadPreFilterState>(PRE_FILTER_STATE_KEY);
  // No state: PreFilter skipped this pod, so there is nothing to keep up to date.
  if (computed !== undefined && nodeInfo.node !== undefined) computed.updateWithPod(podInfo.pod, podToSchedule, nodeInfo.node, delta);
  return Status.success();
}

export const factory: PluginFactory = (args, handle) => new PodTopologySpread(handle, parseArgs(args));

function parseArgs(args: Readonly<Record<string, unknown>>): PodTopologySpreadArgs {
  const defaultingType = args['defaultingType'] ?? 'System';
  if (defaultingType !== 'System' && defaultingType !== 'List') {
    throw new Error(`defaultingType: Unsupported value: ${JSON.stringify(defaultingType)}: supported values: "System", "List"`);
  }
  const defaultConstraints = (args['defaultConstraints'] ?? []) as TopologySpreadConstraint[];
  if (!Array.isArray(defaultConstraints)) throw new Error('defaultConstraints: must be a list');
  if (defaultingType === 'System' && defaultConstraints.length > 0) {
    throw new Error('defaultingType: Invalid value: "System": when .defaultConstraints are not empty');
  }
  if (defaultConstraints.some((c) => c.labelSelector !== undefined)) {
    throw new Error('defaultConstraints.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod');
  }
  return { defaultingType, defaultConstraints };
}
