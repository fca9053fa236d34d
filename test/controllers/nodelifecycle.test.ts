import { formatMicroTime, formatTime } from '@k8ts/apimachinery';
import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event, Node, NodeCondition, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, withManager } from './control_plane.js';

/**
 * Node lifecycle and taint eviction as users meet them: a real store, apiserver and
 * k8ts-controller-manager (nodelifecycle + taint-eviction-controller) over Node objects whose
 * kubelet the test stands in for — it renews each node's Lease in kube-node-lease and posts its
 * Ready heartbeat every second, and stops to make a node go silent. One healthy node in a zone of
 * its own keeps the cluster out of "every zone down" mode, where evictions stop by design.
 */

/** Fast but forgiving: a heartbeat every second, a node unheard for 8 s is Unknown (a loaded machine may stall a beat or two). */
const FAST_NODE_FLAGS = ['--node-monitor-period', '1s', '--node-monitor-grace-period', '8s', '--node-startup-grace-period', '8s'];
const CONTROLLERS = 'nodelifecycle,taint-eviction-controller';
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const ZONE = 'topology.kubernetes.io/zone';

let plane: ControlPlane;
let nodes: ResourceClient<Node & KubeObject>;
let pods: ResourceClient<Pod & KubeObject>;
let leases: ResourceClient<Lease & KubeObject>;
let kubelet: FakeKubelets;

const seconds = (time: string | undefined): number => Date.parse(time ?? '') / 1000;

function kubeletConditions(nowMs: number): NodeCondition[] {
  const condition = (type: string, status: string, reason: string): NodeCondition => ({ type, status, reason, message: reason, lastHeartbeatTime: formatTime(nowMs), lastTransitionTime: formatTime(nowMs) });
  return [
    condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
    condition('Ready', 'True', 'KubeletReady'),
  ];
}

/**
 * The kubelets of the test's nodes: every second, for each beating node, the Lease's renewTime
 * moves and the conditions are posted with a new heartbeat (a strategic merge patch of the status,
 * as the kubelet sends), keeping each condition's transition time while its status holds.
 */
class FakeKubelets {
  private readonly beating = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private ticking: Promise<void> | undefined;

  constructor() {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, 1000);
  }

  async register(name: string, zone: string): Promise<void> {
    const now = Date.now();
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, [ZONE]: zone } }, spec: {}, status: { conditions: kubeletConditions(now) } });
    await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: formatMicroTime(now) } });
    this.beating.add(name);
  }

  stop(name: string): void {
    this.beating.delete(name);
  }

  resume(name: string): void {
    this.beating.add(name);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  private async tick(): Promise<void> {
    await Promise.all(
      [...this.beating].map(async (name) => {
        const now = Date.now();
        try {
          await leases.patch(name, 'merge', { spec: { renewTime: formatMicroTime(now) } });
          const current = (await nodes.get(name)).status?.conditions ?? [];
          const conditions = kubeletConditions(now).map((condition) => {
            const was = current.find((c) => c.type === condition.type);
            return was?.status === condition.status ? { ...condition, lastTransitionTime: was.lastTransitionTime ?? condition.lastTransitionTime } : condition;
          });
          await nodes.patch(name, 'strategic', { status: { conditions } }, { status: true });
        } catch {
          // A missed heartbeat is what a real kubelet has too; the next tick posts again.
        }
      }),
    );
  }
}

async function podOn(name: string, node: string, tolerations: Toleration[] = [], ready = false): Promise<void> {
  await pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'busybox' }], tolerations },
  });
  if (ready) {
    const pod = await pods.get(name);
    await pods.updateStatus({ ...pod, status: { ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(Date.now()) }] } });
  }
}

const tolerateUnreachable = (tolerationSeconds?: number): Toleration[] => [
  { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds === undefined ? {} : { tolerationSeconds }) },
];

function noExecuteTaint(node: Node): Taint | undefined {
  return (node.spec?.taints ?? []).find((taint) => taint.key === UNREACHABLE && taint.effect === 'NoExecute');
}

/** The pod, once the taint eviction controller has marked and deleted it (it stays Terminating: no kubelet finishes it). */
async function evicted(name: string, timeoutMs = 60_000): Promise<Pod> {
  let pod: Pod | undefined;
  await eventually(
    async () => {
      pod = await pods.get(name);
      return pod.metadata?.deletionTimestamp !== undefined;
    },
    timeoutMs,
    `pod ${name} evicted`,
  );
  return pod as Pod;
}

/** When the pod's deletion was asked for: its deletionTimestamp less its grace period. */
const deletionRequestedS = (pod: Pod): number => seconds(pod.metadata?.deletionTimestamp) - (pod.metadata?.deletionGracePeriodSeconds ?? 0);

async function unreachableTaintOf(node: string, timeoutMs = 60_000): Promise<Taint> {
  let taint: Taint | undefined;
  await eventually(async () => (taint = noExecuteTaint(await nodes.get(node))) !== undefined, timeoutMs, `${node} tainted unreachable:NoExecute`);
  return taint as Taint;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('default');
  leases = plane.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-node-lease');
  kubelet = new FakeKubelets();
  await kubelet.register('alive', 'zone-0');
}, 60_000);

afterAll(async () => {
  await kubelet?.close();
  await plane?.stop();
});

describe('node lifecycle', () => {
  test('a node whose Lease stops being renewed goes Unknown, gets the taint, and its pods are evicted after their tolerationSeconds; when its Lease resumes it is Ready and untainted', async () => {
    await kubelet.register('dying', 'zone-a');
    await podOn('short', 'dying', tolerateUnreachable(3));
    await podOn('at-once', 'dying', tolerateUnreachable(0));
    await podOn('forever', 'dying', tolerateUnreachable());
    await podOn('defaulted', 'dying', [], true); // DefaultTolerationSeconds gives it 300 s
    await podOn('elsewhere', 'alive', tolerateUnreachable(3));
    expect((await pods.get('defaulted')).spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const manager = await plane.startManager(CONTROLLERS, FAST_NODE_FLAGS);
    await withManager(manager, async () => {

      // Healthy while heard from: registered by the controller, left Ready and untainted.
      await eventually(async () => (await eventsAbout('dying')).some((e) => e.reason === 'RegisteredNode'), 30_000, 'dying registered');
      const healthy = await nodes.get('dying');
      expect(healthy.spec?.taints ?? []).toEqual([]);
      expect(nodeConditionsOf(healthy).find((c) => c.type === 'Ready')?.status).toBe('True');
      kubelet.stop('dying');

      await eventually(async () => nodeConditionsOf(await nodes.get('dying')).every((c) => c.status === 'Unknown'), 60_000, 'dying node Unknown');
      const dying = await nodes.get('dying');
      const ready = nodeConditionsOf(dying).find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
      expect(nodeConditionsOf(dying).map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);

      const taint = await unreachableTaintOf('dying');
      expect(taint.timeAdded).toBeDefined();
      await eventually(async () => (await nodes.get('dying')).spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoSchedule') ?? false, 30_000, 'unreachable:NoSchedule');

      // Evicted: marked DisruptionTarget by the taint manager, then deleted — not before its tolerationSeconds.
      const atOnce = await evicted('at-once');
      const short = await evicted('short');
      for (const pod of [atOnce, short]) {
        expect(pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
        });
      }
      expect(deletionRequestedS(short)).toBeGreaterThanOrEqual(seconds(taint.timeAdded) + 3);
      expect(deletionRequestedS(atOnce)).toBeGreaterThanOrEqual(seconds(taint.timeAdded));
      expect((await eventsAbout('short')).some((e) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/short')).toBe(true);

      // Pods that tolerate it longer (300 s) or forever stay, marked not Ready; pods elsewhere are untouched.
      await eventually(async () => (await pods.get('defaulted')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 30_000, 'defaulted pod not ready');
      for (const name of ['forever', 'defaulted', 'elsewhere']) expect((await pods.get(name)).metadata?.deletionTimestamp).toBeUndefined();

      // The kubelet comes back: Ready again, both unreachable taints gone.
      kubelet.resume('dying');
      await eventually(
        async () => {
          const node = await nodes.get('dying');
          return nodeConditionsOf(node).find((c) => c.type === 'Ready')?.status === 'True' && !(node.spec?.taints ?? []).some((t) => t.key === UNREACHABLE);
        },
        60_000,
        'dying node Ready and untainted',
      );
      expect((await pods.get('forever')).metadata?.deletionTimestamp).toBeUndefined();
    });
  }, 180_000);

  test('a replica killed -9 mid-eviction leaves the taint; the next keeps its timeAdded, evicts on time, and finishes half-done nodes', async () => {
    await kubelet.register('crashy', 'zone-c');
    await podOn('crashy-pod', 'crashy', tolerateUnreachable(8));
    const first = await plane.startManager(CONTROLLERS, FAST_NODE_FLAGS);
    let taint: Taint | undefined;
    await withManager(first, async () => {
      await eventually(async () => (await eventsAbout('crashy')).some((e) => e.reason === 'RegisteredNode'), 30_000, 'crashy registered');
      kubelet.stop('crashy');
      taint = await unreachableTaintOf('crashy');
    }); // kill -9 with the eviction still 8 s ahead

    // State a replica killed between its writes leaves: a node written Unknown but not tainted yet.
    await nodes.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'half-done', labels: { [ZONE]: 'zone-d' } },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }] },
    });
    await podOn('half-done-pod', 'half-done', tolerateUnreachable(0));

    const second = await plane.startManager(CONTROLLERS, FAST_NODE_FLAGS);
    await withManager(second, async () => {
      const pod = await evicted('crashy-pod', 90_000);
      expect(deletionRequestedS(pod)).toBeGreaterThanOrEqual(seconds(taint?.timeAdded) + 8);
      // The taint the killed replica wrote stands, with its first timeAdded: the tolerationSeconds did not restart.
      expect(noExecuteTaint(await nodes.get('crashy'))?.timeAdded).toBe(taint?.timeAdded);

      await unreachableTaintOf('half-done');
      await evicted('half-done-pod');
    });
  }, 180_000);
});

async function eventsAbout(name: string): Promise<Event[]> {
  const events = await plane.client.resource<Event & KubeObject>('', 'v1', 'events').namespace('default').list();
  return events.items.filter((event) => event.involvedObject?.name === name);
}

function nodeConditionsOf(node: Node): NodeCondition[] {
  return node.status?.conditions ?? [];
}
