/**
 * Zones: which one a node counts in (upstream's GetZoneKey), their health and what it does to the
 * tainting rate (upstream's ComputeZoneState and handleDisruption), as pure functions:
 * - a zone with no Ready node is in FullDisruption; one where more than 2 nodes and at least
 *   unhealthyZoneThreshold of them are not Ready is in PartialDisruption; else Normal;
 * - Normal zones taint at nodeEvictionRate; PartialDisruption zones at secondaryNodeEvictionRate
 *   when larger than largeClusterSizeThreshold, else not at all; FullDisruption zones at
 *   nodeEvictionRate — unless every zone is fully disrupted: then the problem is most likely the
 *   control plane's own network, so all NoExecute taints come off and tainting stops
 *   ("master disruption mode") until some node is Ready again.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

/** A node with this label is left out of its zone's disruption count (upstream, as named). */
export const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

/**
 * The zone a node counts in for eviction rate limits: region and zone labels joined by ":\0:" as
 * upstream's GetZoneKey, "" when the node has neither (all such nodes share one zone).
 */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface DisruptionOptions {
  readonly nodeEvictionRate: number;
  readonly secondaryNodeEvictionRate: number;
  readonly largeClusterSizeThreshold: number;
  readonly unhealthyZoneThreshold: number;
}

/** The Ready status of each node of a zone (undefined: the node has no Ready condition). */
export type ReadyStatuses = readonly (string | undefined)[];

export function computeZoneState(statuses: ReadyStatuses, unhealthyZoneThreshold: number): { notReady: number; state: ZoneState } {
  const ready = statuses.filter((status) => status === 'True').length;
  const notReady = statuses.length - ready;
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/** The tainting rate of a zone of `size` nodes in `state`. */
export function zoneEvictionRate(state: ZoneState, size: number, options: DisruptionOptions): number {
  if (state === 'PartialDisruption') return size > options.largeClusterSizeThreshold ? options.secondaryNodeEvictionRate : 0;
  return options.nodeEvictionRate;
}

export interface DisruptionPlan {
  /** The zone states to keep from now on (zones without nodes are dropped). */
  readonly zoneStates: Map<string, ZoneState>;
  /** Zones whose tainting rate changes, and to what. */
  readonly rates: Map<string, number>;
  /** Every zone just became fully disrupted: remove every node's NoExecute taint. */
  readonly enteringFullDisruption: boolean;
  /** Some zone is healthy again after all were disrupted: every node gets a fresh grace period. */
  readonly exitingFullDisruption: boolean;
}

/** The next zone states and rate changes, from the states before and this pass's Ready statuses per zone. */
export function planDisruption(previous: ReadonlyMap<string, ZoneState>, zones: ReadonlyMap<string, ReadyStatuses>, options: DisruptionOptions): DisruptionPlan {
  const states = new Map<string, ZoneState>();
  const next = new Map<string, ZoneState>();
  let allAreFullyDisrupted = true;
  for (const [zone, statuses] of zones) {
    const { state } = computeZoneState(statuses, options.unhealthyZoneThreshold);
    if (state !== 'FullDisruption') allAreFullyDisrupted = false;
    next.set(zone, state);
    states.set(zone, previous.get(zone) ?? 'Initial');
  }
  const allWereFullyDisrupted = [...states.values()].every((state) => state === 'FullDisruption');
  const rates = new Map<string, number>();
  const plan = { zoneStates: states, rates, enteringFullDisruption: false, exitingFullDisruption: false };
  if (allAreFullyDisrupted && allWereFullyDisrupted) return plan; // nothing changes while all stay down
  if (allAreFullyDisrupted) {
    for (const zone of states.keys()) {
      rates.set(zone, 0);
      states.set(zone, 'FullDisruption');
    }
    return { ...plan, enteringFullDisruption: true };
  }
  for (const [zone, state] of states) {
    const nextState = next.get(zone) as ZoneState;
    if (!allWereFullyDisrupted && state === nextState) continue;
    rates.set(zone, zoneEvictionRate(nextState, zones.get(zone)?.length ?? 0, options));
    states.set(zone, nextState);
  }
  return { ...plan, exitingFullDisruption: allWereFullyDisrupted };
}
