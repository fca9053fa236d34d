import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { buildNode, labelsToAdopt, nodeConditions, nodeImages, nodeStatusChanged, nodeStatusFor, type NodeObservation } from './node_status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const T1 = T0 + 10_000;

const observation: NodeObservation = {
  capacity: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi', pods: '110' },
  allocatable: { cpu: '2', memory: '3996Mi', 'ephemeral-storage': '9Gi', pods: '110' },
  addresses: [
    { type: 'InternalIP', address: '10.0.0.5' },
    { type: 'Hostname', address: 'n1' },
  ],
  nodeInfo: { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1', osImage: 'Debian', containerRuntimeVersion: 'k8ts-process://0.1.0', kubeletVersion: 'v1.32.0-k8ts', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
  images: [
    { names: ['k8ts/pause:latest'], sizeBytes: 10 },
    { names: ['busybox:latest'], sizeBytes: 100 },
  ],
  kubeletPort: 10250,
  health: {},
};

describe('the Node a kubelet registers', () => {
  test("labels, taints, status with upstream's four conditions; no podCIDR", () => {
    const node = buildNode({ name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, taints: [{ key: 'a', effect: 'NoSchedule' }] }, observation, T0);
    expect(node.metadata).toEqual({ name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } });
    expect(node.spec).toEqual({ taints: [{ key: 'a', effect: 'NoSchedule' }] });
    expect(node.status?.conditions).toEqual([
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
    expect(node.status?.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(node.status?.images?.map((image) => image.names?.[0])).toEqual(['busybox:latest', 'k8ts/pause:latest']); // largest first
    expect(node.status?.capacity).toEqual(observation.capacity);
  });

  test('conditions: heartbeat moves, transition only when the status changes (also from Unknown)', () => {
    const first = nodeConditions(undefined, {}, T0);
    const same = nodeConditions(first, {}, T1);
    const ready = (conditions: typeof first) => conditions.find((c) => c.type === 'Ready');
    expect(ready(same)).toMatchObject({ lastHeartbeatTime: '2026-01-01T00:00:10Z', lastTransitionTime: '2026-01-01T00:00:00Z' });
    const unknown = first.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown' } : c));
    expect(ready(nodeConditions(unknown, {}, T1))).toMatchObject({ status: 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-01T00:00:10Z' });
    const notReady = nodeConditions(first, { notReadyReasons: ['container runtime is down'], memoryPressure: true }, T1);
    expect(ready(notReady)).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
    expect(notReady[0]).toMatchObject({ type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' });
    // another writer's condition is kept as it is
    const other = { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' };
    expect(nodeConditions([...first, other], {}, T1)).toContainEqual(other);
  });

  test('a status that differs only in heartbeats is unchanged; anything else is a change', () => {
    const before = nodeStatusFor(undefined, observation, T0);
    expect(nodeStatusChanged(before, nodeStatusFor(before, observation, T1))).toBe(false);
    expect(nodeStatusChanged(before, nodeStatusFor(before, { ...observation, images: [] }, T1))).toBe(true);
    expect(nodeStatusChanged(before, nodeStatusFor(before, { ...observation, health: { diskPressure: true } }, T1))).toBe(true);
    expect(nodeStatusChanged(undefined, before)).toBe(true);
  });

  test('the status keeps what others wrote (phase, volumes) and at most 50 images', () => {
    const previous = { phase: 'Running', volumesInUse: ['v'] };
    expect(nodeStatusFor(previous, observation, T0)).toMatchObject(previous);
    const many = Array.from({ length: 60 }, (_, i) => ({ names: [`i${i}`], sizeBytes: i }));
    expect(nodeImages(many)).toHaveLength(50);
  });

  test('adopting an existing Node: only differing labels are written', () => {
    const existing: Node = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', extra: 'kept' } } };
    expect(labelsToAdopt(existing, { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, taints: [] })).toBeUndefined();
    expect(labelsToAdopt(existing, { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', 'topology.kubernetes.io/zone': 'z' }, taints: [] })).toEqual({ 'topology.kubernetes.io/zone': 'z' });
  });
});
