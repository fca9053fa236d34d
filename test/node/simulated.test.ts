import { ignoreNotFound, type KubeObject, type ResourceClient } from '@k8ts/client';
import { NodeAgentProcess, SchedulerProcess, type ComponentProcess } from '@k8ts/testkit';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from '../controllers/control_plane.js';

/**
 * Simulated nodes as a cluster meets them: a real store, apiserver and scheduler, and one
 * k8ts-node-agent --runtime simulated process holding several nodes (a second one fails every pod).
 * Its Nodes register Ready and renew their Leases; pods the scheduler binds to them go Running and
 * Ready with the kubelet's status; a Job's pod completes; deleted pods go; the failing fleet's pods
 * end Failed.
 */

const NODES = 5;
const LEASE_SECONDS = 4; // renewed every second
const FLEET_FLAGS = ['--runtime', 'simulated', '--node-lease-duration-seconds', String(LEASE_SECONDS), '--simulated-jitter', '50ms', '--simulated-complete-after', '1s'];

let plane: ControlPlane;
let scheduler: ComponentProcess;
let fleet: NodeAgentProcess;
let failing: NodeAgentProcess;
let nodes: ResourceClient<Node & KubeObject>;
let pods: ResourceClient<Pod & KubeObject>;
let leases: ResourceClient<Lease & KubeObject>;

const fleetNodes = Array.from({ length: NODES }, (_, index) => `simt-${index}`);

function pod(name: string, extra: Partial<Pod['spec']> = {}, metadata: Pod['metadata'] = {}): Pod & KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...metadata }, spec: { containers: [{ name: 'main', image: 'k8ts/http-echo' }], ...extra } };
}

const isReady = (object: { status?: { conditions?: { type?: string; status?: string }[] } }): boolean =>
  object.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('default');
  leases = plane.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-node-lease');
  scheduler = await SchedulerProcess.start([plane.grpcAddress], { extraArgs: ['--leader-elect=false'] });
  fleet = await NodeAgentProcess.start([plane.grpcAddress], { nodeName: 'simt', extraArgs: [...FLEET_FLAGS, '--nodes', String(NODES), '--simulated-node-prefix', 'simt'] });
  // Tainted, so the scheduler keeps the other pods off it; the test binds its pod there by name.
  failing = await NodeAgentProcess.start([plane.grpcAddress], {
    nodeName: 'simf',
    extraArgs: [...FLEET_FLAGS, '--nodes', '1', '--simulated-node-prefix', 'simf', '--simulated-failure-rate', '1', '--register-with-taints', 'failing=yes:NoSchedule'],
  });
}, 120_000);

afterAll(async () => {
  for (const agent of [fleet, failing]) {
    await agent?.stop();
    await agent?.cleanUp();
  }
  await scheduler?.stop();
  await plane?.stop();
});

describe('simulated nodes (k8ts-node-agent --runtime simulated)', () => {
  test('one agent process registers every node Ready, with the kubelet shape, and keeps their Leases renewed', async () => {
    const listed = await nodes.list({ labelSelector: 'node.k8ts.io/simulated-fleet=simt' });
    expect(listed.items.map((node) => node.metadata?.name).sort()).toEqual(fleetNodes);
    for (const node of listed.items) {
      expect(isReady(node), node.metadata?.name).toBe(true);
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('KubeletReady');
      expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe(node.metadata?.name);
      expect(node.status?.allocatable?.['pods']).toBe('110');
      expect(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toMatch(/^172\.16\./);
    }
    // Every node's Lease is renewed again and again (each every LEASE_SECONDS / 4).
    const first = new Map<string, string>();
    await eventually(
      async () => {
        for (const name of fleetNodes) {
          const lease = await ignoreNotFound(leases.get(name));
          if (lease?.spec?.renewTime !== undefined && !first.has(name)) first.set(name, lease.spec.renewTime);
        }
        return first.size === NODES;
      },
      30_000,
      'a Lease for every node',
    );
    await eventually(
      async () => {
        const renewed = await Promise.all(fleetNodes.map(async (name) => (await leases.get(name)).spec?.renewTime !== first.get(name)));
        return renewed.every(Boolean);
      },
      30_000,
      'every Lease renewed',
    );
    const lease = await leases.get(fleetNodes[0] as string);
    expect(lease.spec?.holderIdentity).toBe(fleetNodes[0]);
    expect(lease.spec?.leaseDurationSeconds).toBe(LEASE_SECONDS);
    expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: fleetNodes[0] });
  });

  test('pods the scheduler binds to the simulated nodes run and become Ready, each at its own address of its node', async () => {
    const names = Array.from({ length: 12 }, (_, index) => `web-${index}`);
    await Promise.all(names.map((name) => pods.create(pod(name))));
    let running: (Pod & KubeObject)[] = [];
    await eventually(
      async () => {
        running = (await pods.list()).items.filter((item) => names.includes(item.metadata?.name ?? '') && item.status?.phase === 'Running' && isReady(item));
        return running.length === names.length;
      },
      60_000,
      'every pod Running and Ready',
    );
    const nodeOf = new Map((await nodes.list()).items.map((node) => [node.metadata?.name ?? '', node]));
    for (const item of running) {
      const status = item.status ?? {};
      const node = nodeOf.get(item.spec?.nodeName ?? '');
      expect(fleetNodes, item.metadata?.name).toContain(item.spec?.nodeName);
      expect(status.hostIP).toBe(node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
      expect(status.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(status.qosClass).toBe('BestEffort');
      expect(status.startTime).toBeDefined();
      expect(status.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(
        ['ContainersReady=True', 'Initialized=True', 'PodReadyToStartContainers=True', 'PodScheduled=True', 'Ready=True'],
      );
      expect(status.containerStatuses?.[0]).toMatchObject({ name: 'main', image: 'k8ts/http-echo', ready: true, started: true, restartCount: 0 });
      expect(status.containerStatuses?.[0]?.state?.running?.startedAt).toBeDefined();
    }
    const ips = running.map((item) => item.status?.podIP);
    expect(new Set(ips).size).toBe(ips.length);
    // The scheduler spreads them: more than one node holds pods.
    expect(new Set(running.map((item) => item.spec?.nodeName)).size).toBeGreaterThan(1);
  });

  test("a Job's pod completes: Succeeded, its containers Completed", async () => {
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'once', uid: '11111111-2222-3333-4444-555555555555', controller: true };
    await pods.create(pod('once-abcde', { restartPolicy: 'Never' }, { ownerReferences: [owner] }));
    await eventually(async () => (await pods.get('once-abcde')).status?.phase === 'Succeeded', 60_000, 'the Job pod Succeeded');
    const status = (await pods.get('once-abcde')).status;
    expect(status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  test('a deleted pod goes away: the node deletes it for good once its containers stopped', async () => {
    await pods.create(pod('doomed'));
    await eventually(async () => isReady(await pods.get('doomed')), 60_000, 'doomed Ready');
    const { deleted } = await pods.delete('doomed'); // graceful: the default 30 s grace
    expect(deleted).toBe(false);
    await eventually(async () => (await ignoreNotFound(pods.get('doomed'))) === undefined, 60_000, 'doomed gone');
  });

  test('the failing fleet marks its pods Failed: exit code 1, reason Error', async () => {
    await pods.create(pod('broken', { nodeName: 'simf-0', restartPolicy: 'Never' }));
    await eventually(async () => (await pods.get('broken')).status?.phase === 'Failed', 60_000, 'broken Failed');
    const status = (await pods.get('broken')).status;
    expect(status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(isReady({ status: status ?? {} })).toBe(false);
  });
});
