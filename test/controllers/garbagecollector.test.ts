import { randomUUID } from 'node:crypto';
import { ignoreNotFound, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Event, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';

/**
 * The garbage collector as users meet it: a real store, apiserver and k8ts-controller-manager
 * running only `garbagecollector`, driven through the gRPC API and the real kubectl. Owners and
 * dependents are made by hand (ConfigMaps, Secrets, a ReplicaSet with pods and no ReplicaSet
 * controller), so every deletion seen is the collector's.
 */

type Object = KubeObject & { metadata: NonNullable<KubeObject['metadata']> };

let plane: ControlPlane;
let manager: ComponentProcess;
let configMaps: ResourceClient<ConfigMap & Object>;
let secrets: ResourceClient<Secret & Object>;

const WAIT_MS = 60_000;
// Several waits of WAIT_MS may follow one another in a test.
vi.setConfig({ testTimeout: 4 * WAIT_MS });

function ownerRef(owner: KubeObject, options: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: owner.apiVersion as string, kind: owner.kind as string, name: owner.metadata?.name as string, uid: owner.metadata?.uid as string, ...options };
}

function configMap(ns: string, name: string, owners: OwnerReference[] = [], metadata: Partial<Object['metadata']> = {}): Promise<ConfigMap & Object> {
  return configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ownerReferences: owners, ...metadata }, data: { k: 'v' } });
}

function exists(resource: ResourceClient<KubeObject>, ns: string, name: string): Promise<KubeObject | undefined> {
  return ignoreNotFound(resource.namespace(ns).get(name));
}

async function gone(resource: ResourceClient<KubeObject>, ns: string, name: string): Promise<void> {
  await eventually(async () => (await exists(resource, ns, name)) === undefined, WAIT_MS, `${resource.gvr.resource} ${ns}/${name} deleted`);
}

async function countLeft(ns: string, prefix: string): Promise<number> {
  const { items } = await configMaps.namespace(ns).list();
  return items.filter((item) => item.metadata.name?.startsWith(prefix)).length;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  configMaps = plane.client.resource<ConfigMap & Object>('', 'v1', 'configmaps');
  secrets = plane.client.resource<Secret & Object>('', 'v1', 'secrets');
  manager = await plane.startManager('garbagecollector');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('background cascading deletion', () => {
  test('deleting an owner deletes its dependent and the dependent\'s dependent (ConfigMap → Secret → ConfigMap)', async () => {
    const ns = await plane.createNamespace('gc-chain');
    const owner = await configMap(ns, 'owner');
    const middle = await secrets.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'middle', namespace: ns, ownerReferences: [ownerRef(owner)] }, stringData: { a: 'b' } });
    await configMap(ns, 'leaf', [ownerRef(middle)]);
    const bystander = await configMap(ns, 'bystander');
    await configMaps.namespace(ns).delete('owner');
    await gone(secrets, ns, 'middle');
    await gone(configMaps, ns, 'leaf');
    expect((await exists(configMaps, ns, 'bystander'))?.metadata?.uid).toBe(bystander.metadata.uid);
  });

  test('a ReplicaSet made by hand: kubectl delete rs deletes its pods', async () => {
    const ns = await plane.createNamespace('gc-rs');
    const replicaSets = plane.client.resource<ReplicaSet & Object>('apps', 'v1', 'replicasets').namespace(ns);
    const pods = plane.client.resource<Pod & Object>('', 'v1', 'pods').namespace(ns);
    const replicaSet = await replicaSets.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    });
    for (let i = 0; i < 3; i++) {
      await pods.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${i}`, namespace: ns, labels: { app: 'web' }, ownerReferences: [ownerRef(replicaSet, { controller: true, blockOwnerDeletion: true })] },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
      });
    }
    const deleted = await plane.apiserver.kubectl(['delete', 'rs', 'web', '-n', ns], { timeoutMs: WAIT_MS });
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    await eventually(async () => (await pods.list()).items.length === 0, WAIT_MS, 'the ReplicaSet\'s pods deleted');
  });
});

describe('foreground and orphan deletion', () => {
  test('foreground: the owner stays while a blocking dependent does; kubectl delete --cascade=foreground returns after', async () => {
    const ns = await plane.createNamespace('gc-foreground');
    const owner = await configMap(ns, 'owner');
    await configMap(ns, 'blocking', [ownerRef(owner, { blockOwnerDeletion: true })], { finalizers: ['example.com/hold'] });
    await configMap(ns, 'non-blocking', [ownerRef(owner, { blockOwnerDeletion: false })]);
    let returned = false;
    const deleting = plane.apiserver.kubectl(['delete', 'configmap', 'owner', '-n', ns, '--cascade=foreground'], { timeoutMs: 2 * WAIT_MS }).finally(() => (returned = true));
    // Every dependent is deleted; the held one stays, marked, and holds its owner.
    await gone(configMaps, ns, 'non-blocking');
    await eventually(async () => (await exists(configMaps, ns, 'blocking'))?.metadata?.deletionTimestamp !== undefined, WAIT_MS, 'the blocking dependent marked for deletion');
    const waiting = await exists(configMaps, ns, 'owner');
    expect(waiting?.metadata?.deletionTimestamp).toBeDefined();
    expect(waiting?.metadata?.finalizers).toEqual(['foregroundDeletion']);
    expect(returned).toBe(false);
    // The hold is released: the dependent goes, then the owner, then kubectl returns.
    await configMaps.namespace(ns).patch('blocking', 'merge', { metadata: { finalizers: null } });
    const result = await deleting;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await exists(configMaps, ns, 'owner')).toBeUndefined();
    expect(await exists(configMaps, ns, 'blocking')).toBeUndefined();
  });

  test('orphan: kubectl delete --cascade=orphan leaves the dependents with that ownerReference removed', async () => {
    const ns = await plane.createNamespace('gc-orphan');
    const owner = await configMap(ns, 'owner');
    const other = await configMap(ns, 'other-owner');
    await configMap(ns, 'only-child', [ownerRef(owner, { blockOwnerDeletion: true })]);
    await configMap(ns, 'two-parents', [ownerRef(owner), ownerRef(other)]);
    const result = await plane.apiserver.kubectl(['delete', 'configmap', 'owner', '-n', ns, '--cascade=orphan'], { timeoutMs: WAIT_MS });
    expect(result.code).toBe(0);
    expect(await exists(configMaps, ns, 'owner')).toBeUndefined();
    expect((await exists(configMaps, ns, 'only-child'))?.metadata?.ownerReferences ?? []).toEqual([]);
    expect((await exists(configMaps, ns, 'two-parents'))?.metadata?.ownerReferences?.map((ref) => ref.uid)).toEqual([other.metadata.uid]);
  });
});

describe('owners that are gone, and owners that are only late', () => {
  test('a dependent whose owner never existed is collected', async () => {
    const ns = await plane.createNamespace('gc-dangling');
    await configMap(ns, 'stray', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: randomUUID() }]);
    await gone(configMaps, ns, 'stray');
  });

  test('an object whose owner exists but is not in the collector\'s caches is not deleted', async () => {
    // The collector never watches Events (upstream ignores them too): an Event owner is an owner
    // its caches never show, the extreme of a lagging cache. Only a live read can say it exists.
    const ns = await plane.createNamespace('gc-lagging');
    const events = plane.client.resource<Event & Object>('', 'v1', 'events').namespace(ns);
    const event = await events.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'owner-event', namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'kept', namespace: ns },
      reason: 'Testing',
      message: 'an owner the collector does not watch',
      type: 'Normal',
    });
    const kept = await configMap(ns, 'kept', [ownerRef(event)]);
    // Wait until the collector has checked the owner and found it alive (it looks again later),
    // or has deleted the dependent (wrongly) ...
    const checked = (): boolean => manager.log.includes(`"item":"${event.metadata.uid}"`) && manager.log.includes('has not been observed by an informer yet');
    await eventually(async () => checked() || (await exists(configMaps, ns, 'kept')) === undefined, WAIT_MS, 'the collector checked the Event owner');
    // ... the dependent is still there.
    expect((await exists(configMaps, ns, 'kept'))?.metadata?.uid).toBe(kept.metadata.uid);
    // Once the owner really goes, the next look finds it gone and collects the dependent.
    await events.delete('owner-event');
    await gone(configMaps, ns, 'kept');
  });
});

describe('crashes and changes behind its back', () => {
  test('an owner deleted and re-created under its name while the collector was down does not keep the old dependent', async () => {
    const ns = await plane.createNamespace('gc-recreated');
    const first = await configMap(ns, 'phoenix');
    await configMap(ns, 'old-child', [ownerRef(first)]);
    await manager.kill();
    await configMaps.namespace(ns).delete('phoenix');
    const second = await configMap(ns, 'phoenix');
    await configMap(ns, 'new-child', [ownerRef(second)]);
    manager = await plane.startManager('garbagecollector');
    await gone(configMaps, ns, 'old-child');
    expect((await exists(configMaps, ns, 'phoenix'))?.metadata?.uid).toBe(second.metadata.uid);
    expect(await exists(configMaps, ns, 'new-child')).toBeDefined();
  });

  test('kill -9 in the middle of a cascade: a new manager finishes it, and what changed while none ran', async () => {
    const ns = await plane.createNamespace('gc-crash');
    const count = 100;
    await manager.kill();
    // A manager slow enough to be caught half-way (20 requests per second, no burst).
    manager = await plane.startManager('garbagecollector', ['--kube-api-qps', '20', '--kube-api-burst', '1']);
    const owner = await configMap(ns, 'owner');
    for (let i = 0; i < count; i++) await configMap(ns, `child-${i}`, [ownerRef(owner, { blockOwnerDeletion: true })]);
    await configMaps.namespace(ns).delete('owner', { propagationPolicy: 'Foreground' });
    await eventually(async () => (await countLeft(ns, 'child-')) < count, WAIT_MS, 'the cascade started');
    await manager.kill();
    const left = await countLeft(ns, 'child-');
    expect(left).toBeGreaterThan(0);
    expect((await exists(configMaps, ns, 'owner'))?.metadata?.finalizers).toEqual(['foregroundDeletion']);

    // While no collector runs: a foreground deletion and an orphaning begin, with nobody to finish them.
    const waiting = await configMap(ns, 'waiting-owner');
    await configMap(ns, 'waiting-child', [ownerRef(waiting, { blockOwnerDeletion: true })]);
    await configMaps.namespace(ns).delete('waiting-owner', { propagationPolicy: 'Foreground' });
    const orphaning = await configMap(ns, 'orphaning-owner');
    await configMap(ns, 'orphan-child', [ownerRef(orphaning)]);
    await configMaps.namespace(ns).delete('orphaning-owner', { propagationPolicy: 'Orphan' });

    manager = await plane.startManager('garbagecollector');
    await eventually(async () => (await countLeft(ns, 'child-')) === 0, WAIT_MS, 'every child deleted');
    await gone(configMaps, ns, 'owner');
    await gone(configMaps, ns, 'waiting-child');
    await gone(configMaps, ns, 'waiting-owner');
    await gone(configMaps, ns, 'orphaning-owner');
    expect((await exists(configMaps, ns, 'orphan-child'))?.metadata?.ownerReferences ?? []).toEqual([]);
  });
});
