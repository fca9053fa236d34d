import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';
import { withLaggingController } from './lagging_client.js';
import { PodCreationLog } from './pod_creations.js';
import { reportPodRunning } from './pod_readiness.js';

/**
 * The ReplicaSet controller as users meet it: a real store, apiserver and k8ts-controller-manager
 * (`--controllers replicaset`). No kubelet runs: where a test needs a pod Running and Ready, the
 * test writes that status itself through the pods' status subresource, as a kubelet would.
 */

type ReplicaSetObject = ReplicaSet & KubeObject;
type PodObject = Pod & KubeObject;

let plane: ControlPlane;
let manager: ComponentProcess;
let replicaSets: ResourceClient<ReplicaSetObject>;
let pods: ResourceClient<PodObject>;

const WAIT_MS = 45_000;
const CONTAINERS: PodSpec['containers'] = [{ name: 'main', image: 'busybox' }];

function replicaSetObject(name: string, replicas: number, options: { app?: string; labels?: Record<string, string>; minReadySeconds?: number; spec?: Partial<PodSpec> } = {}): ReplicaSetObject {
  const app = options.app ?? name;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      ...(options.minReadySeconds !== undefined ? { minReadySeconds: options.minReadySeconds } : {}),
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app, ...options.labels } }, spec: { containers: CONTAINERS, ...options.spec } },
    },
  };
}

/** The active pods the ReplicaSet controls. */
async function ownedPods(ns: string, replicaSet: ReplicaSetObject): Promise<PodObject[]> {
  const { items } = await pods.namespace(ns).list();
  return items.filter(
    (pod) => pod.metadata?.deletionTimestamp === undefined && pod.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.uid === replicaSet.metadata?.uid),
  );
}

async function untilOwned(ns: string, replicaSet: ReplicaSetObject, count: number): Promise<PodObject[]> {
  let owned: PodObject[] = [];
  await eventually(async () => (owned = await ownedPods(ns, replicaSet)).length === count, WAIT_MS, `${replicaSet.metadata?.name} owning ${count} pods`);
  return owned;
}

async function eventsOf(ns: string, name: string, reason: string): Promise<Event[]> {
  const { items } = await plane.client.resource<Event & KubeObject>('', 'v1', 'events').namespace(ns).list();
  return items.filter((event) => event.involvedObject?.name === name && event.reason === reason);
}

/** Stands in for the kubelet: the pod Running, Ready since `readySince`. */
function markReady(ns: string, name: string, readySince = new Date()): Promise<void> {
  return reportPodRunning(plane.client, ns, name, { since: readySince });
}

async function scale(ns: string, name: string, replicas: number): Promise<ReplicaSetObject> {
  return replicaSets.namespace(ns).patch(name, 'merge', { spec: { replicas } });
}

/** Kill -9 the running manager and start a fresh one (which waits out the dead one's lease). */
async function replaceManager(between?: () => Promise<void>): Promise<void> {
  await manager.kill();
  await between?.();
  manager = await plane.startManager('replicaset');
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  replicaSets = plane.client.resource<ReplicaSetObject>('apps', 'v1', 'replicasets');
  pods = plane.client.resource<PodObject>('', 'v1', 'pods');
  manager = await plane.startManager('replicaset');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

/** Above the condition waits (45 s each, several per test) on a busy 2-core machine. */
const TEST_TIMEOUT_MS = 180_000;

describe('ReplicaSet controller', { timeout: TEST_TIMEOUT_MS }, () => {
  test('scales up and down with upstream names, labels, owner references and events; the not-ready pods go first', async () => {
    const ns = await plane.createNamespace('rs-scale');
    const log = await PodCreationLog.start(plane.client, ns);
    const web = await replicaSets.namespace(ns).create(replicaSetObject('web', 3, { labels: { tier: 'front' } }));
    const first = await untilOwned(ns, web, 3);
    for (const pod of first) {
      expect(pod.metadata?.generateName).toBe('web-');
      expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(pod.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
      expect(pod.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: web.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
      expect(pod.spec?.containers?.[0]?.image).toBe('busybox');
    }
    await eventually(async () => (await eventsOf(ns, 'web', 'SuccessfulCreate')).length === 3, WAIT_MS, 'three SuccessfulCreate events');
    const created = await eventsOf(ns, 'web', 'SuccessfulCreate');
    expect(created.map((event) => event.message).sort()).toEqual(first.map((pod) => `Created pod: ${pod.metadata?.name}`).sort());
    expect(created[0]?.source?.component).toBe('replicaset-controller');
    expect(created[0]?.type).toBe('Normal');

    await scale(ns, 'web', 5);
    const five = await untilOwned(ns, web, 5);
    const keep = five.slice(0, 2).map((pod) => pod.metadata?.name ?? '');
    for (const name of keep) await markReady(ns, name);
    await eventually(async () => (await replicaSets.namespace(ns).get('web')).status?.readyReplicas === 2, WAIT_MS, 'two ready replicas');
    await scale(ns, 'web', 2);
    const two = await untilOwned(ns, web, 2);
    expect(two.map((pod) => pod.metadata?.name).sort()).toEqual([...keep].sort());
    await eventually(async () => (await eventsOf(ns, 'web', 'SuccessfulDelete')).length === 3, WAIT_MS, 'three SuccessfulDelete events');
    const deleted = (await eventsOf(ns, 'web', 'SuccessfulDelete')).map((event) => event.message).sort();
    expect(deleted).toEqual(five.slice(2).map((pod) => `Deleted pod: ${pod.metadata?.name}`).sort());
    await eventually(async () => {
      const status = (await replicaSets.namespace(ns).get('web')).status;
      return status?.replicas === 2 && status.readyReplicas === 2 && status.availableReplicas === 2;
    }, WAIT_MS, 'status after scale-down');
    expect(log.countFor(web.metadata?.uid ?? '')).toBe(5);
    await log.stop();
  });

  test('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    const ns = await plane.createNamespace('rs-adopt');
    const log = await PodCreationLog.start(plane.client, ns);
    await pods.namespace(ns).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'adopt' } }, spec: { containers: CONTAINERS } });
    const rs = await replicaSets.namespace(ns).create(replicaSetObject('adopter', 2, { app: 'adopt' }));
    const owned = await untilOwned(ns, rs, 2);
    expect(owned.map((pod) => pod.metadata?.name)).toContain('stray');
    const stray = await pods.namespace(ns).get('stray');
    expect(stray.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'adopter', uid: rs.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    expect(log.countFor(rs.metadata?.uid ?? '')).toBe(1); // the orphan counted toward replicas: one pod made

    await pods.namespace(ns).patch('stray', 'merge', { metadata: { labels: { app: 'gone' } } });
    await eventually(async () => ((await pods.namespace(ns).get('stray')).metadata?.ownerReferences ?? []).length === 0, WAIT_MS, 'the relabelled pod released');
    const after = await untilOwned(ns, rs, 2);
    expect(after.map((pod) => pod.metadata?.name)).not.toContain('stray');
    expect(log.countFor(rs.metadata?.uid ?? '')).toBe(2);
    await log.stop();
  });

  test('a deleted pod is replaced', async () => {
    const ns = await plane.createNamespace('rs-replace');
    const rs = await replicaSets.namespace(ns).create(replicaSetObject('replace', 3));
    const before = await untilOwned(ns, rs, 3);
    const victim = before[0]?.metadata?.name ?? '';
    await pods.namespace(ns).delete(victim);
    await eventually(async () => {
      const now = await ownedPods(ns, rs);
      return now.length === 3 && !now.some((pod) => pod.metadata?.name === victim);
    }, WAIT_MS, 'a replacement for the deleted pod');
  });

  test('status: replicas, fullyLabeled, ready, available after minReadySeconds, observedGeneration', async () => {
    const ns = await plane.createNamespace('rs-status');
    // An orphan with the selector's label but not the template's second one: adopted, not fully labelled.
    await pods.namespace(ns).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'partial', labels: { app: 'st' } }, spec: { containers: CONTAINERS } });
    const rs = await replicaSets.namespace(ns).create(replicaSetObject('st', 3, { app: 'st', labels: { tier: 'x' }, minReadySeconds: 10 }));
    const owned = await untilOwned(ns, rs, 3);
    await eventually(async () => {
      const status = (await replicaSets.namespace(ns).get('st')).status;
      return status?.replicas === 3 && status.fullyLabeledReplicas === 2 && status.observedGeneration === 1;
    }, WAIT_MS, 'replicas 3, fully labelled 2');
    const [longReady, soonAvailable, notYet] = owned.map((pod) => pod.metadata?.name ?? '');
    const now = Date.now();
    await markReady(ns, longReady ?? '', new Date(now - 3_600_000)); // available at once
    await markReady(ns, soonAvailable ?? '', new Date(now - 8_000)); // available ~2 s from now, with no event to wake the controller
    await markReady(ns, notYet ?? '', new Date(now + 3_600_000)); // not available for an hour
    await eventually(async () => {
      const status = (await replicaSets.namespace(ns).get('st')).status;
      return status?.readyReplicas === 3 && status.availableReplicas === 2;
    }, WAIT_MS, 'ready 3, available 2 (the controller looked again when minReadySeconds ran out)');
    const bumped = await replicaSets.namespace(ns).patch('st', 'merge', { spec: { minReadySeconds: 11 } });
    expect(bumped.metadata?.generation).toBe(2);
    await eventually(async () => (await replicaSets.namespace(ns).get('st')).status?.observedGeneration === 2, WAIT_MS, 'observedGeneration 2');
  });

  test('an invalid ReplicaSet is refused by the apiserver (422, field path), so the controller never sees one', async () => {
    const good = replicaSetObject('mismatch', 1);
    const bad = { ...good, spec: { ...good.spec, selector: { matchLabels: { app: 'other' } } } } as ReplicaSetObject;
    await expect(replicaSets.namespace('default').create(bad)).rejects.toMatchObject({ code: 422, message: expect.stringContaining('spec.template.metadata.labels') });
  });

  test('pods the apiserver refuses: FailedCreate event, ReplicaFailure condition, back-off without a crash; fixed, it recovers', async () => {
    const ns = await plane.createNamespace('rs-fail');
    const rs = await replicaSets.namespace(ns).create(replicaSetObject('bad', 3, { spec: { priorityClassName: 'no-such-class' } }));
    await eventually(async () => (await eventsOf(ns, 'bad', 'FailedCreate')).length > 0, WAIT_MS, 'a FailedCreate event');
    const [failed] = await eventsOf(ns, 'bad', 'FailedCreate');
    expect(failed?.type).toBe('Warning');
    expect(failed?.message).toBe('Error creating: pods "bad-" is forbidden: no PriorityClass with name no-such-class was found');
    await eventually(async () => ((await replicaSets.namespace(ns).get('bad')).status?.conditions ?? []).length > 0, WAIT_MS, 'the ReplicaFailure condition');
    const condition = (await replicaSets.namespace(ns).get('bad')).status?.conditions?.[0];
    expect(condition).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "bad-" is forbidden: no PriorityClass with name no-such-class was found' });
    expect(await ownedPods(ns, rs)).toHaveLength(0);
    // Retries are aggregated into the one Event (its count grows) rather than an Event per attempt.
    await eventually(async () => (await eventsOf(ns, 'bad', 'FailedCreate'))[0]?.count !== 1, WAIT_MS, 'a retry after back-off');
    expect(await eventsOf(ns, 'bad', 'FailedCreate')).toHaveLength(1);
    expect((await fetch(`${manager.healthUrl}/healthz`)).ok).toBe(true);

    await replicaSets.namespace(ns).patch('bad', 'json', [{ op: 'remove', path: '/spec/template/spec/priorityClassName' }]);
    await untilOwned(ns, rs, 3);
    await eventually(async () => ((await replicaSets.namespace(ns).get('bad')).status?.conditions ?? []).length === 0, WAIT_MS, 'ReplicaFailure removed');
  });

  test('converges from a half-done state a killed replica left, and from changes made behind its back', async () => {
    const ns = await plane.createNamespace('rs-halfdone');
    const log = await PodCreationLog.start(plane.client, ns);
    const lag = await replicaSets.namespace(ns).create(replicaSetObject('lag', 4));
    const before = await untilOwned(ns, lag, 4);
    let half: ReplicaSetObject | undefined;
    await replaceManager(async () => {
      // As a replica killed between its writes would leave it: a ReplicaSet of 6 with 2 pods made.
      half = await replicaSets.namespace(ns).create(replicaSetObject('half', 6));
      for (let i = 0; i < 2; i++) {
        const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'half', uid: half.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
        const pod: PodObject = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'half-', labels: { app: 'half' }, ownerReferences: [owner] }, spec: { containers: CONTAINERS } };
        await pods.namespace(ns).create(pod);
      }
      // Behind the controller's back: two of lag's pods deleted, one relabelled, a matching orphan added, lag scaled to 5.
      await pods.namespace(ns).delete(before[0]?.metadata?.name ?? '');
      await pods.namespace(ns).delete(before[1]?.metadata?.name ?? '');
      await pods.namespace(ns).patch(before[2]?.metadata?.name ?? '', 'merge', { metadata: { labels: { app: 'elsewhere' } } });
      await pods.namespace(ns).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lag-orphan', labels: { app: 'lag' } }, spec: { containers: CONTAINERS } });
      await scale(ns, 'lag', 5);
    });
    if (half === undefined) throw new Error('half-done ReplicaSet not created');
    await untilOwned(ns, half, 6);
    const lagPods = await untilOwned(ns, lag, 5);
    expect(lagPods.map((pod) => pod.metadata?.name)).toContain('lag-orphan');
    expect(lagPods.map((pod) => pod.metadata?.name)).toContain(before[3]?.metadata?.name);
    await eventually(async () => ((await pods.namespace(ns).get(before[2]?.metadata?.name ?? '')).metadata?.ownerReferences ?? []).length === 0, WAIT_MS, 'the relabelled pod released');
    expect(log.countFor(half.metadata?.uid ?? '')).toBe(6); // 2 left behind + 4 made, none twice
    // 4 at first; then 5 wanted, 1 of its own left and the orphan adopted: 3 more made.
    expect(log.countFor(lag.metadata?.uid ?? '')).toBe(4 + 3);
    await log.stop();
  });

  test('a manager killed -9 mid-scale: a new one finishes to exactly replicas, no pod created twice', async () => {
    const ns = await plane.createNamespace('rs-midscale');
    const log = await PodCreationLog.start(plane.client, ns);
    const big = await replicaSets.namespace(ns).create(replicaSetObject('big', 1));
    await untilOwned(ns, big, 1);
    const uid = big.metadata?.uid ?? '';
    await scale(ns, 'big', 60);
    await log.until(() => log.countFor(uid) >= 8);
    await replaceManager();
    const createdAtKill = log.countFor(uid);
    await untilOwned(ns, big, 60);
    await eventually(async () => (await replicaSets.namespace(ns).get('big')).status?.replicas === 60, WAIT_MS, 'status.replicas 60');
    expect(log.countFor(uid)).toBe(60);
    console.log(`mid-scale kill: ${createdAtKill} of 60 pods existed when the manager was killed`);
    await log.stop();
  });
});

describe('ReplicaSet controller on a lagging cache (in-process, its pod watch held back)', { timeout: TEST_TIMEOUT_MS }, () => {
  test('expectations hold it back until its cache has seen its own creations: no pod made twice', async () => {
    await manager.kill(); // this test's controller alone acts
    const ns = await plane.createNamespace('rs-lagging');
    try {
      await withLaggingController(plane.grpcAddress, 'replicaset', 'pods', async (controller, client, informers) => {
        const cachedPods = informers.informerFor<PodObject>('', 'v1', 'pods').lister().namespace(ns);
        const cachedReplicaSets = informers.informerFor<ReplicaSetObject>('apps', 'v1', 'replicasets').lister().namespace(ns);
        client.gate.close();
        await replicaSets.namespace(ns).create(replicaSetObject('held', 5));
        await eventually(() => cachedReplicaSets.get('held') !== undefined, WAIT_MS, 'the ReplicaSet in the cache');
        const key = `${ns}/held`;
        await controller.sync(key);
        expect((await pods.namespace(ns).list()).items).toHaveLength(5);
        expect(cachedPods.list()).toHaveLength(0); // the cache has not seen them
        await controller.sync(key);
        await controller.sync(key);
        expect((await pods.namespace(ns).list()).items).toHaveLength(5);
        client.gate.release();
        await eventually(() => cachedPods.list().length === 5, WAIT_MS, 'the cache catching up');
        await controller.sync(key);
        expect((await pods.namespace(ns).list()).items).toHaveLength(5);
        expect((await replicaSets.namespace(ns).get('held')).status?.replicas).toBe(5);
      });
    } finally {
      manager = await plane.startManager('replicaset');
    }
  });
});
