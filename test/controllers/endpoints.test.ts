import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { Endpoints, Node, Pod, Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointConditions, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';
import { withLaggingController } from './lagging_client.js';
import { reportPodRunning } from './pod_readiness.js';

/**
 * The Endpoints and EndpointSlice controllers as users meet them: a real store, apiserver and
 * k8ts-controller-manager (`--controllers endpoint,endpointslice`) over registered Node objects.
 * No kubelet runs: the test gives pods their IP and readiness through the status subresource, as a
 * kubelet would, and finishes their graceful deletion.
 */

type PodObject = Pod & KubeObject;
type ServiceObject = Service & KubeObject;
type EndpointsObject = Endpoints & KubeObject;
type SliceObject = EndpointSlice & KubeObject;

/** Per test: several waits of up to WAIT_MS each on a machine shared by many workers. */
const TEST_TIMEOUT_MS = 180_000;
const WAIT_MS = 60_000;
const CONTROLLERS_UNDER_TEST = 'endpoint,endpointslice';
const ZONE = 'topology.kubernetes.io/zone';

let plane: ControlPlane;
let manager: ComponentProcess;
let pods: ResourceClient<PodObject>;
let services: ResourceClient<ServiceObject>;
let endpoints: ResourceClient<EndpointsObject>;
let slices: ResourceClient<SliceObject>;

function serviceObject(name: string, spec: ServiceSpec = {}): ServiceObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { team: 'web' } }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } };
}

async function createPod(ns: string, name: string, app: string, options: { node?: string; httpPort?: number } = {}): Promise<PodObject> {
  return pods.namespace(ns).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { nodeName: options.node ?? 'node-a', containers: [{ name: 'main', image: 'busybox', ports: [{ name: 'http', containerPort: options.httpPort ?? 8080 }] }] },
  });
}

/** Stands in for the kubelet: the pod Running with `ip`, Ready or not. */
function setStatus(ns: string, name: string, ip: string, ready: boolean): Promise<void> {
  return reportPodRunning(plane.client, ns, name, { ip, ready });
}

async function createReadyPods(ns: string, app: string, count: number, ipPrefix: string): Promise<void> {
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, (_, i) => start + i);
    await Promise.all(
      batch.map(async (i) => {
        const name = `${app}-${String(i).padStart(3, '0')}`;
        await createPod(ns, name, app, { node: i % 2 === 0 ? 'node-a' : 'node-b' });
        await setStatus(ns, name, `${ipPrefix}.${Math.floor(i / 250)}.${i % 250}`, true);
      }),
    );
  }
}

async function endpointsOf(ns: string, name: string): Promise<EndpointsObject | undefined> {
  try {
    return await endpoints.namespace(ns).get(name);
  } catch {
    return undefined;
  }
}

async function slicesOf(ns: string, service: string): Promise<SliceObject[]> {
  return (await slices.namespace(ns).list({ labelSelector: `kubernetes.io/service-name=${service}` })).items;
}

/** Pod names in `addresses` and `notReadyAddresses`, sorted. */
function addressView(object: EndpointsObject | undefined): { ready: string[]; notReady: string[] } {
  const names = (key: 'addresses' | 'notReadyAddresses'): string[] =>
    (object?.subsets ?? []).flatMap((subset) => (subset[key] ?? []).map((address) => address.targetRef?.name ?? '')).sort();
  return { ready: names('addresses'), notReady: names('notReadyAddresses') };
}

/** Pod name → conditions over all slices (a pod listed twice shows up as a duplicate entry). */
function sliceView(list: readonly SliceObject[]): { byPod: Map<string, EndpointConditions | undefined>; count: number } {
  const byPod = new Map<string, EndpointConditions | undefined>();
  let count = 0;
  for (const slice of list) {
    for (const endpoint of slice.endpoints ?? []) {
      byPod.set(endpoint.targetRef?.name ?? '', endpoint.conditions);
      count++;
    }
  }
  return { byPod, count };
}

async function untilAddresses(ns: string, name: string, expected: { ready: string[]; notReady: string[] }): Promise<EndpointsObject> {
  let last: EndpointsObject | undefined;
  await eventually(
    async () => (last = await endpointsOf(ns, name)) !== undefined && JSON.stringify(addressView(last)) === JSON.stringify(expected),
    WAIT_MS,
    `endpoints ${ns}/${name} = ${JSON.stringify(expected)} (last: ${JSON.stringify(addressView(last))})`,
  );
  return last as EndpointsObject;
}

/** Waits until the Service's slices list exactly `expected` (pod → ready), each pod once (none: the empty placeholder slice). */
async function untilSlices(ns: string, name: string, expected: Record<string, boolean>): Promise<SliceObject[]> {
  let last: SliceObject[] = [];
  const matches = (list: SliceObject[]): boolean => {
    const { byPod, count } = sliceView(list);
    return list.length > 0 && count === Object.keys(expected).length && Object.entries(expected).every(([pod, ready]) => byPod.has(pod) && byPod.get(pod)?.ready === ready);
  };
  await eventually(async () => matches((last = await slicesOf(ns, name))), WAIT_MS, `slices of ${ns}/${name} = ${JSON.stringify(expected)}`);
  return last;
}

async function replaceManager(between?: () => Promise<void>): Promise<void> {
  await manager.kill();
  await between?.();
  manager = await plane.startManager(CONTROLLERS_UNDER_TEST);
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  pods = plane.client.resource<PodObject>('', 'v1', 'pods');
  services = plane.client.resource<ServiceObject>('', 'v1', 'services');
  endpoints = plane.client.resource<EndpointsObject>('', 'v1', 'endpoints');
  slices = plane.client.resource<SliceObject>('discovery.k8s.io', 'v1', 'endpointslices');
  const nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { [ZONE]: 'zone-1' } } });
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b', labels: { [ZONE]: 'zone-2' } } });
  manager = await plane.startManager(CONTROLLERS_UNDER_TEST);
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('Endpoints and EndpointSlices', () => {
  test('follow the pods’ readiness: addresses and notReadyAddresses, slice conditions, labels, owner, zone', async () => {
    const ns = await plane.createNamespace('ep-ready');
    const service = await services.namespace(ns).create(serviceObject('web'));
    for (const name of ['a', 'b', 'c']) await createPod(ns, name, 'web');
    await createPod(ns, 'no-ip', 'web');
    await setStatus(ns, 'a', '10.1.0.1', true);
    await setStatus(ns, 'b', '10.1.0.2', true);
    await setStatus(ns, 'c', '10.1.0.3', false);

    const first = await untilAddresses(ns, 'web', { ready: ['a', 'b'], notReady: ['c'] });
    expect(first.metadata?.labels).toEqual({ team: 'web' });
    expect(first.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(first.subsets).toHaveLength(1);
    expect(first.subsets?.[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const podA = await pods.namespace(ns).get('a');
    expect(first.subsets?.[0]?.addresses?.[0]).toEqual({ ip: '10.1.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: ns, name: 'a', uid: podA.metadata?.uid } });

    const [slice] = await untilSlices(ns, 'web', { a: true, b: true, c: false });
    expect(slice?.metadata?.generateName).toBe('web-');
    expect(slice?.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice?.metadata?.labels).toEqual({ team: 'web', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: service.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice?.endpoints?.find((endpoint) => endpoint.targetRef?.name === 'a')).toEqual({
      addresses: ['10.1.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: ns, name: 'a', uid: podA.metadata?.uid },
      nodeName: 'node-a',
      zone: 'zone-1',
    });

    // Readiness flips: a goes not ready, c ready; the pod without an IP gets one.
    await setStatus(ns, 'a', '10.1.0.1', false);
    await setStatus(ns, 'c', '10.1.0.3', true);
    await setStatus(ns, 'no-ip', '10.1.0.4', true);
    await untilAddresses(ns, 'web', { ready: ['b', 'c', 'no-ip'], notReady: ['a'] });
    await untilSlices(ns, 'web', { a: false, b: true, c: true, 'no-ip': true });

    // A pod whose labels stop matching leaves; a deleted pod leaves.
    await pods.namespace(ns).patch('b', 'merge', { metadata: { labels: { app: 'other' } } });
    await pods.namespace(ns).delete('no-ip', { gracePeriodSeconds: 0 });
    await untilAddresses(ns, 'web', { ready: ['c'], notReady: ['a'] });
    await untilSlices(ns, 'web', { a: false, c: true });
  }, TEST_TIMEOUT_MS);

  test('a terminating pod leaves the Endpoints and shows terminating in its slice', async () => {
    const ns = await plane.createNamespace('ep-terminating');
    await services.namespace(ns).create(serviceObject('web'));
    for (const [name, ip] of [['live', '10.2.0.1'], ['dying', '10.2.0.2']] as const) {
      await createPod(ns, name, 'web');
      await setStatus(ns, name, ip, true);
    }
    await untilAddresses(ns, 'web', { ready: ['dying', 'live'], notReady: [] });
    // A pod on a node is deleted gracefully: it stays, with a deletionTimestamp, until its kubelet finishes.
    await pods.namespace(ns).delete('dying');
    expect((await pods.namespace(ns).get('dying')).metadata?.deletionTimestamp).toBeDefined();
    await untilAddresses(ns, 'web', { ready: ['live'], notReady: [] });
    const list = await untilSlices(ns, 'web', { live: true, dying: false });
    expect(sliceView(list).byPod.get('dying')).toEqual({ ready: false, serving: true, terminating: true });
    await pods.namespace(ns).delete('dying', { gracePeriodSeconds: 0 });
    await untilSlices(ns, 'web', { live: true });
  }, TEST_TIMEOUT_MS);

  test('a named targetPort is resolved per pod: different container ports, different subsets and slices', async () => {
    const ns = await plane.createNamespace('ep-named-port');
    await services.namespace(ns).create(serviceObject('web'));
    await createPod(ns, 'old-1', 'web', { httpPort: 8080 });
    await createPod(ns, 'old-2', 'web', { httpPort: 8080 });
    await createPod(ns, 'new-1', 'web', { httpPort: 9090 });
    await setStatus(ns, 'old-1', '10.3.0.1', true);
    await setStatus(ns, 'old-2', '10.3.0.2', true);
    await setStatus(ns, 'new-1', '10.3.0.3', true);
    const object = await untilAddresses(ns, 'web', { ready: ['new-1', 'old-1', 'old-2'], notReady: [] });
    const byPort = (object.subsets ?? []).map((subset) => [subset.ports?.[0]?.port, (subset.addresses ?? []).map((address) => address.targetRef?.name).sort()]);
    expect(byPort.sort()).toEqual([
      [8080, ['old-1', 'old-2']],
      [9090, ['new-1']],
    ]);
    const list = await untilSlices(ns, 'web', { 'old-1': true, 'old-2': true, 'new-1': true });
    const slicePorts = list.map((slice) => [slice.ports?.[0]?.port, (slice.endpoints ?? []).map((endpoint) => endpoint.targetRef?.name).sort()]);
    expect(slicePorts.sort()).toEqual([
      [8080, ['old-1', 'old-2']],
      [9090, ['new-1']],
    ]);
  }, TEST_TIMEOUT_MS);

  test('250 pods: one Endpoints of 250 addresses, slices of at most 100', async () => {
    const ns = await plane.createNamespace('ep-many');
    await services.namespace(ns).create(serviceObject('big'));
    await createReadyPods(ns, 'big', 250, '10.4');
    const names = Array.from({ length: 250 }, (_, i) => `big-${String(i).padStart(3, '0')}`);
    await untilAddresses(ns, 'big', { ready: [...names].sort(), notReady: [] });
    const list = await untilSlices(ns, 'big', Object.fromEntries(names.map((name) => [name, true])));
    // At most 100 a slice. How they are packed depends on how the pods reached the controller's
    // syncs (all at once: 100+100+50; over two syncs, as upstream's reconciler also does: e.g. 52+98+100).
    const sizes = list.map((slice) => (slice.endpoints ?? []).length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(250);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    const zones = new Set(list.flatMap((slice) => (slice.endpoints ?? []).map((endpoint) => endpoint.zone)));
    expect(zones).toEqual(new Set(['zone-1', 'zone-2']));
  }, TEST_TIMEOUT_MS);

  test('publishNotReadyAddresses: every pod, ready or not, terminating or not, is a ready address', async () => {
    const ns = await plane.createNamespace('ep-publish');
    await services.namespace(ns).create(serviceObject('db', { clusterIP: 'None', publishNotReadyAddresses: true }));
    for (const [name, ip, ready] of [['db-0', '10.5.0.1', true], ['db-1', '10.5.0.2', false], ['db-2', '10.5.0.3', true]] as const) {
      await createPod(ns, name, 'db');
      await setStatus(ns, name, ip, ready);
    }
    await pods.namespace(ns).delete('db-2');
    const object = await untilAddresses(ns, 'db', { ready: ['db-0', 'db-1', 'db-2'], notReady: [] });
    expect(object.metadata?.labels).toEqual({ team: 'web', 'service.kubernetes.io/headless': '' });
    let list = await untilSlices(ns, 'db', { 'db-0': true, 'db-1': true, 'db-2': true });
    // The slices may first show db-2 before its deletion reached the controller: wait for the deletion.
    await eventually(async () => sliceView((list = await slicesOf(ns, 'db'))).byPod.get('db-2')?.terminating === true, WAIT_MS, 'db-2 terminating in its slice');
    expect(sliceView(list).byPod.get('db-1')).toEqual({ ready: true, serving: false, terminating: false });
    expect(sliceView(list).byPod.get('db-2')).toEqual({ ready: true, serving: true, terminating: true });
    await pods.namespace(ns).delete('db-2', { gracePeriodSeconds: 0 });
  }, TEST_TIMEOUT_MS);

  test('a Service without a selector is left alone; a deleted Service takes its Endpoints and slices along', async () => {
    const ns = await plane.createNamespace('ep-manual');
    const selectorless = serviceObject('external');
    delete selectorless.spec?.selector;
    await services.namespace(ns).create(selectorless);
    const manual = await endpoints.namespace(ns).create({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'external' },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'http', port: 8443 }] }],
    });
    // A barrier: a later Service in the same namespace is synced after the selector-less one.
    await services.namespace(ns).create(serviceObject('later'));
    await untilAddresses(ns, 'later', { ready: [], notReady: [] });
    expect((await untilSlices(ns, 'later', {})).map((slice) => [slice.endpoints, slice.ports])).toEqual([[[], []]]);
    expect((await endpoints.namespace(ns).get('external')).metadata?.resourceVersion).toBe(manual.metadata?.resourceVersion);
    expect(await slicesOf(ns, 'external')).toEqual([]);

    await services.namespace(ns).delete('later');
    await eventually(async () => (await endpointsOf(ns, 'later')) === undefined, WAIT_MS, 'the Endpoints of the deleted Service gone');
    await eventually(async () => (await slicesOf(ns, 'later')).length === 0, WAIT_MS, 'the slices of the deleted Service gone');
    expect((await endpoints.namespace(ns).get('external')).subsets?.[0]?.addresses?.[0]?.ip).toBe('192.0.2.10');
  }, TEST_TIMEOUT_MS);

  test('converges after a kill -9 and changes behind its back: edited Endpoints, stale and missing slices, a Service deleted meanwhile', async () => {
    const ns = await plane.createNamespace('ep-converge');
    await services.namespace(ns).create(serviceObject('web'));
    await services.namespace(ns).create(serviceObject('gone'));
    await createReadyPods(ns, 'web', 150, '10.6');
    await createPod(ns, 'gone-0', 'gone');
    await setStatus(ns, 'gone-0', '10.6.9.1', true);
    const names = Array.from({ length: 150 }, (_, i) => `web-${String(i).padStart(3, '0')}`);
    await untilAddresses(ns, 'web', { ready: [...names].sort(), notReady: [] });
    const before = await untilSlices(ns, 'web', Object.fromEntries(names.map((name) => [name, true])));
    await untilSlices(ns, 'gone', { 'gone-0': true });

    await replaceManager(async () => {
      // What a replica killed half-way, or a user, may leave: an Endpoints object edited, a stale
      // extra slice (duplicating a pod and listing a pod that does not exist), a slice deleted, a
      // readiness change, and a Service deleted while no controller ran.
      const current = await endpoints.namespace(ns).get('web');
      await endpoints.namespace(ns).update({ ...current, subsets: [{ addresses: [{ ip: '10.99.99.99' }], ports: [{ name: 'http', port: 1 }] }] });
      const [first, second] = [...before].sort((a, b) => (a.endpoints ?? []).length - (b.endpoints ?? []).length);
      const stale = first?.endpoints?.[0];
      await slices.namespace(ns).create({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: 'web-', labels: second?.metadata?.labels ?? {}, ownerReferences: second?.metadata?.ownerReferences ?? [] },
        addressType: 'IPv4',
        ports: second?.ports ?? [],
        endpoints: [...(stale === undefined ? [] : [stale]), { addresses: ['10.6.200.200'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: ns, name: 'ghost', uid: 'ghost' } }],
      });
      await slices.namespace(ns).delete(second?.metadata?.name ?? '');
      await setStatus(ns, 'web-007', '10.6.0.7', false);
      await services.namespace(ns).delete('gone');
    });

    await untilAddresses(ns, 'web', { ready: names.filter((name) => name !== 'web-007').sort(), notReady: ['web-007'] });
    const after = await untilSlices(ns, 'web', Object.fromEntries(names.map((name) => [name, name !== 'web-007'])));
    expect(after.every((slice) => (slice.endpoints ?? []).length <= 100)).toBe(true);
    expect((await endpoints.namespace(ns).get('web')).subsets?.flatMap((subset) => subset.addresses ?? []).some((address) => address.ip === '10.99.99.99')).toBe(false);
    await eventually(async () => (await endpointsOf(ns, 'gone')) === undefined, WAIT_MS, 'the Endpoints of the Service deleted while down');
    await eventually(async () => (await slicesOf(ns, 'gone')).length === 0, WAIT_MS, 'the slices of the Service deleted while down');
  }, TEST_TIMEOUT_MS);
});

/** Runs `body` against one in-process controller whose `resource` watch lags; the manager is down meanwhile. */
async function withLaggingControllerAlone(name: string, resource: string, body: Parameters<typeof withLaggingController>[3]): Promise<void> {
  await manager.kill(); // this test's controller alone acts
  try {
    await withLaggingController(plane.grpcAddress, name, resource, body);
  } finally {
    manager = await plane.startManager(CONTROLLERS_UNDER_TEST);
  }
}

describe('on a lagging cache (in-process, one watch held back)', () => {
  test('EndpointSlices: a cache that has not seen its own slices makes the sync wait, never create twice', async () => {
    const ns = await plane.createNamespace('ep-lag-slices');
    await withLaggingControllerAlone('endpointslice', 'endpointslices', async (controller, client, informers) => {
      const cachedServices = informers.informerFor<ServiceObject>('', 'v1', 'services').lister().namespace(ns);
      const cachedPods = informers.informerFor<PodObject>('', 'v1', 'pods').lister().namespace(ns);
      const cachedSlices = informers.informerFor<SliceObject>('discovery.k8s.io', 'v1', 'endpointslices').lister().namespace(ns);
      client.gate.close();
      await services.namespace(ns).create(serviceObject('held'));
      await createReadyPods(ns, 'held', 120, '10.7');
      await eventually(() => cachedServices.get('held') !== undefined && cachedPods.list().filter((pod) => pod.status?.podIP).length === 120, WAIT_MS, 'the Service and pods in the cache');
      const key = `${ns}/held`;
      await controller.sync(key);
      expect((await slicesOf(ns, 'held')).map((slice) => (slice.endpoints ?? []).length).sort((a, b) => a - b)).toEqual([20, 100]);
      expect(cachedSlices.list()).toHaveLength(0); // the cache has not seen them
      await expect(controller.sync(key)).rejects.toThrow(/informer cache is out of date/);
      await setStatus(ns, 'held-000', '10.7.0.0', false);
      await expect(controller.sync(key)).rejects.toThrow(/informer cache is out of date/);
      expect(await slicesOf(ns, 'held')).toHaveLength(2);
      client.gate.release();
      await eventually(() => cachedSlices.list().length === 2, WAIT_MS, 'the cache catching up');
      await controller.sync(key);
      const list = await slicesOf(ns, 'held');
      expect(list).toHaveLength(2);
      expect(sliceView(list).count).toBe(120);
      expect(sliceView(list).byPod.get('held-000')?.ready).toBe(false);
    });
  }, TEST_TIMEOUT_MS);

  test('Endpoints: a write from a stale cache is refused (AlreadyExists/Conflict) and retried once the cache caught up', async () => {
    const ns = await plane.createNamespace('ep-lag-endpoints');
    await withLaggingControllerAlone('endpoint', 'endpoints', async (controller, client, informers) => {
      const cachedServices = informers.informerFor<ServiceObject>('', 'v1', 'services').lister().namespace(ns);
      const cachedPods = informers.informerFor<PodObject>('', 'v1', 'pods').lister().namespace(ns);
      const cachedEndpoints = informers.informerFor<EndpointsObject>('', 'v1', 'endpoints').lister().namespace(ns);
      client.gate.close();
      await services.namespace(ns).create(serviceObject('held'));
      await createPod(ns, 'p', 'held');
      await setStatus(ns, 'p', '10.8.0.1', true);
      await eventually(() => cachedServices.get('held') !== undefined && cachedPods.get('p')?.status?.podIP !== undefined, WAIT_MS, 'the Service and pod in the cache');
      const key = `${ns}/held`;
      await controller.sync(key);
      expect(addressView(await endpointsOf(ns, 'held'))).toEqual({ ready: ['p'], notReady: [] });
      await setStatus(ns, 'p', '10.8.0.1', false);
      await eventually(() => cachedPods.get('p')?.status?.conditions?.[0]?.status === 'False', WAIT_MS, 'the readiness change in the cache');
      // The cache still has no Endpoints: the controller tries to create it and is refused.
      await expect(controller.sync(key)).rejects.toThrow(/already exists/);
      client.gate.release();
      await eventually(() => cachedEndpoints.get('held') !== undefined, WAIT_MS, 'the cache catching up');
      await controller.sync(key);
      expect(addressView(await endpointsOf(ns, 'held'))).toEqual({ ready: [], notReady: ['p'] });
    });
  }, TEST_TIMEOUT_MS);
});
