import { spawn } from 'node:child_process';
import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from '../controllers/control_plane.js';

/**
 * `kubectl drain` (v1.32) against real processes: store, apiserver and a controller manager running
 * the disruption controller. Nodes and pods are created through the API; drain cordons the node and
 * evicts its pods through the Eviction API, which a PodDisruptionBudget holds back until a
 * replacement is Ready. No kubelet runs: a stand-in here finishes the deletion of pods marked for
 * deletion on the drained node (what the kubelet does once their containers stopped).
 */
let plane: ControlPlane;
let pods: ResourceClient<Pod & KubeObject>;
let nodes: ResourceClient<Node & KubeObject>;
let kubeletStandIn: NodeJS.Timeout | undefined;

beforeAll(async () => {
  plane = await ControlPlane.start();
  await plane.createNamespace('shop');
  pods = plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace('shop');
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  for (const name of ['node-1', 'node-2']) {
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  }
  await plane.startManager('disruption');
  // The kubelet's final delete of pods whose deletion started (their processes stopped at once here).
  kubeletStandIn = setInterval(() => {
    void (async () => {
      for (const pod of (await pods.list()).items) {
        if (pod.metadata?.deletionTimestamp === undefined) continue;
        await pods.delete(pod.metadata?.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      }
    })().catch(() => undefined);
  }, 200);
}, 90_000);

afterAll(async () => {
  if (kubeletStandIn !== undefined) clearInterval(kubeletStandIn);
  await plane?.stop();
});

async function readyPod(name: string, node: string, owner?: ReplicaSet & KubeObject): Promise<void> {
  const created = await pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: owner === undefined ? 'bare' : 'web' },
      ...(owner === undefined
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true }] }),
    },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox' }] },
  });
  await pods.updateStatus({ ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
}

async function podNames(): Promise<string[]> {
  return (await pods.list()).items.map((pod) => pod.metadata?.name ?? '').sort();
}

describe('kubectl drain', () => {
  test('cordons, refuses unmanaged pods without --force, evicts through the API, and waits on the disruption budget', async () => {
    const owner = await plane.client.resource<ReplicaSet & KubeObject>('apps', 'v1', 'replicasets').namespace('shop').create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    });
    await readyPod('web-1', 'node-1', owner);
    await readyPod('web-2', 'node-1', owner);
    await readyPod('web-3', 'node-2', owner);
    await readyPod('bare', 'node-1');
    const budget = await plane.apiserver.kubectl(['create', 'pdb', 'web', '-n', 'shop', '--selector', 'app=web', '--min-available', '2']);
    expect(budget.stderr).toBe('');
    await eventually(async () => (await plane.apiserver.kubectl(['get', 'pdb', 'web', '-n', 'shop', '-o', 'jsonpath={.status.disruptionsAllowed}'])).stdout === '1', 30_000, 'the budget to allow one disruption');

    const refused = await plane.apiserver.kubectl(['drain', 'node-1', '--ignore-daemonsets', '--timeout', '20s']);
    expect(refused.stderr).toContain('cannot delete Pods that declare no controller (use --force to override): shop/bare');
    expect((await nodes.get('node-1')).spec?.unschedulable).toBe(true);
    expect((await plane.apiserver.kubectl(['get', 'nodes', 'node-1'])).stdout).toContain('Ready,SchedulingDisabled');

    // With --force: the bare pod and one web pod go at once; the second web pod waits on the budget.
    const drain = spawn('kubectl', ['--kubeconfig', plane.apiserver.kubeconfig, 'drain', 'node-1', '--ignore-daemonsets', '--force', '--timeout', '90s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    drain.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    drain.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => drain.on('exit', done));
    await eventually(() => output.includes("Cannot evict pod as it would violate the pod's disruption budget."), 60_000, 'drain to be held back by the budget');
    await eventually(async () => (await podNames()).join(' ').match(/^web-\d web-3$/) !== null, 30_000, 'the bare pod and one web pod of node-1 to go');

    // The ReplicaSet's replacement (made by hand here) turns Ready on node-2: the budget lets drain finish.
    await readyPod('web-4', 'node-2', owner);
    expect(await exited).toBe(0);
    expect(output).toContain('node/node-1 drained');
    expect(output).toMatch(/evicting pod shop\/web-[12]/);
    expect(await podNames()).toEqual(['web-3', 'web-4']);
  });
});
