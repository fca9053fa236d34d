/**
 * TaintToleration decides whether a pod may run on a node given the node's taints, as
 * kube-scheduler's plugin of that name:
 * - Filter: a NoSchedule or NoExecute taint the pod does not tolerate rules the node out, and no
 *   preemption can change that (UnschedulableAndUnresolvable).
 * - Score: the number of PreferNoSchedule taints the pod does not tolerate, normalized reversed, so
 *   the node with the fewest such taints scores MAX_NODE_SCORE.
 */
import { toleratesTaint } from '@k8ts/apimachinery';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type {
  ClusterEvent,
  EnqueueExtensions,
  FilterPlugin,
  NodeScore,
  PluginFactory,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle_state.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Status } from '../../framework/status.js';
import { defaultNormalizeScore } from '../node_affinity/normalize_score.js';

export const NAME = 'TaintToleration';

const PRE_SCORE_KEY = `PreScore${NAME}`;

/** The Filter reason, naming the first taint of the node the pod does not tolerate. */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/** Whether any of the tolerations tolerates the taint. */
export function tolerates(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((toleration) => toleratesTaint(toleration, taint));
}

/** The taints a pod must tolerate to be placed on the node at all. */
export function isDoNotScheduleTaint(taint: Taint): boolean {
  return taint.effect === 'NoSchedule' || taint.effect === 'NoExecute';
}

/** The first of the taints that `include` selects and the tolerations do not tolerate. */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  include: (taint: Taint) => boolean = () => true,
): Taint | undefined {
  return (taints ?? []).find((taint) => include(taint) && !tolerates(tolerations, taint));
}

/** Tolerations that may tolerate a PreferNoSchedule taint (an empty effect means every effect). */
function preferNoScheduleTolerations(pod: Pod): Toleration[] {
  return (pod.spec?.tolerations ?? []).filter((toleration) => !toleration.effect || toleration.effect === 'PreferNoSchedule');
}

/** How many PreferNoSchedule taints of the node none of the tolerations tolerates. */
export function countIntolerablePreferNoSchedule(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[]): number {
  return (taints ?? []).filter((taint) => taint.effect === 'PreferNoSchedule' && !tolerates(tolerations, taint)).length;
}

class PreScoreState implements StateData {
  constructor(readonly tolerations: readonly Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (node === undefined) return Status.error('invalid nodeInfo');
    const taint = findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint);
    return taint === undefined ? Status.success() : Status.unresolvable(untoleratedTaintReason(taint));
  }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(PRE_SCORE_KEY, new PreScoreState(preferNoScheduleTolerations(pod)));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status: Status } {
    const node = nodeInfo.node;
    if (node === undefined) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    const tolerations = state.read<PreScoreState>(PRE_SCORE_KEY)?.tolerations ?? preferNoScheduleTolerations(pod);
    return { score: countIntolerablePreferNoSchedule(node.spec?.taints, tolerations), status: Status.success() };
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  /** Fewer intolerable taints is better: scores are reversed. */
  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    return defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }

  /** A node added or its taints changed; the pod itself updated (it may have gained a toleration). */
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
      { resource: 'Pod', action: 'Update' },
    ];
  }
}

export const factory: PluginFactory = () => new TaintToleration();
