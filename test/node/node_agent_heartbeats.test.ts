import { formatMicroTime, formatTime } from '@k8ts/apimachinery';
import { FakeClock } from '@k8ts/base';
import type { KubeObject, ResourceClient } from '@k8ts/client';
import { NodeLeaseRenewer, NodeStatusReporter, type NodeObservation, type ReportedNode } from '@k8ts/kubelet';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from '../controllers/control_plane.js';

/**
 * The node heartbeats' rules against a real store and apiserver, with time on a FakeClock: the
 * status is written when it changes and at least every report interval, never otherwise; an
 * existing Node is adopted without touching its spec; Leases renew on each node's own timer.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z');

let plane: ControlPlane;
let nodes: ResourceClient<Node & KubeObject>;
let leases: ResourceClient<Lease & KubeObject>;

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  leases = plane.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-node-lease');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

function observation(): NodeObservation {
  return {
    capacity: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8092Mi', 'ephemeral-storage': '90Gi', pods: '110' },
    addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
    nodeInfo: { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: 'k', osImage: 'o', containerRuntimeVersion: 'test://1', kubeletVersion: 'v1.32.0-k8ts', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
    images: [],
    kubeletPort: 10250,
    health: {},
  };
}

const condition = (node: Node | undefined, type: string) => node?.status?.conditions?.find((c) => c.type === type);

describe('NodeStatusReporter', () => {
  test('writes the status on a change and every report interval, not on every check', async () => {
    const clock = new FakeClock(T0);
    let observed = observation();
    const source: ReportedNode = { description: { name: 'hb-status', labels: { team: 'a' }, taints: [] }, observe: () => observed };
    const reporter = new NodeStatusReporter({ client: plane.client, clock, updateFrequencyMs: 10_000, reportFrequencyMs: 300_000 });
    let writes = 0;
    reporter.onWritten(() => void (writes += 1));
    try {
      const registered = await reporter.register(source);
      expect(condition(registered, 'Ready')).toMatchObject({ status: 'True', lastHeartbeatTime: formatTime(T0) });
      clock.advance(10_000); // a periodic check: nothing changed
      await reporter.syncNow('hb-status');
      expect(writes).toBe(0);
      expect(condition(await nodes.get('hb-status'), 'Ready')?.lastHeartbeatTime).toBe(formatTime(T0));

      observed = { ...observation(), health: { memoryPressure: true } };
      await reporter.syncNow('hb-status');
      expect(writes).toBe(1);
      const pressed = await nodes.get('hb-status');
      expect(condition(pressed, 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory', lastTransitionTime: formatTime(T0 + 10_000) });
      expect(condition(pressed, 'Ready')).toMatchObject({ lastHeartbeatTime: formatTime(T0 + 10_000), lastTransitionTime: formatTime(T0) });

      clock.advance(300_000); // the report interval: written although nothing changed
      await reporter.syncNow('hb-status');
      expect(writes).toBe(2);
      expect(condition(await nodes.get('hb-status'), 'Ready')).toMatchObject({ lastHeartbeatTime: formatTime(T0 + 310_000), lastTransitionTime: formatTime(T0) });
      expect(reporter.node('hb-status')?.metadata?.name).toBe('hb-status');
    } finally {
      await reporter.stop();
    }
  });

  test("adopts an existing Node: the kubelet's labels written, other labels and the spec kept, status corrected", async () => {
    await nodes.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'hb-adopt', labels: { keep: 'me', team: 'old' } },
      spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24'], taints: [{ key: 'x', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: formatTime(T0 - 60_000), lastHeartbeatTime: formatTime(T0 - 60_000) }] },
    });
    const clock = new FakeClock(T0);
    const reporter = new NodeStatusReporter({ client: plane.client, clock });
    try {
      await reporter.register({ description: { name: 'hb-adopt', labels: { team: 'new', 'topology.kubernetes.io/zone': 'z' }, taints: [{ key: 'ignored', effect: 'NoExecute' }] }, observe: observation });
      const node = await nodes.get('hb-adopt');
      expect(node.metadata?.labels).toEqual({ keep: 'me', team: 'new', 'topology.kubernetes.io/zone': 'z' });
      expect(node.spec).toMatchObject({ podCIDR: '10.244.7.0/24', taints: [{ key: 'x', effect: 'NoSchedule' }] });
      expect(condition(node, 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady', lastTransitionTime: formatTime(T0) });
      expect(node.status?.capacity).toEqual(observation().capacity);
    } finally {
      await reporter.stop();
    }
  });
});

describe('NodeLeaseRenewer', () => {
  test("each node's Lease renews on its own timer; the Node becomes its owner once known", async () => {
    const clock = new FakeClock(T0);
    const renewer = new NodeLeaseRenewer({ client: plane.client, clock, durationSeconds: 40 });
    const renewals: string[] = [];
    renewer.onRenewed((name) => renewals.push(name));
    const owner = await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'hb-lease-a' } });
    const renewTime = async (name: string): Promise<string | undefined> => (await leases.get(name).catch(() => undefined))?.spec?.renewTime;
    try {
      renewer.add('hb-lease-a', owner.metadata?.uid, 0);
      renewer.add('hb-lease-b', undefined, 5_000);
      clock.advance(0);
      await eventually(() => renewals.length === 1, 20_000, 'first renewal');
      expect(await renewTime('hb-lease-a')).toBe(formatMicroTime(T0));
      expect(await renewTime('hb-lease-b')).toBeUndefined(); // its turn comes 5 s later

      clock.advance(5_000);
      await eventually(() => renewals.length === 2, 20_000, "b's first renewal");
      const b = await leases.get('hb-lease-b');
      expect(b.spec).toMatchObject({ holderIdentity: 'hb-lease-b', leaseDurationSeconds: 40, renewTime: formatMicroTime(T0 + 5_000) });
      expect(b.metadata?.ownerReferences).toBeUndefined();

      clock.advance(5_000); // a's second turn: 10 s (a quarter of 40 s) after its first
      await eventually(() => renewals.length === 3, 20_000, "a's second renewal");
      expect(renewals).toEqual(['hb-lease-a', 'hb-lease-b', 'hb-lease-a']);
      expect(await renewTime('hb-lease-a')).toBe(formatMicroTime(T0 + 10_000));
      expect((await leases.get('hb-lease-a')).metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'hb-lease-a', uid: owner.metadata?.uid }]);

      renewer.setNodeUid('hb-lease-b', 'uid-of-b');
      clock.advance(5_000);
      await eventually(() => renewals.length === 4, 20_000, "b's second renewal");
      expect((await leases.get('hb-lease-b')).metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'hb-lease-b', uid: 'uid-of-b' }]);
    } finally {
      renewer.stop();
    }
  });
});
