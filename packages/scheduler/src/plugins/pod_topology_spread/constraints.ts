/**
 * The spread constraints a pod is scheduled with: its own topologySpreadConstraints, or, when it
 * has none, the default constraints (args) applied to the pods of its controller.
 */
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { matchesLabels, requirementsFromLabelSelector, type LabelRequirement } from '@k8ts/apimachinery';
import type { PodInfo } from '../../framework/node_info.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export type WhenUnsatisfiable = 'DoNotSchedule' | 'ScheduleAnyway';
export type NodeInclusionPolicy = 'Honor' | 'Ignore';

/** Which pods form the group a constraint spreads. */
export interface SpreadSelector {
  matches(pod: Pod): boolean;
  /**
   * An empty label selector: upstream counts no existing pod for it, although the incoming pod
   * matches it (so it only ever adds its own 1 to a domain).
   */
  readonly countsNothing: boolean;
}

export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: SpreadSelector;
  /** Fewer eligible domains than this and the global minimum counts as 0. */
  readonly minDomains: number;
  readonly nodeAffinityPolicy: NodeInclusionPolicy;
  readonly nodeTaintsPolicy: NodeInclusionPolicy;
}

/** kube-scheduler's system defaults (defaultingType System). */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { topologyKey: HOSTNAME_LABEL, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: ZONE_LABEL, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/**
 * The pod's constraints of one kind (`action`). Throws (a 400 ApiError) on a selector operator
 * it cannot parse.
 */
export function constraintsFor(pod: Pod, action: WhenUnsatisfiable, defaults: readonly TopologySpreadConstraint[]): SpreadConstraint[] {
  const own = pod.spec?.topologySpreadConstraints ?? [];
  if (own.length > 0) {
    const labels = pod.metadata?.labels ?? {};
    return own.filter((c) => c.whenUnsatisfiable === action).map((c) => toConstraint(c, labelSpreadSelector(c.labelSelector, c.matchLabelKeys ?? [], labels)));
  }
  const chosen = defaults.filter((c) => c.whenUnsatisfiable === action);
  const owner = controllerUid(pod);
  if (chosen.length === 0 || owner === undefined) return [];
  const selector = ownerSpreadSelector(owner);
  return chosen.map((c) => toConstraint(c, selector));
}

function toConstraint(constraint: TopologySpreadConstraint, selector: SpreadSelector): SpreadConstraint {
  return {
    maxSkew: constraint.maxSkew,
    topologyKey: constraint.topologyKey,
    selector,
    minDomains: constraint.minDomains ?? 1,
    nodeAffinityPolicy: constraint.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
    nodeTaintsPolicy: constraint.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
  };
}

const SELECTS_NOTHING: SpreadSelector = { matches: () => false, countsNothing: false };

/** The constraint's labelSelector (none selects nothing), narrowed by the pod's values of matchLabelKeys. */
function labelSpreadSelector(selector: LabelSelector | undefined, matchLabelKeys: readonly string[], podLabels: Readonly<Record<string, string>>): SpreadSelector {
  if (selector === undefined || selector === null) return SELECTS_NOTHING;
  const requirements: LabelRequirement[] = requirementsFromLabelSelector(selector);
  for (const key of matchLabelKeys) {
    const value = podLabels[key];
    if (value !== undefined) requirements.push({ key, operator: '=', values: [value] });
  }
  return { matches: (pod) => matchesLabels(requirements, pod.metadata?.labels), countsNothing: requirements.length === 0 };
}

function ownerSpreadSelector(ownerUid: string): SpreadSelector {
  return { matches: (pod) => controllerUid(pod) === ownerUid, countsNothing: false };
}

/** The uid of the pod's controller (the ownerReference with controller: true). */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((reference) => reference.controller === true)?.uid;
}

/** Pods on a node in the spread's group: same namespace as the incoming pod, not terminating. */
export function countMatchingPods(pods: readonly PodInfo[], selector: SpreadSelector, namespace: string): number {
  if (selector.countsNothing) return 0;
  let count = 0;
  for (const { pod } of pods) {
    if (pod.metadata?.deletionTimestamp || (pod.metadata?.namespace ?? '') !== namespace) continue;
    if (selector.matches(pod)) count++;
  }
  return count;
}

/** Counts per selector on one node, so constraints sharing a selector (the defaults) walk its pods once. */
export class MatchingPodsOnNode {
  private readonly counted = new Map<SpreadSelector, number>();

  constructor(
    private readonly nodeInfo: { readonly pods: readonly PodInfo[] },
    private readonly namespace: string,
  ) {}

  count(selector: SpreadSelector): number {
    let count = this.counted.get(selector);
    if (count === undefined) {
      count = countMatchingPods(this.nodeInfo.pods, selector, this.namespace);
      this.counted.set(selector, count);
    }
    return count;
  }
}

/** Whether the node has a label for every constraint's topologyKey. */
export function hasAllTopologyKeys(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  return constraints.every((constraint) => labels[constraint.topologyKey] !== undefined);
}
