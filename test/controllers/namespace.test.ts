import { ignoreNotFound, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { ConfigMap, Namespace, NamespaceCondition, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';

/**
 * The namespace controller as users meet it: a real store, apiserver and k8ts-controller-manager
 * (namespace, garbagecollector, deployment and replicaset controllers), driven with the real
 * kubectl. No kubelet runs: where pods bound to a node must finish their graceful deletion, the
 * test does what the kubelet would (a delete with gracePeriodSeconds 0).
 */

type NamespaceObject = Namespace & KubeObject;
type PodObject = Pod & KubeObject;

const CONTROLLERS = 'namespace,garbagecollector,deployment,replicaset';
const WAIT_MS = 60_000;
// Several waits of WAIT_MS may follow one another in a test.
vi.setConfig({ testTimeout: 4 * WAIT_MS });

let plane: ControlPlane;
let manager: ComponentProcess;
let namespaces: ResourceClient<NamespaceObject>;
let configMaps: ResourceClient<ConfigMap & KubeObject>;
let pods: ResourceClient<PodObject>;

function namespaceNamed(name: string): Promise<NamespaceObject | undefined> {
  return ignoreNotFound(namespaces.get(name));
}

function configMap(ns: string, name: string, finalizers: string[] = []): Promise<ConfigMap & KubeObject> {
  return configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...(finalizers.length > 0 ? { finalizers } : {}) }, data: { k: 'v' } });
}

function conditionOf(namespace: NamespaceObject | undefined, type: string): NamespaceCondition | undefined {
  return namespace?.status?.conditions?.find((condition) => condition.type === type);
}

async function untilGone(name: string): Promise<void> {
  await eventually(async () => (await namespaceNamed(name)) === undefined, WAIT_MS, `namespace ${name} deleted`);
}

async function untilRemaining(name: string, message: string): Promise<NamespaceObject> {
  let namespace: NamespaceObject | undefined;
  await eventually(async () => conditionOf((namespace = await namespaceNamed(name)), 'NamespaceContentRemaining')?.message === message, WAIT_MS, `namespace ${name}: ${message}`);
  return namespace as NamespaceObject;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  namespaces = plane.client.resource<NamespaceObject>('', 'v1', 'namespaces');
  configMaps = plane.client.resource<ConfigMap & KubeObject>('', 'v1', 'configmaps');
  pods = plane.client.resource<PodObject>('', 'v1', 'pods');
  manager = await plane.startManager(CONTROLLERS);
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

const SHOP = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: main
        image: busybox
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: { app: web }
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data: { color: blue }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
  namespace: shop
data: { beta: "true" }
`;

describe('deleting a namespace', () => {
  test('kubectl delete ns removes a Deployment, a Service and ConfigMaps, then the namespace, and returns', async () => {
    const applied = await plane.apiserver.kubectl(['apply', '-f', '-'], { input: SHOP });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    // The Deployment is live: its ReplicaSet made its pods.
    await eventually(async () => (await pods.namespace('shop').list()).items.length === 2, WAIT_MS, 'the Deployment\'s pods');

    const deleted = await plane.apiserver.kubectl(['delete', 'ns', 'shop'], { timeoutMs: 2 * WAIT_MS });
    expect(deleted.stderr).toBe('');
    expect(deleted.stdout).toContain('namespace "shop" deleted');
    expect(deleted.code).toBe(0);

    const after = await plane.apiserver.kubectl(['get', 'ns', 'shop']);
    expect(after.stderr).toContain('namespaces "shop" not found');
    for (const [group, resource] of [['apps', 'deployments'], ['apps', 'replicasets'], ['', 'pods'], ['', 'services'], ['', 'configmaps']] as const) {
      const { items } = await plane.client.resource<KubeObject>(group, 'v1', resource).namespace('shop').list();
      expect(items.map((item) => `${resource}/${item.metadata?.name}`)).toEqual([]);
    }
  });

  test('while content remains the namespace says what remains; pods on a node finish their graceful deletion first', async () => {
    await plane.createNamespace('held');
    await configMap('held', 'held-by-finalizer', ['example.com/hold']);
    for (const name of ['on-node-0', 'on-node-1']) {
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'held' }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox' }] } });
    }
    await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unscheduled', namespace: 'held' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    await namespaces.delete('held');

    const waiting = await untilRemaining('held', 'Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances');
    expect(conditionOf(waiting, 'NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain' });
    expect(conditionOf(waiting, 'NamespaceFinalizersRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    });
    expect(conditionOf(waiting, 'NamespaceDeletionContentFailure')).toMatchObject({ status: 'False', reason: 'ContentDeleted' });
    expect(conditionOf(waiting, 'NamespaceDeletionDiscoveryFailure')).toMatchObject({ status: 'False', reason: 'ResourcesDiscovered' });
    expect(waiting.status?.phase).toBe('Terminating');
    expect(waiting.spec?.finalizers).toEqual(['kubernetes']);
    // The pod on no node went at once; those on a node are in their graceful deletion.
    const left = (await pods.namespace('held').list()).items;
    expect(left.map((pod) => pod.metadata?.name).sort()).toEqual(['on-node-0', 'on-node-1']);
    expect(left.every((pod) => pod.metadata?.deletionTimestamp !== undefined)).toBe(true);

    // The kubelet's part: the containers stopped, the pods go.
    for (const pod of left) await pods.namespace('held').delete(pod.metadata?.name as string, { gracePeriodSeconds: 0 });
    await untilRemaining('held', 'Some resources are remaining: configmaps. has 1 resource instances');
    expect(await namespaceNamed('held')).toBeDefined();

    await configMaps.namespace('held').patch('held-by-finalizer', 'merge', { metadata: { finalizers: null } });
    await untilGone('held');
  });

  test('kill -9 of the manager mid-deletion: a new one finishes, also a namespace deleted while none ran', async () => {
    await plane.createNamespace('crash');
    for (let i = 0; i < 30; i++) await configMap('crash', `cm-${i}`);
    await configMap('crash', 'held', ['example.com/hold']);
    await namespaces.delete('crash');
    await untilRemaining('crash', 'Some resources are remaining: configmaps. has 1 resource instances');
    await manager.kill();

    // While no manager runs: the hold is released, and another namespace starts terminating.
    await configMaps.namespace('crash').patch('held', 'merge', { metadata: { finalizers: null } });
    await plane.createNamespace('unattended');
    for (let i = 0; i < 5; i++) await configMap('unattended', `cm-${i}`);
    await namespaces.delete('unattended');
    expect((await namespaceNamed('crash'))?.spec?.finalizers).toEqual(['kubernetes']);
    expect((await namespaceNamed('unattended'))?.status?.phase).toBe('Terminating');

    manager = await plane.startManager(CONTROLLERS);
    await untilGone('crash');
    await untilGone('unattended');
    expect((await configMaps.namespace('unattended').list()).items).toEqual([]);
  });
});
