import { ApiClient, type KubeObject, type ResourceClient } from '@k8ts/client';
import { ApiServerProcess, SchedulerProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event, Node, Pod, PodSpec, Taint } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * The scheduler as users meet it: a real store, a real apiserver (gRPC API) and two k8ts-scheduler
 * replicas electing a leader on a Lease, over registered Node objects with no agents behind them
 * (kwok-style). The test itself stands in for the kubelet where one is needed: it finishes the
 * deletion of pods that preemption evicted.
 */

const ZONE = 'topology.kubernetes.io/zone';
const LEASE_SECONDS = 4;

let cluster: TestCluster;
let apiserver: ApiServerProcess;
let client: ApiClient;
let schedulers: SchedulerProcess[] = [];
let pods: ResourceClient<Pod & KubeObject>;

function nodeObject(name: string, zone: string, options: { cpu?: string; taints?: Taint[] } = {}): Node & KubeObject {
  const cpu = options.cpu ?? '4';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, [ZONE]: zone } },
    spec: options.taints ? { taints: options.taints } : {},
    status: {
      capacity: { cpu, memory: '8Gi', pods: '110' },
      allocatable: { cpu, memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  } as Node & KubeObject;
}

function podObject(name: string, spec: Partial<PodSpec> = {}, metadata: Partial<NonNullable<Pod['metadata']>> = {}): Pod & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...metadata },
    spec: { containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...spec },
  } as Pod & KubeObject;
}

function requesting(cpu: string): Partial<PodSpec> {
  return { containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu } } }] };
}

async function boundNode(name: string, timeoutMs = 15_000): Promise<string> {
  let nodeName = '';
  await eventually(
    async () => {
      nodeName = (await pods.get(name)).spec?.nodeName ?? '';
      return nodeName !== '';
    },
    timeoutMs,
    `pod ${name} bound`,
  );
  return nodeName;
}

async function eventsOf(name: string): Promise<Event[]> {
  const list = await client.resource<Event & KubeObject>('', 'v1', 'events').namespace('default').list();
  return list.items.filter((event) => event.involvedObject?.name === name);
}

beforeAll(async () => {
  cluster = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(cluster.endpoints, 20_000);
  const [grpcPort] = await freePorts(1);
  apiserver = await ApiServerProcess.start(cluster.endpoints, { extraArgs: ['--grpc-port', String(grpcPort)] });
  const address = `127.0.0.1:${grpcPort}`;
  client = new ApiClient({ addresses: [address] });
  pods = client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('default');
  const nodes = client.resource<Node & KubeObject>('', 'v1', 'nodes');
  for (let i = 1; i <= 6; i++) await nodes.create(nodeObject(`node-${i}`, `zone-${(i - 1) % 3}`));
  await nodes.create(nodeObject('gpu-1', 'zone-0', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  await nodes.create(nodeObject('small-1', 'zone-1', { cpu: '1', taints: [{ key: 'pool', value: 'small', effect: 'NoSchedule' }] }));
  const electionFlags = ['--leader-elect-lease-duration', `${LEASE_SECONDS}s`, '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];
  schedulers = await Promise.all([SchedulerProcess.start([address], { extraArgs: electionFlags }), SchedulerProcess.start([address], { extraArgs: electionFlags })]);
}, 60_000);

afterAll(async () => {
  await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
  client?.close();
  await apiserver?.stop();
  await cluster?.stop();
});

describe('k8ts-scheduler over a real apiserver and store', () => {
  test('spreads the pods of one owner across nodes and zones', async () => {
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-rs-web', controller: true };
    for (let i = 0; i < 6; i++) await pods.create(podObject(`web-${i}`, {}, { labels: { app: 'web' }, ownerReferences: [owner] }));
    const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => boundNode(`web-${i}`)));
    const perNode = new Map<string, number>();
    for (const node of placed) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    expect(Math.max(...perNode.values())).toBe(1);
    const zones = new Set(placed.map((node) => `zone-${(Number(node.split('-')[1]) - 1) % 3}`));
    expect(zones.size).toBe(3);
    expect(placed.some((node) => node === 'gpu-1' || node === 'small-1')).toBe(false);
    const scheduled = await eventsOf('web-0');
    expect(scheduled.map((event) => event.reason)).toContain('Scheduled');
    expect(scheduled.find((event) => event.reason === 'Scheduled')?.message).toBe(`Successfully assigned default/web-0 to ${placed[0]}`);
  });

  test('keeps pods off tainted nodes unless they tolerate the taint', async () => {
    await pods.create(podObject('plain', { nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } }));
    await pods.create(podObject('tolerant', { nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    expect(await boundNode('tolerant')).toBe('gpu-1');
    await eventually(async () => (await eventsOf('plain')).some((event) => event.reason === 'FailedScheduling'), 15_000, 'FailedScheduling of plain');
    const failed = (await eventsOf('plain')).find((event) => event.reason === 'FailedScheduling');
    // Filters run in upstream's order: TaintToleration before NodeAffinity, so each node counts once, for its first rejection.
    expect(failed?.message).toBe(
      "0/8 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {pool: small}, 6 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/8 nodes are available: 8 Preemption is not helpful for scheduling.',
    );
    expect((await pods.get('plain')).spec?.nodeName ?? '').toBe('');
  });

  test('follows node affinity and pod anti-affinity', async () => {
    const inZone1 = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['zone-1'] }] }] } } };
    await pods.create(podObject('zonal', { affinity: inZone1 }));
    expect(['node-2', 'node-5']).toContain(await boundNode('zonal'));
    const apart = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'db' } } }] },
      nodeAffinity: inZone1.nodeAffinity,
    };
    await pods.create(podObject('db-0', { affinity: apart }, { labels: { app: 'db' } }));
    await pods.create(podObject('db-1', { affinity: apart }, { labels: { app: 'db' } }));
    const [first, second] = [await boundNode('db-0'), await boundNode('db-1')];
    expect(new Set([first, second])).toEqual(new Set(['node-2', 'node-5']));
    // A third replica has nowhere to go in zone-1.
    await pods.create(podObject('db-2', { affinity: apart }, { labels: { app: 'db' } }));
    await eventually(async () => (await eventsOf('db-2')).some((event) => event.reason === 'FailedScheduling'), 15_000, 'FailedScheduling of db-2');
  });

  test('leaves a pod that fits nowhere Pending, with the reason in an event and its PodScheduled condition', async () => {
    await pods.create(podObject('huge', requesting('64')));
    await eventually(async () => (await pods.get('huge')).status?.conditions?.some((condition) => condition.type === 'PodScheduled') ?? false, 15_000, 'PodScheduled condition');
    const pod = await pods.get('huge');
    const condition = pod.status?.conditions?.find((entry) => entry.type === 'PodScheduled');
    expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    // Reasons counted over nodes, sorted as strings (as upstream), then what preemption found.
    expect(condition?.message).toBe(
      '0/8 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {pool: small}, 6 Insufficient cpu. ' +
        'preemption: 0/8 nodes are available: 2 Preemption is not helpful for scheduling, 6 No preemption victims found for incoming pod.',
    );
    expect(pod.status?.phase).toBe('Pending');
    const failed = (await eventsOf('huge')).find((event) => event.reason === 'FailedScheduling');
    expect(failed?.type).toBe('Warning');
    expect(failed?.message).toBe(condition?.message);
  });

  test('a higher-priority pod preempts a lower-priority one', async () => {
    const classes = client.resource<KubeObject>('scheduling.k8s.io', 'v1', 'priorityclasses');
    await classes.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'low' }, value: 10 } as KubeObject);
    await classes.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 } as KubeObject);
    const onSmall: Partial<PodSpec> = {
      ...requesting('800m'),
      nodeSelector: { 'kubernetes.io/hostname': 'small-1' },
      tolerations: [{ key: 'pool', operator: 'Exists', effect: 'NoSchedule' }],
    };
    await pods.create(podObject('victim', { ...onSmall, priorityClassName: 'low' }));
    expect(await boundNode('victim')).toBe('small-1');
    await pods.create(podObject('preemptor', { ...onSmall, priorityClassName: 'high' }));
    // The scheduler marks the victim and deletes it; with no kubelet here, the test finishes the deletion.
    await eventually(async () => (await pods.get('victim')).metadata?.deletionTimestamp !== undefined, 15_000, 'victim evicted');
    const victim = await pods.get('victim');
    expect(victim.status?.conditions?.find((condition) => condition.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'PreemptionByScheduler' });
    // The nomination is written with the scheduling failure, after the victims' deletions were asked: wait for it.
    await eventually(async () => (await pods.get('preemptor')).status?.nominatedNodeName === 'small-1', 15_000, 'preemptor nominated to small-1');
    await pods.delete('victim', { gracePeriodSeconds: 0 });
    expect(await boundNode('preemptor')).toBe('small-1');
    expect((await eventsOf('victim')).map((event) => event.reason)).toContain('Preempted');
  });

  test('moves scheduling to the other replica when the leader is killed', async () => {
    const leases = client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-system');
    const holder = (await leases.get('kube-scheduler')).spec?.holderIdentity ?? '';
    const leader = schedulers.find((scheduler) => scheduler.log.includes(`"identity":"${holder}"`));
    expect(leader).toBeDefined();
    await leader!.kill('SIGKILL');
    const killedAt = Date.now();
    await pods.create(podObject('after-failover'));
    await boundNode('after-failover', 30_000);
    const tookMs = Date.now() - killedAt;
    // The survivor takes the lease once it has seen it unrenewed for a lease duration, then schedules.
    const newHolder = (await leases.get('kube-scheduler')).spec?.holderIdentity ?? '';
    expect(newHolder).not.toBe(holder);
    expect(schedulers.some((scheduler) => scheduler !== leader && scheduler.log.includes(`"identity":"${newHolder}"`))).toBe(true);
    // A figure, not a claim: the 30 s wait above only stops waiting; how fast depends on the machine.
    console.log(`figure: scheduler failover (kill -9 of the leader → pod bound by the other replica, lease ${LEASE_SECONDS} s): ${tookMs} ms`);
  });
});
