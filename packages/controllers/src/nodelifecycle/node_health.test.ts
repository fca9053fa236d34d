import { formatTime } from '@k8ts/apimachinery';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { observeNodeHealth, type NodeHealth } from './node_health.js';

const GRACE = { monitorMs: 40_000, startupMs: 60_000 };
const T0 = Date.parse('2025-01-01T00:00:00Z');

function node(conditions?: NodeCondition[]): Node {
  return { metadata: { name: 'n1', creationTimestamp: formatTime(T0) }, ...(conditions ? { status: { conditions } } : {}) };
}
const ready = (status: string, heartbeatMs: number, transitionMs = T0): NodeCondition => ({
  type: 'Ready',
  status,
  reason: 'KubeletReady',
  lastHeartbeatTime: formatTime(heartbeatMs),
  lastTransitionTime: formatTime(transitionMs),
});
const lease = (renewMs: number): Lease => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime: new Date(renewMs).toISOString() } });

/** Runs passes at the given times, carrying the remembered health forward as the controller does. */
function passes(steps: { atMs: number; node: Node; lease?: Lease }[]): ReturnType<typeof observeNodeHealth>[] {
  let saved: NodeHealth | undefined;
  return steps.map((step) => {
    const observation = observeNodeHealth(saved, step.node, step.lease, step.atMs, GRACE);
    saved = observation.statusUpdate?.health ?? observation.health;
    return observation;
  });
}

describe('observeNodeHealth', () => {
  it('gives a node first seen a full grace period from that moment, whatever its heartbeat says', () => {
    // The heartbeat is an hour old, but a restarted controller must not declare the node dead at once.
    const old = node([ready('True', T0 - 3_600_000)]);
    const [first, later, stale] = passes([
      { atMs: T0, node: old },
      { atMs: T0 + 40_000, node: old },
      { atMs: T0 + 40_001, node: old },
    ]);
    expect(first?.statusUpdate).toBeUndefined();
    expect(later?.statusUpdate).toBeUndefined();
    expect(stale?.statusUpdate).toBeDefined();
  });

  it('counts a new heartbeat or a renewed Lease as hearing from the node, on the controller\'s clock', () => {
    const [, , renewed, unheard] = passes([
      { atMs: T0, node: node([ready('True', T0)]), lease: lease(T0) },
      { atMs: T0 + 30_000, node: node([ready('True', T0)]), lease: lease(T0 + 30_000) }, // lease renewed
      { atMs: T0 + 60_000, node: node([ready('True', T0 + 55_000)]), lease: lease(T0 + 30_000) }, // status posted
      { atMs: T0 + 100_001, node: node([ready('True', T0 + 55_000)]), lease: lease(T0 + 30_000) },
    ]);
    expect(renewed?.statusUpdate).toBeUndefined();
    expect(renewed?.health.probeMs).toBe(T0 + 60_000);
    expect(unheard?.statusUpdate).toBeDefined();
  });

  it('sets every monitored condition Unknown as upstream words it, keeping the heartbeat and NetworkUnavailable', () => {
    const conditions = [
      ready('True', T0),
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: formatTime(T0), lastTransitionTime: formatTime(T0) },
      { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', lastHeartbeatTime: formatTime(T0), lastTransitionTime: formatTime(T0) },
    ];
    const [, stale] = passes([
      { atMs: T0, node: node(conditions) },
      { atMs: T0 + 41_000, node: node(conditions) },
    ]);
    const written = stale?.statusUpdate?.conditions ?? [];
    const byType = Object.fromEntries(written.map((condition) => [condition.type, condition]));
    expect(byType['Ready']).toEqual({
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: formatTime(T0),
      lastTransitionTime: formatTime(T0 + 41_000),
    });
    expect(byType['MemoryPressure']).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(byType['NetworkUnavailable']).toEqual(conditions[2]);
    expect(byType['DiskPressure']).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    expect(byType['PIDPressure']).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
    expect(stale?.observedReady.status).toBe('True');
    expect(stale?.currentReady?.status).toBe('Unknown');
  });

  it('writes nothing more once Ready is Unknown, and reports it Unknown while unheard', () => {
    const unknown = node([{ ...ready('Unknown', T0), reason: 'NodeStatusUnknown' }]);
    const [, again] = passes([
      { atMs: T0, node: unknown },
      { atMs: T0 + 90_000, node: unknown },
    ]);
    expect(again?.statusUpdate).toBeUndefined();
    expect(again?.observedReady.status).toBe('Unknown');
  });

  it('measures a node that never posted status from its creation, with the startup grace', () => {
    const silent = node();
    expect(observeNodeHealth(undefined, silent, undefined, T0 + 60_000, GRACE).statusUpdate).toBeUndefined();
    const late = observeNodeHealth(undefined, silent, undefined, T0 + 60_001, GRACE);
    expect(late.gracePeriodMs).toBe(60_000);
    expect(late.statusUpdate?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'Unknown', 'NodeStatusNeverUpdated'],
      ['MemoryPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['DiskPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['PIDPressure', 'Unknown', 'NodeStatusNeverUpdated'],
    ]);
    // A Lease keeps a node that never posted status healthy.
    expect(observeNodeHealth(undefined, silent, lease(T0), T0 + 60_001, GRACE).statusUpdate).toBeUndefined();
  });

  it('does not count a Lease whose renewTime stands still', () => {
    const steady = node([ready('True', T0)]);
    const [, , stale] = passes([
      { atMs: T0, node: steady, lease: lease(T0) },
      { atMs: T0 + 20_000, node: steady, lease: lease(T0) },
      { atMs: T0 + 40_001, node: steady, lease: lease(T0) },
    ]);
    expect(stale?.statusUpdate).toBeDefined();
  });

  it('notices a Ready transition posted by the kubelet', () => {
    const [, flipped] = passes([
      { atMs: T0, node: node([ready('True', T0)]) },
      { atMs: T0 + 5_000, node: node([ready('False', T0 + 5_000, T0 + 5_000)]) },
    ]);
    expect(flipped?.health.readyTransitionMs).toBe(T0 + 5_000);
    expect(flipped?.observedReady.status).toBe('False');
    expect(flipped?.currentReady?.status).toBe('False');
  });
});
