/**
 * When a node counts as unheard, as upstream's tryUpdateNodeHealth decides it — a pure function of
 * what the controller saw before, the node and its Lease now, and the controller's clock.
 *
 * A node is heard from when its Ready condition's lastHeartbeatTime changes or its Lease's renewTime
 * moves forward. What counts is when *this controller* saw that change (the probe time, on its own
 * clock), never the timestamps themselves, so clock skew between kubelets and the controller cannot
 * make a node look dead or alive. A node first seen gets a full grace period from that moment; a
 * node that never posted a Ready condition is measured from its creation with the startup grace.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { formatTime, parseTime } from '@k8ts/apimachinery';
import { nodeCondition } from '../framework/nodes.js';

/** What the controller remembers of a node between passes (upstream's nodeHealthData). */
export interface NodeHealth {
  /** The Ready condition as last seen; undefined when the node had none. */
  readonly ready: { readonly lastHeartbeatTime: string | undefined; readonly lastTransitionTime: string | undefined } | undefined;
  /** The Lease's renewTime as last seen (ms); undefined when no Lease was seen. */
  readonly leaseRenewMs: number | undefined;
  /** Whether a Lease was seen at all (a Lease without renewTime still counts as seen). */
  readonly leaseSeen: boolean;
  /** When this controller last heard from the node, on its own clock. */
  readonly probeMs: number;
  /** When this controller saw the Ready condition last change. */
  readonly readyTransitionMs: number;
}

export interface HealthGracePeriods {
  readonly monitorMs: number;
  readonly startupMs: number;
}

export interface HealthObservation {
  /** What to remember when no status write follows (or the write fails). */
  readonly health: NodeHealth;
  readonly gracePeriodMs: number;
  /** The Ready condition the node had at the start of this pass (a stand-in Unknown when it had none). */
  readonly observedReady: NodeCondition;
  /** The Ready condition after this pass: changed to Unknown when the node is unheard. */
  readonly currentReady: NodeCondition | undefined;
  /** Set when the node is unheard and its Ready condition changes: the conditions to write with UpdateStatus, and what to remember once written. */
  readonly statusUpdate?: { readonly conditions: NodeCondition[]; readonly health: NodeHealth };
}

/** The conditions a controller sets to Unknown on an unheard node (NetworkUnavailable is the network plugin's). */
export const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

export function observeNodeHealth(saved: NodeHealth | undefined, node: Node, lease: Lease | undefined, nowMs: number, grace: HealthGracePeriods): HealthObservation {
  const createdMs = parseTime(node.metadata?.creationTimestamp) ?? nowMs;
  const currentReady = nodeCondition(node, 'Ready');
  const readySeen = currentReady === undefined ? undefined : { lastHeartbeatTime: currentReady.lastHeartbeatTime, lastTransitionTime: currentReady.lastTransitionTime };
  let health: NodeHealth;
  let observedReady: NodeCondition;
  let gracePeriodMs: number;
  if (currentReady === undefined) {
    // Never posted: measured from creation with the startup grace.
    const created = node.metadata?.creationTimestamp;
    observedReady = { type: 'Ready', status: 'Unknown', ...(created ? { lastHeartbeatTime: created, lastTransitionTime: created } : {}) };
    gracePeriodMs = grace.startupMs;
    health = saved === undefined ? { ready: undefined, leaseRenewMs: undefined, leaseSeen: false, probeMs: createdMs, readyTransitionMs: createdMs } : { ...saved, ready: undefined };
  } else {
    observedReady = { ...currentReady };
    gracePeriodMs = grace.monitorMs;
    if (saved === undefined || saved.ready === undefined) {
      // First seen (a restarted controller, or a node's first Ready): a full grace period from now.
      health = { ready: readySeen, leaseRenewMs: saved?.leaseRenewMs, leaseSeen: saved?.leaseSeen ?? false, probeMs: nowMs, readyTransitionMs: nowMs };
    } else if (saved.ready.lastHeartbeatTime !== currentReady.lastHeartbeatTime) {
      const transitioned = saved.ready.lastTransitionTime !== currentReady.lastTransitionTime;
      health = { ...saved, ready: readySeen, probeMs: nowMs, readyTransitionMs: transitioned ? nowMs : saved.readyTransitionMs };
    } else {
      health = saved;
    }
  }
  if (lease !== undefined && leaseRenewed(saved, lease)) {
    health = { ...health, leaseRenewMs: parseTime(lease.spec?.renewTime), leaseSeen: true, probeMs: nowMs };
  }
  if (nowMs <= health.probeMs + gracePeriodMs) return { health, gracePeriodMs, observedReady, currentReady };

  const conditions = unknownConditions(node, nowMs, createdMs);
  const newReady = conditions.find((condition) => condition.type === 'Ready');
  if (JSON.stringify(newReady) === JSON.stringify(observedReady) || newReady === undefined) return { health, gracePeriodMs, observedReady, currentReady };
  const written: NodeHealth = {
    ...health,
    ready: { lastHeartbeatTime: newReady.lastHeartbeatTime, lastTransitionTime: newReady.lastTransitionTime },
    readyTransitionMs: nowMs,
  };
  return { health, gracePeriodMs, observedReady, currentReady: newReady, statusUpdate: { conditions, health: written } };
}

/** A Lease seen for the first time, or one whose renewTime moved forward (both set), is a heartbeat. */
function leaseRenewed(saved: NodeHealth | undefined, lease: Lease): boolean {
  if (saved === undefined || !saved.leaseSeen) return true;
  const renewMs = parseTime(lease.spec?.renewTime);
  return saved.leaseRenewMs !== undefined && renewMs !== undefined && saved.leaseRenewMs < renewMs;
}

/**
 * The node's conditions with the monitored ones Unknown: a condition the kubelet posted becomes
 * Unknown (NodeStatusUnknown) with a new transition time unless it already is; one it never posted
 * is added (NodeStatusNeverUpdated), as upstream writes them.
 */
export function unknownConditions(node: Node, nowMs: number, createdMs: number): NodeCondition[] {
  const now = formatTime(nowMs);
  const conditions = (node.status?.conditions ?? []).map((condition) => {
    if (!(MONITORED_CONDITIONS as readonly string[]).includes(condition.type) || condition.status === 'Unknown') return condition;
    return { ...condition, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now };
  });
  for (const type of MONITORED_CONDITIONS) {
    if (conditions.some((condition) => condition.type === type)) continue;
    conditions.push({
      type,
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
      lastHeartbeatTime: node.metadata?.creationTimestamp ?? formatTime(createdMs),
      lastTransitionTime: now,
    });
  }
  return conditions;
}
