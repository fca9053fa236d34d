import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, withManager } from './control_plane.js';

/**
 * The disruption controller against a real store, apiserver and k8ts-controller-manager
 * (--controllers disruption): it keeps each PodDisruptionBudget's status true to its pods, and that
 * status is what the apiserver's eviction subresource allows or refuses. The pods are written here
 * as a kubelet would (Ready), with no other controller running.
 */
type Budget = PodDisruptionBudget & KubeObject;

let plane: ControlPlane;
let pods: ResourceClient<Pod & KubeObject>;
let budgets: ResourceClient<Budget>;
let replicaSets: ResourceClient<ReplicaSet & KubeObject>;

beforeAll(async () => {
  plane = await ControlPlane.start();
  await plane.createNamespace('pdb');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('pdb');
  budgets = plane.client.resource<Budget>('policy', 'v1', 'poddisruptionbudgets').namespace('pdb');
  replicaSets = plane.client.resource<ReplicaSet & KubeObject>('apps', 'v1', 'replicasets').namespace('pdb');
}, 90_000);

afterAll(async () => {
  await plane?.stop();
});

async function readyPod(name: string, labels: Record<string, string>, owner?: ReplicaSet & KubeObject): Promise<void> {
  const created = await pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels,
      ...(owner === undefined
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true }] }),
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox' }] },
  });
  await pods.updateStatus({ ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
}

async function statusOf(name: string): Promise<PodDisruptionBudget['status']> {
  return (await budgets.get(name)).status;
}

async function evict(name: string): Promise<number> {
  const response = await fetch(`${plane.apiserver.url}/api/v1/namespaces/pdb/pods/${name}/eviction`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the disruption controller', () => {
  test('computes budgets from their pods, and evictions follow that status', async () => {
    const manager = await plane.startManager('disruption');
    await withManager(manager, async () => {
      for (const name of ['web-1', 'web-2', 'web-3']) await readyPod(name, { app: 'web' });
      await budgets.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
      // The first status may come before the controller's pod cache has every pod Ready (pods and
      // budgets come on separate watches): wait for the one that counts all three.
      await eventually(async () => {
        const status = await statusOf('web');
        return status?.observedGeneration === 1 && status.currentHealthy === 3;
      }, 30_000, 'a status counting the three Ready pods');
      const first = await statusOf('web');
      expect(first).toMatchObject({ expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
      expect(first?.conditions).toContainEqual(expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }));

      // One eviction is allowed; the evicted pod then no longer counts, and the next is refused.
      expect(await evict('web-1')).toBe(201);
      await eventually(async () => (await statusOf('web'))?.currentHealthy === 2, 30_000, 'the evicted pod to stop counting');
      expect(await statusOf('web')).toMatchObject({ disruptionsAllowed: 0 });
      expect(await evict('web-2')).toBe(429);

      // A replacement turns Ready: a disruption is allowed again.
      await readyPod('web-4', { app: 'web' });
      await eventually(async () => (await statusOf('web'))?.disruptionsAllowed === 1, 30_000, 'the replacement to count');
      expect(await evict('web-2')).toBe(201);

      // A spec change moves the generation; the controller catches up with it.
      // A merge patch, as kubectl would send: the controller writes the status in between.
      await budgets.patch('web', 'merge', { spec: { minAvailable: 1 } });
      await eventually(async () => (await statusOf('web'))?.observedGeneration === 2, 30_000, 'the new generation');
      expect(await statusOf('web')).toMatchObject({ desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });
    });
  });

  test("maxUnavailable counts the controller's replicas; an unknown controller allows nothing", async () => {
    const manager = await plane.startManager('disruption');
    await withManager(manager, async () => {
      const owner = await replicaSets.create({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'api' },
        spec: { replicas: 4, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
      });
      for (const name of ['api-1', 'api-2', 'api-3']) await readyPod(name, { app: 'api' }, owner);
      await budgets.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } } });
      await eventually(async () => {
        const status = await statusOf('api');
        return status?.expectedPods === 4 && status.currentHealthy === 3;
      }, 30_000, 'the expected count from the ReplicaSet, the three Ready pods counted');
      expect(await statusOf('api')).toMatchObject({ desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
      expect(await evict('api-1')).toBe(429);

      await readyPod('lost-1', { app: 'lost' }, { ...owner, metadata: { ...owner.metadata, name: 'nowhere', uid: 'no-such-uid' } });
      await budgets.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'lost' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'lost' } } } });
      await eventually(
        async () => ((await statusOf('lost'))?.conditions ?? []).some((condition) => condition.reason === 'SyncFailed'),
        30_000,
        'the fail-safe status',
      );
      const failed = await statusOf('lost');
      expect(failed?.disruptionsAllowed).toBe(0);
      expect(failed?.conditions).toContainEqual(expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "lost-1"' }));
    });
  });
});
