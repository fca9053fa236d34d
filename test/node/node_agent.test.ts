import type { KubeObject, ResourceClient } from '@k8ts/client';
import { NodeAgentProcess } from '@k8ts/testkit';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Container, Event, Node, NodeCondition, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from '../controllers/control_plane.js';

/**
 * The node agent as a cluster meets it: a real store, apiserver and k8ts-node-agent (process
 * runtime, pods on the node's network), and for the crash a k8ts-controller-manager running node
 * lifecycle. The agent registers its Node with the flags' labels, taints and capacity, becomes
 * Ready, renews its Lease, refuses pods that do not fit with the kubelet's reasons, and after a
 * kill -9 is marked Unknown by the node controller until it is started again.
 */

const NODE = 'agent-1';
const LEASE_SECONDS = 8;
const AGENT_FLAGS = [
  '--node-labels', 'topology.kubernetes.io/zone=z1,topology.kubernetes.io/region=r1,team=nodes',
  '--register-with-taints', 'dedicated=tests:PreferNoSchedule',
  '--max-pods', '20',
  '--node-capacity', 'cpu=2,memory=4Gi,ephemeral-storage=20Gi',
  '--system-reserved', 'cpu=100m,memory=100Mi',
  '--node-lease-duration-seconds', String(LEASE_SECONDS),
  '--node-status-update-frequency', '1s',
  '--pod-network', 'host',
];
/** A node unheard for 8 s is Unknown (forgiving: a loaded machine may stall a beat or two). */
const FAST_NODE_FLAGS = ['--node-monitor-period', '1s', '--node-monitor-grace-period', '8s', '--node-startup-grace-period', '8s'];

let plane: ControlPlane;
let agent: NodeAgentProcess;
let nodes: ResourceClient<Node & KubeObject>;
let pods: ResourceClient<Pod & KubeObject>;
let leases: ResourceClient<Lease & KubeObject>;

const condition = (node: Node, type: string): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === type);

async function readyStatus(): Promise<string | undefined> {
  try {
    return condition(await nodes.get(NODE), 'Ready')?.status;
  } catch {
    return undefined;
  }
}

async function podPhase(name: string): Promise<Pod | undefined> {
  try {
    return await pods.get(name);
  } catch {
    return undefined;
  }
}

function podOnNode(name: string, containers: Container[]): Pod & KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers } };
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('default');
  leases = plane.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-node-lease');
  agent = await NodeAgentProcess.start([plane.grpcAddress], { nodeName: NODE, extraArgs: AGENT_FLAGS });
}, 120_000);

afterAll(async () => {
  // Containers outlive their agent (as a kubelet's do): the pods go first, while it still runs.
  if (agent !== undefined && pods !== undefined) {
    await pods.deleteCollection({ fieldSelector: `spec.nodeName=${NODE}` }).catch(() => []);
    await eventually(async () => (await pods.list({ fieldSelector: `spec.nodeName=${NODE}` })).items.length === 0, 60_000, 'pods gone').catch(() => undefined);
  }
  await agent?.stop();
  await agent?.cleanUp();
  await plane?.stop();
}, 60_000);

/** Runs `body`, printing the agent's log when it fails. */
async function withAgentLog(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    process.stderr.write(`node agent log:\n${agent.log.slice(-20_000)}\n`);
    throw error;
  }
}

describe('k8ts-node-agent', () => {
  test('registers its Node: labels, taints, capacity and allocatable, addresses, nodeInfo, and becomes Ready', () =>
    withAgentLog(async () => {
      await eventually(async () => (await readyStatus()) === 'True', 60_000, 'node Ready');
      const node = await nodes.get(NODE);
      expect(node.metadata?.labels).toMatchObject({
        'kubernetes.io/hostname': NODE,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': 'z1',
        'topology.kubernetes.io/region': 'r1',
        team: 'nodes',
      });
      expect(node.spec?.taints).toEqual([{ key: 'dedicated', value: 'tests', effect: 'PreferNoSchedule' }]);
      expect(node.status?.capacity).toEqual({ cpu: '2', memory: '4Gi', 'ephemeral-storage': '20Gi', pods: '20' });
      // cpu 2 - 100m; memory 4Gi - 100Mi reserved - 100Mi hard eviction; storage 20Gi - 10%
      expect(node.status?.allocatable).toEqual({ cpu: '1900m', memory: '3896Mi', 'ephemeral-storage': '18Gi', pods: '20' });
      expect(node.status?.addresses).toEqual([
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: NODE },
      ]);
      expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: 'v1.32.0-k8ts', operatingSystem: 'linux', architecture: 'amd64' });
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^k8ts-process:\/\//);
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(Number(new URL(agent.serverUrl).port));
      // the runtime's images (its catalog), named as a registry would name them
      expect(node.status?.images?.some((image) => (image.names ?? []).some((name) => name.includes('k8ts/pause')))).toBe(true);
      expect(node.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
        ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
      ]);
      const metrics = await (await fetch(`${agent.serverUrl}/metrics`)).text();
      expect(metrics).toContain(`kubelet_node_name{node="${NODE}"} 1`);
      expect(metrics).toMatch(/^kubelet_running_pods \d+$/m);
    }));

  test('renews its Lease in kube-node-lease, owned by its Node', () =>
    withAgentLog(async () => {
      const node = await nodes.get(NODE);
      let first: Lease | undefined;
      await eventually(async () => (first = await leases.get(NODE).catch(() => undefined)) !== undefined, 30_000, 'node lease');
      expect(first?.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: LEASE_SECONDS });
      expect(first?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata?.uid }]);
      const renewed = Date.parse(first?.spec?.renewTime ?? '');
      await eventually(async () => Date.parse((await leases.get(NODE)).spec?.renewTime ?? '') > renewed, 30_000, 'lease renewed');
    }));

  test('a pod over allocatable is Failed with OutOfcpu, as the kubelet rejects it', () =>
    withAgentLog(async () => {
      await pods.create(podOnNode('too-big', [{ name: 'main', image: 'k8ts/pause', resources: { requests: { cpu: '3' } } }]));
      let pod: Pod | undefined;
      await eventually(async () => (pod = await podPhase('too-big'))?.status?.phase === 'Failed', 60_000, 'too-big Failed');
      expect(pod?.status?.reason).toBe('OutOfcpu');
      expect(pod?.status?.message).toContain("Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 1900");
      await pods.delete('too-big', { gracePeriodSeconds: 0 });
    }));

  test('a host port already taken on the node is refused with NodePorts', () =>
    withAgentLog(async () => {
      await pods.create(podOnNode('port-holder', [{ name: 'main', image: 'k8ts/pause', ports: [{ containerPort: 18080, hostPort: 18080 }] }]));
      await eventually(async () => (await podPhase('port-holder'))?.status?.phase === 'Running', 60_000, 'port-holder Running');
      await pods.create(podOnNode('port-clash', [{ name: 'main', image: 'k8ts/pause', ports: [{ containerPort: 18080, hostPort: 18080 }] }]));
      let pod: Pod | undefined;
      await eventually(async () => (pod = await podPhase('port-clash'))?.status?.phase === 'Failed', 60_000, 'port-clash Failed');
      expect(pod?.status?.reason).toBe('NodePorts');
      expect((await podPhase('port-holder'))?.status?.phase).toBe('Running');
      const events = await plane.client.resource<Event & KubeObject>('', 'v1', 'events').namespace('default').list({ fieldSelector: 'involvedObject.name=port-clash' });
      expect(events.items.map((event) => event.reason)).toContain('NodePorts');
      expect(events.items.find((event) => event.reason === 'NodePorts')?.source).toEqual({ component: 'kubelet', host: NODE });
      // The agent finishes both (the holder's process is stopped): nothing outlives the test.
      await pods.delete('port-clash');
      await pods.delete('port-holder');
      await eventually(async () => (await podPhase('port-holder')) === undefined && (await podPhase('port-clash')) === undefined, 60_000, 'pods gone');
    }));

  test('kill -9: the node controller marks the node Unknown; started again it is Ready', () =>
    withAgentLog(async () => {
      const manager = await plane.startManager('nodelifecycle', FAST_NODE_FLAGS);
      try {
        await agent.kill();
        await eventually(async () => (await readyStatus()) === 'Unknown', 60_000, 'node Unknown');
        const unknown = condition(await nodes.get(NODE), 'Ready');
        expect(unknown?.reason).toBe('NodeStatusUnknown');
        agent.launch();
        await agent.waitHealthy();
        await eventually(async () => (await readyStatus()) === 'True', 60_000, 'node Ready again');
        expect(condition(await nodes.get(NODE), 'Ready')?.reason).toBe('KubeletReady');
      } catch (error) {
        process.stderr.write(`controller manager log:\n${manager.log.slice(-10_000)}\n`);
        throw error;
      } finally {
        await manager.kill();
      }
    }));

  test('--runtime simulated --nodes 3: three Nodes registered Ready in one process, each with its Lease', async () => {
    const fleet = await NodeAgentProcess.start([plane.grpcAddress], {
      nodeName: 'unused',
      extraArgs: ['--runtime', 'simulated', '--nodes', '3', '--simulated-node-prefix', 'simx', '--node-capacity', 'cpu=8,memory=16Gi', '--max-pods', '30'],
    });
    try {
      const names = ['simx-0', 'simx-1', 'simx-2'];
      await eventually(async () => (await Promise.all(names.map(async (name) => condition(await nodes.get(name).catch(() => ({})), 'Ready')?.status))).every((status) => status === 'True'), 60_000, 'simulated nodes Ready');
      const node = await nodes.get('simx-1');
      expect(node.status?.capacity).toMatchObject({ cpu: '8', memory: '16Gi', pods: '30' });
      await eventually(async () => (await Promise.all(names.map((name) => leases.get(name).catch(() => undefined)))).every((lease) => lease?.spec?.holderIdentity !== undefined), 60_000, 'simulated leases');
      const metrics = await (await fetch(`${fleet.serverUrl}/metrics`)).text();
      expect(metrics).toContain('kubelet_node_name{node="simx-2"} 1');
    } catch (error) {
      process.stderr.write(`simulated agent log:\n${fleet.log.slice(-20_000)}\n`);
      throw error;
    } finally {
      await fleet.stop();
      await fleet.cleanUp();
    }
  });
});
