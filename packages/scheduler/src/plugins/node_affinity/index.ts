/**
 * NodeAffinity decides which nodes a pod may use and prefers by their labels and names, as
 * kube-scheduler's plugin of that name:
 * - PreFilter: nothing to do without nodeSelector, required node affinity or scheduler-enforced
 *   affinity (Skip); when every required term names nodes with `metadata.name In (...)`, only those
 *   nodes are candidates (and none at all if the terms contradict each other).
 * - Filter: the node must match the pod's nodeSelector AND one of its required node selector terms
 *   (and the profile's `addedAffinity`); otherwise it is out for good (UnschedulableAndUnresolvable).
 * - Score: the sum of the weights of the preferred terms the node matches, scaled to [0, 100].
 * Args (NodeAffinityArgs): `addedAffinity`, node affinity every pod of the profile gets.
 */
import type { NodeAffinity as NodeAffinitySpec, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import type {
  ClusterEvent,
  EnqueueExtensions,
  FilterPlugin,
  NodeScore,
  PluginFactory,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';
import { defaultNormalizeScore } from './normalize_score.js';
import { CompiledNodeSelector, NODE_NAME_FIELD, PreferredTerms, RequiredNodeAffinity } from './node_selector.js';

export { defaultNormalizeScore } from './normalize_score.js';
export {
  CompiledNodeSelector,
  NODE_NAME_FIELD,
  PreferredTerms,
  RequiredNodeAffinity,
  nodeSelectorMatches,
  podMatchesNodeSelectorAndAffinity,
} from './node_selector.js';

export const NAME = 'NodeAffinity';

/** The node does not match the pod's nodeSelector or required node affinity. */
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** The node does not match the profile's addedAffinity. */
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** Every required term names nodes, and no node is named by all requirements of any term. */
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinitySpec;
}

class PreFilterState implements StateData {
  constructor(readonly required: RequiredNodeAffinity) {}
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly preferred: PreferredTerms | undefined) {}
  clone(): StateData {
    return this;
  }
}

/**
 * The nodes the required terms restrict the pod to, when each term names nodes with
 * `metadata.name In (...)` (a term's such requirements intersect, the terms unite); undefined when
 * some term leaves every node possible.
 */
export function nodeNamesRequiredByTerms(terms: readonly NodeSelectorTerm[]): Set<string> | undefined {
  if (terms.length === 0) return undefined;
  const union = new Set<string>();
  for (const term of terms) {
    let named: Set<string> | undefined;
    for (const requirement of term.matchFields ?? []) {
      if (requirement.key !== NODE_NAME_FIELD || requirement.operator !== 'In') continue;
      const values = new Set(requirement.values ?? []);
      named = named === undefined ? values : new Set([...named].filter((name) => values.has(name)));
    }
    if (named === undefined) return undefined;
    for (const name of named) union.add(name);
  }
  return union;
}

function podPreferredTerms(pod: Pod): PreferredTerms | { errors: string[] } | undefined {
  const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  return preferred === undefined ? undefined : PreferredTerms.compile(preferred);
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = NAME;
  private readonly addedNodeSelector: CompiledNodeSelector | undefined;
  private readonly addedPreferred: PreferredTerms | undefined;

  /** Throws when addedAffinity has malformed terms, as upstream refuses such a profile. */
  constructor(args: NodeAffinityArgs = {}) {
    const required = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required !== undefined) {
      this.addedNodeSelector = new CompiledNodeSelector(required);
      if (this.addedNodeSelector.errors.length > 0)
        throw new Error(`parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: ${this.addedNodeSelector.errors.join(', ')}`);
    }
    const preferred = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length > 0) {
      const compiled = PreferredTerms.compile(preferred);
      if (!(compiled instanceof PreferredTerms))
        throw new Error(`parsing addedAffinity.preferredDuringSchedulingIgnoredDuringExecution: ${compiled.errors.join(', ')}`);
      this.addedPreferred = compiled;
    }
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status: Status } {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required === undefined && this.addedNodeSelector === undefined && pod.spec?.nodeSelector === undefined)
      return { status: Status.skip() };
    state.write(PRE_FILTER_KEY, new PreFilterState(new RequiredNodeAffinity(pod)));
    const nodeNames = nodeNamesRequiredByTerms(required?.nodeSelectorTerms ?? []);
    if (nodeNames === undefined) return { status: Status.success() };
    if (nodeNames.size === 0) return { status: Status.unresolvable(ERR_REASON_CONFLICT) };
    return { result: { nodeNames }, status: Status.success() };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (node === undefined) return Status.error('node not found');
    if (this.addedNodeSelector !== undefined && !this.addedNodeSelector.matches(node)) return Status.unresolvable(ERR_REASON_ENFORCED);
    const required = state.read<PreFilterState>(PRE_FILTER_KEY)?.required ?? new RequiredNodeAffinity(pod);
    return required.matches(node) ? Status.success() : Status.unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: Pod): Status {
    const preferred = podPreferredTerms(pod);
    if (preferred !== undefined && !(preferred instanceof PreferredTerms)) return Status.error(preferred.errors.join(', '));
    if (preferred === undefined && this.addedPreferred === undefined) return Status.skip();
    state.write(PRE_SCORE_KEY, new PreScoreState(preferred));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    const node = nodeInfo.node;
    if (node === undefined) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    let preferred = state.read<PreScoreState>(PRE_SCORE_KEY)?.preferred;
    if (preferred === undefined) {
      const compiled = podPreferredTerms(pod);
      if (compiled !== undefined && !(compiled instanceof PreferredTerms)) return { score: 0, status: Status.error(compiled.errors.join(', ')) };
      preferred = compiled;
    }
    const score = (this.addedPreferred?.score(node) ?? 0) + (preferred?.score(node) ?? 0);
    return { score, status: Status.success() };
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    return defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
  }

  /** A node added or its labels changed. */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = (args) => new NodeAffinity(args as NodeAffinityArgs);
