import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { Node, NodeCondition, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, withManager } from './control_plane.js';

/**
 * Pod GC against a real store, apiserver and k8ts-controller-manager (--controllers podgc): it runs
 * every 20 s and waits a 40 s quarantine before collecting pods of a missing node, as upstream, so
 * this suite takes about a minute. The state is laid out before the first manager starts; that
 * manager is killed -9 after its first deletion, and a second one finishes the work.
 */

let plane: ControlPlane;
let nodes: ResourceClient<Node & KubeObject>;
let pods: ResourceClient<Pod & KubeObject>;

async function createNode(name: string, ready: string, taints: { key: string; value?: string; effect: string }[] = []): Promise<void> {
  const conditions: NodeCondition[] = [{ type: 'Ready', status: ready }];
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints }, status: { conditions } });
}

function podObject(name: string, nodeName?: string): Pod & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...(nodeName === undefined ? {} : { nodeName }) },
  };
}

async function createPod(name: string, options: { node?: string; status?: PodStatus } = {}): Promise<Pod> {
  const created = await pods.create(podObject(name, options.node));
  return options.status === undefined ? created : pods.updateStatus({ ...created, status: { ...created.status, ...options.status } });
}

async function exists(name: string): Promise<boolean> {
  try {
    await pods.get(name);
    return true;
  } catch (error) {
    if ((error as { reason?: string }).reason === 'NotFound') return false;
    throw error;
  }
}

async function gone(names: readonly string[], timeoutMs: number): Promise<void> {
  await eventually(async () => (await Promise.all(names.map(exists))).every((found) => !found), timeoutMs, `${names.join(', ')} gone`);
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('default');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('pod GC', () => {
  test('terminated pods over the threshold go oldest first, pods of a deleted node and terminating pods on an out-of-service node go, the rest stay — across a kill -9', async () => {
    await createNode('healthy', 'True');
    await createNode('out-of-service', 'False', [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }]);
    await createNode('doomed', 'True');

    // Terminated pods: the oldest is last by name, so a GC that sorted by name would keep it.
    const oldest = await createPod('c-oldest', { status: { phase: 'Succeeded' } });
    await eventually(
      async () => (await pods.create(podObject('probe'), { dryRun: true })).metadata?.creationTimestamp !== oldest.metadata?.creationTimestamp,
      10_000,
      'a later creation second',
    );
    await createPod('a-newer', { status: { phase: 'Failed' } });
    await createPod('b-newer', { status: { phase: 'Succeeded' } });
    await createPod('z-evicted', { status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } });

    // Pods of a node that is then deleted; one as a GC killed between its writes left it (Failed, marked, not deleted).
    await createPod('orphan', { node: 'doomed', status: { phase: 'Running' } });
    await createPod('orphan-half-done', {
      node: 'doomed',
      status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }] },
    });
    await nodes.delete('doomed');

    // Terminating pods: on the out-of-service node (no kubelet will finish it) and on a healthy one.
    await createPod('stuck', { node: 'out-of-service', status: { phase: 'Running' } });
    await createPod('stuck-ok', { node: 'healthy', status: { phase: 'Running' } });
    await pods.delete('stuck');
    await pods.delete('stuck-ok');
    await createPod('fine', { node: 'healthy', status: { phase: 'Running' } });
    expect((await pods.get('stuck')).metadata?.deletionTimestamp).toBeDefined();

    // 5 terminated pods, threshold 2: the first pass deletes the evicted one, then the two oldest.
    const flags = ['--terminated-pod-gc-threshold', '2'];
    const first = await plane.startManager('podgc', flags);
    await withManager(first, async () => {
      await gone(['z-evicted', 'c-oldest', 'a-newer'], 60_000);
      expect(await exists('b-newer')).toBe(true); // the next pass is 20 s away
    }); // kill -9, maybe between marking a pod Failed and deleting it

    const second = await plane.startManager('podgc', flags);
    await withManager(second, async () => {
      await gone(['stuck'], 60_000);
      // Collected only once the node has been missing for the quarantine and a GET confirms it.
      await gone(['orphan', 'orphan-half-done'], 120_000);
      for (const name of ['stuck-ok', 'fine']) expect(await exists(name)).toBe(true);
      expect((await pods.get('fine')).status?.phase).toBe('Running');
      const terminated = (await pods.list()).items.filter((pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed');
      expect(terminated.length).toBeLessThanOrEqual(2);
    });
  }, 240_000);
});
