/**
 * InterPodAffinity decides where a pod may and should run relative to the pods already placed, as
 * kube-scheduler's plugin of that name:
 * - Filter: every required podAffinity term must find a matching pod in the node's domain of the
 *   term's topologyKey (UnschedulableAndUnresolvable otherwise: evicting pods cannot create one),
 *   except the first pod of a group with affinity to itself; no required podAntiAffinity term may
 *   find one (Unschedulable: preemption may evict it); and no existing pod's required
 *   anti-affinity may select the incoming pod in the node's domains (the symmetric check).
 * - Score: preferred terms of both pods add (affinity) or subtract (anti-affinity) their weights,
 *   and existing pods' required affinity adds hardPodAffinityWeight; normalized min..max to 0..100.
 * Terms select pods by labelSelector within their namespaces (the term's own pod's namespace by
 * default, the listed ones, or those whose labels match namespaceSelector).
 *
 * Args: hardPodAffinityWeight (0..100, default 1), ignorePreferredTermsOfExistingPods (default false).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
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
import {
  AffinityPreFilterState,
  buildPreFilterState,
  satisfiesExistingPodsAntiAffinity,
  satisfiesPodAffinity,
  satisfiesPodAntiAffinity,
} from './filtering.js';
import { AffinityPreScoreState, buildTopologyScore, normalizeAffinityScores } from './scoring.js';
import { affinityTermsOf, memoizeNamespaceLabels, type NamespaceLabelsOf, type PodAffinityTerms } from './terms.js';

export const NAME = 'InterPodAffinity';

export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

const PRE_FILTER_STATE_KEY = `PreFilter${NAME}`;
const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

export interface InterPodAffinityArgs {
  hardPodAffinityWeight: number;
  ignorePreferredTermsOfExistingPods: boolean;
}

export class InterPodAffinity
  implements PreFilterPlugin, PreFilterExtensions, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions
{
  readonly name = NAME;

  constructor(
    private readonly handle: Handle,
    private readonly args: InterPodAffinityArgs = { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false },
  ) {}

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status: Status } {
    const terms = parseTerms(pod);
    if (terms instanceof Status) return { status: terms };
    const withAntiAffinity = this.handle.snapshot().havePodsWithRequiredAntiAffinityList();
    const computed = buildPreFilterState(pod, terms, nodes, withAntiAffinity, this.namespaceLabels());
    const nothingToCheck =
      computed.existingAntiAffinityCounts.size === 0 && terms.requiredAffinity.length === 0 && terms.requiredAntiAffinity.length === 0;
    if (nothingToCheck) return { status: Status.skip() };
    state.write(PRE_FILTER_STATE_KEY, computed);
    return { status: Status.success() };
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, _podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    return this.updateWithPod(state, podInfoToAdd, nodeInfo, 1);
  }

  removePod(state: CycleState, _podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    return this.updateWithPod(state, podInfoToRemove, nodeInfo, -1);
  }

  private updateWithPod(state: CycleState, podInfo: PodInfo, nodeInfo: NodeInfo, delta: number): Status {
    const computed = state.read<AffinityPreFilterState>(PRE_FILTER_STATE_KEY);
    // No state: PreFilter skipped this pod, so there is nothing to keep up to date.
    if (computed === undefined || nodeInfo.node === undefined) return Status.success();
    computed.updateWithPod(podInfo.pod, nodeInfo.node, delta, this.namespaceLabels());
    return Status.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const computed = state.read<AffinityPreFilterState>(PRE_FILTER_STATE_KEY);
    if (computed === undefined) return Status.error(`reading "${PRE_FILTER_STATE_KEY}" from cycleState: not found`);
    const node = nodeInfo.node;
    if (node === undefined) return Status.error('node not found');
    const labels = node.metadata?.labels ?? {};
    if (!satisfiesPodAffinity(computed, labels)) return Status.unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
    if (!satisfiesPodAntiAffinity(computed, labels)) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
    if (!satisfiesExistingPodsAntiAffinity(computed, labels)) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    if (nodes.length === 0) return Status.skip();
    const terms = parseTerms(pod);
    if (terms instanceof Status) return Status.error(`failed to parse pod: ${terms.message()}`);
    const hasPreferredTerms = terms.preferredAffinity.length > 0 || terms.preferredAntiAffinity.length > 0;
    if (this.args.ignorePreferredTermsOfExistingPods && !hasPreferredTerms) return Status.skip();
    // Without preferred terms of its own, only pods that have affinity can move the score.
    const snapshot = this.handle.snapshot();
    const nodeInfos = hasPreferredTerms ? snapshot.list() : snapshot.havePodsWithAffinityList();
    const input = { pod, terms, hasPreferredTerms, hardPodAffinityWeight: this.args.hardPodAffinityWeight, namespaceLabelsOf: this.namespaceLabels() };
    const topologyScore = buildTopologyScore(input, nodeInfos);
    if (topologyScore.size === 0) return Status.skip();
    state.write(PRE_SCORE_STATE_KEY, new AffinityPreScoreState(topologyScore));
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    const computed = state.read<AffinityPreScoreState>(PRE_SCORE_STATE_KEY);
    if (computed === undefined) return { score: 0, status: Status.error(`reading "${PRE_SCORE_STATE_KEY}" from cycleState: not found`) };
    return { score: computed.topologyScore.sumForLabels(nodeInfo.node?.metadata?.labels ?? {}), status: Status.success() };
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    const computed = state.read<AffinityPreScoreState>(PRE_SCORE_STATE_KEY);
    if (computed === undefined || computed.topologyScore.size === 0) return Status.success();
    normalizeAffinityScores(scores);
    return Status.success();
  }

  /** Pods coming, going or relabelled change matches; nodes added or relabelled change domains. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', action: 'Add' },
      { resource: 'Pod', action: 'Update' },
      { resource: 'Pod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }

  private namespaceLabels(): NamespaceLabelsOf {
    return memoizeNamespaceLabels((namespace) => this.handle.namespaceLabels(namespace));
  }
}

/** The incoming pod's terms, or the UnschedulableAndUnresolvable status upstream gives a pod it cannot parse. */
function parseTerms(pod: Pod): PodAffinityTerms | Status {
  try {
    return affinityTermsOf(pod);
  } catch (error) {
    return Status.unresolvable(`parsing pod: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export const factory: PluginFactory = (args, handle) => new InterPodAffinity(handle, parseArgs(args));

function parseArgs(args: Readonly<Record<string, unknown>>): InterPodAffinityArgs {
  const weight = args['hardPodAffinityWeight'] ?? 1;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
    throw new Error(`hardPodAffinityWeight: Invalid value: ${JSON.stringify(weight)}: not in valid range [0-100]`);
  }
  const ignore = args['ignorePreferredTermsOfExistingPods'] ?? false;
  if (typeof ignore !== 'boolean') throw new Error('ignorePreferredTermsOfExistingPods: must be a boolean');
  return { hardPodAffinityWeight: weight, ignorePreferredTermsOfExistingPods: ignore };
}
