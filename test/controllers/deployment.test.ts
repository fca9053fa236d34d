import type { KubeObject, ResourceClient, WatchEventType } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { Deployment, DeploymentStrategy, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';
import { PodReadiness } from './pod_readiness.js';

/**
 * The Deployment controller as users meet it: a real store, apiserver and k8ts-controller-manager
 * (`--controllers deployment,replicaset`), driven with the real kubectl. No kubelet runs: the test
 * stands in for it (PodReadiness reports pods Running and Ready as they appear). Rollouts are
 * watched by a checker that counts pods from the pod watch itself.
 */

type DeploymentObject = Deployment & KubeObject;
type ReplicaSetObject = ReplicaSet & KubeObject;
type PodObject = Pod & KubeObject;

const WAIT_MS = 90_000;
const HASH_LABEL = 'pod-template-hash';

let plane: ControlPlane;
let manager: ComponentProcess;
let deployments: ResourceClient<DeploymentObject>;
let replicaSets: ResourceClient<ReplicaSetObject>;
let pods: ResourceClient<PodObject>;

function deploymentObject(
  name: string,
  options: { replicas?: number; image?: string; strategy?: DeploymentStrategy; progressDeadlineSeconds?: number; revisionHistoryLimit?: number } = {},
): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: options.replicas ?? 10,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: options.image ?? 'nginx:1' }] } },
      strategy: options.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      ...(options.progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds: options.progressDeadlineSeconds }),
      ...(options.revisionHistoryLimit === undefined ? {} : { revisionHistoryLimit: options.revisionHistoryLimit }),
    },
  };
}

async function kubectl(ns: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return plane.apiserver.kubectl(['-n', ns, ...args], { timeoutMs: WAIT_MS + 30_000 });
}

/** `kubectl rollout status` until it reports success. */
async function rolledOut(ns: string, name: string): Promise<void> {
  const result = await kubectl(ns, 'rollout', 'status', `deployment/${name}`, `--timeout=${WAIT_MS / 1000}s`);
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain(`deployment "${name}" successfully rolled out`);
  expect(result.code).toBe(0);
}

async function ownedReplicaSets(ns: string, name: string): Promise<ReplicaSetObject[]> {
  const deployment = await deployments.namespace(ns).get(name);
  const { items } = await replicaSets.namespace(ns).list();
  return items.filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.uid === deployment.metadata?.uid));
}

/** A 10-replica rollout (maxSurge 3, maxUnavailable 2) whose new pods never get ready holds at 8 old and 5 new pods. */
async function untilHeld(ns: string, name: string): Promise<void> {
  await eventually(async () => {
    const status = (await deployments.namespace(ns).get(name)).status;
    return status?.replicas === 13 && status.updatedReplicas === 5 && status.availableReplicas === 8;
  }, WAIT_MS, 'the rollout held at 8 old and 5 new pods');
}

async function livePods(ns: string): Promise<PodObject[]> {
  return (await pods.namespace(ns).list()).items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
}

/** Waits until the deployment controller's events of `reason` include every one of `messages` (events are written in the background). */
async function untilEvents(ns: string, reason: string, messages: readonly string[]): Promise<void> {
  let seen: string[] = [];
  try {
    await eventually(async () => {
      const { items } = await plane.client.resource<Event & KubeObject>('', 'v1', 'events').namespace(ns).list();
      seen = items.filter((event) => event.reason === reason && event.source?.component === 'deployment-controller').map((event) => event.message ?? '');
      return messages.every((message) => seen.includes(message));
    }, WAIT_MS, `${reason} events`);
  } catch (error) {
    expect(seen, (error as Error).message).toEqual(expect.arrayContaining([...messages]));
  }
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
}

/**
 * The promise of a rolling update, checked on every pod watch event from the events alone (it
 * shares nothing with the controller): at most `maxPods` pods exist and at least `minAvailable` are
 * available — Ready, as the kubelet stand-in makes them, minReadySeconds being 0.
 */
class RolloutBounds {
  readonly violations: string[] = [];
  mostPods = 0;
  private readonly available = new Map<string, boolean>();

  constructor(
    readonly minAvailable: number,
    readonly maxPods: number,
  ) {}

  /** The pods at the start, checked as one state. */
  start(pods: readonly Pod[]): void {
    for (const pod of pods) this.record('ADDED', pod);
    this.check('the initial list');
  }

  observe(type: WatchEventType, pod: Pod): void {
    this.record(type, pod);
    this.check(`${type} ${pod.metadata?.name}`);
  }

  private record(type: WatchEventType, pod: Pod): void {
    const name = pod.metadata?.name ?? '';
    if (type === 'DELETED') this.available.delete(name);
    else this.available.set(name, isReady(pod) && pod.metadata?.deletionTimestamp === undefined);
  }

  private check(after: string): void {
    const count = this.available.size;
    const available = [...this.available.values()].filter(Boolean).length;
    this.mostPods = Math.max(this.mostPods, count);
    if (count > this.maxPods) this.violations.push(`${count} pods (at most ${this.maxPods} allowed) after ${after}`);
    if (available < this.minAvailable) this.violations.push(`${available} available (at least ${this.minAvailable} required) after ${after}`);
  }
}

/**
 * Lists the pods of `ns` (handed to `start`), then hands every pod watch event from that list on to
 * `observe`, resuming a watch the server ends.
 */
async function followPods(ns: string, start: (pods: PodObject[]) => void, observe: (type: WatchEventType, pod: PodObject) => void): Promise<{ stop(): Promise<void> }> {
  const client = pods.namespace(ns);
  const listed = await client.list();
  start(listed.items);
  let resourceVersion = listed.resourceVersion;
  let stopped = false;
  let watch: ReturnType<typeof client.watch> | undefined;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      watch = client.watch({ resourceVersion, allowBookmarks: true });
      for await (const event of watch) {
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type !== 'BOOKMARK') observe(event.type, event.object);
      }
    }
  })().catch((error: unknown) => {
    if (!stopped) failure = error;
  });
  return {
    async stop() {
      stopped = true;
      watch?.close();
      await loop;
      if (failure !== undefined) throw failure;
    },
  };
}

/** Watches the rollout bounds of `ns` while `during` runs. */
async function withinBounds(ns: string, minAvailable: number, maxPods: number, during: () => Promise<void>): Promise<RolloutBounds> {
  const bounds = new RolloutBounds(minAvailable, maxPods);
  const following = await followPods(ns, (initial) => bounds.start(initial), (type, pod) => bounds.observe(type, pod));
  try {
    await during();
  } finally {
    await following.stop();
  }
  return bounds;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  deployments = plane.client.resource<DeploymentObject>('apps', 'v1', 'deployments');
  replicaSets = plane.client.resource<ReplicaSetObject>('apps', 'v1', 'replicasets');
  pods = plane.client.resource<PodObject>('', 'v1', 'pods');
  manager = await plane.startManager('deployment,replicaset');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('the rollout checker', () => {
  const pod = (name: string, ready: boolean): Pod => ({ metadata: { name }, status: ready ? { conditions: [{ type: 'Ready', status: 'True' }] } : {} });

  test('accepts a rollout within the bounds and objects to 7 available or to 14 pods', () => {
    const good = new RolloutBounds(8, 13);
    good.start(Array.from({ length: 10 }, (_, i) => pod(`old-${i}`, true)));
    for (let i = 0; i < 3; i++) good.observe('ADDED', pod(`new-${i}`, false));
    good.observe('DELETED', pod('old-0', true));
    good.observe('DELETED', pod('old-1', true));
    expect(good.violations).toEqual([]);

    const tooFewAvailable = new RolloutBounds(8, 13);
    tooFewAvailable.start(Array.from({ length: 10 }, (_, i) => pod(`old-${i}`, true)));
    for (let i = 0; i < 3; i++) tooFewAvailable.observe('DELETED', pod(`old-${i}`, true));
    expect(tooFewAvailable.violations).toEqual(['7 available (at least 8 required) after DELETED old-2']);

    const tooManyPods = new RolloutBounds(8, 13);
    tooManyPods.start(Array.from({ length: 10 }, (_, i) => pod(`old-${i}`, true)));
    for (let i = 0; i < 4; i++) tooManyPods.observe('ADDED', pod(`new-${i}`, false));
    expect(tooManyPods.violations).toEqual(['14 pods (at most 13 allowed) after ADDED new-3']);
  });
});

describe('Deployment controller', () => {
  test('10 replicas roll to a new template and back with kubectl rollout undo, never below 8 available nor above 13 pods', async () => {
    const ns = await plane.createNamespace('deploy-roll');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web'));
    await rolledOut(ns, 'web');
    const [first] = await ownedReplicaSets(ns, 'web');
    const firstHash = first?.metadata?.labels?.[HASH_LABEL] ?? '';
    expect(first?.metadata?.name).toBe(`web-${firstHash}`);
    expect(first?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const forward = await withinBounds(ns, 8, 13, async () => {
      const set = await kubectl(ns, 'set', 'image', 'deployment/web', 'main=nginx:2');
      expect(set.code, set.stderr).toBe(0);
      await rolledOut(ns, 'web');
    });
    expect(forward.violations).toEqual([]);
    // It was a rolling update: new pods came while old ones were still there.
    expect(forward.mostPods).toBeGreaterThan(10);
    const live = await livePods(ns);
    expect(live).toHaveLength(10);
    expect(live.every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:2' && pod.metadata?.labels?.[HASH_LABEL] !== firstHash)).toBe(true);
    const second = (await ownedReplicaSets(ns, 'web')).find((rs) => rs.metadata?.labels?.[HASH_LABEL] !== firstHash);
    await untilEvents(ns, 'ScalingReplicaSet', [
      `Scaled up replica set web-${firstHash} to 10`,
      `Scaled up replica set ${second?.metadata?.name} to 3`,
      `Scaled down replica set web-${firstHash} to 8 from 10`,
    ]);

    const history = await kubectl(ns, 'rollout', 'history', 'deployment/web');
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/^1\s+<none>$/m);
    expect(history.stdout).toMatch(/^2\s+<none>$/m);

    const back = await withinBounds(ns, 8, 13, async () => {
      const undo = await kubectl(ns, 'rollout', 'undo', 'deployment/web');
      expect(undo.stdout.trim(), undo.stderr).toBe('deployment.apps/web rolled back');
      await rolledOut(ns, 'web');
    });
    expect(back.violations).toEqual([]);
    expect(back.mostPods).toBeGreaterThan(10);
    const restored = await livePods(ns);
    expect(restored).toHaveLength(10);
    expect(restored.every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:1' && pod.metadata?.labels?.[HASH_LABEL] === firstHash)).toBe(true);
    // The first ReplicaSet came back as revision 3, remembering it was 1.
    const reused = await replicaSets.namespace(ns).get(`web-${firstHash}`);
    expect(reused.metadata?.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(await ownedReplicaSets(ns, 'web')).toHaveLength(2);
    const after = await kubectl(ns, 'rollout', 'history', 'deployment/web');
    expect(after.stdout).toMatch(/^2\s+<none>$/m);
    expect(after.stdout).toMatch(/^3\s+<none>$/m);
    expect(after.stdout).not.toMatch(/^1\s+<none>$/m);
    const deployment = await deployments.namespace(ns).get('web');
    expect(deployment.status).toMatchObject({ replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10, observedGeneration: deployment.metadata?.generation });
    expect(deployment.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(deployment.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    await readiness.stop();
  }, 240_000);

  test('kubectl rollout pause holds a new template back (scaling still applies), resume rolls it out, restart rolls again', async () => {
    const ns = await plane.createNamespace('deploy-pause');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web', { replicas: 4, revisionHistoryLimit: 1 }));
    await rolledOut(ns, 'web');

    expect((await kubectl(ns, 'rollout', 'pause', 'deployment/web')).stdout.trim()).toBe('deployment.apps/web paused');
    await kubectl(ns, 'set', 'image', 'deployment/web', 'main=nginx:2');
    const scaled = await kubectl(ns, 'scale', 'deployment/web', '--replicas=6');
    expect(scaled.stdout.trim(), scaled.stderr).toBe('deployment.apps/web scaled');
    let paused: DeploymentObject | undefined;
    await eventually(async () => {
      paused = await deployments.namespace(ns).get('web');
      return paused.status?.observedGeneration === paused.metadata?.generation && paused.status?.replicas === 6;
    }, WAIT_MS, 'the paused Deployment scaled to 6');
    expect(paused?.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    expect(await ownedReplicaSets(ns, 'web')).toHaveLength(1);
    expect((await livePods(ns)).every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:1')).toBe(true);

    expect((await kubectl(ns, 'rollout', 'resume', 'deployment/web')).stdout.trim()).toBe('deployment.apps/web resumed');
    await rolledOut(ns, 'web');
    const resumed = await livePods(ns);
    expect(resumed).toHaveLength(6);
    expect(resumed.every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:2')).toBe(true);

    const restart = await kubectl(ns, 'rollout', 'restart', 'deployment/web');
    expect(restart.stdout.trim(), restart.stderr).toBe('deployment.apps/web restarted');
    await rolledOut(ns, 'web');
    const restarted = await deployments.namespace(ns).get('web');
    expect(restarted.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    expect(restarted.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    // revisionHistoryLimit 1: the new ReplicaSet and one old one are kept.
    await eventually(async () => (await ownedReplicaSets(ns, 'web')).length === 2, WAIT_MS, 'the oldest ReplicaSet cleaned up');
    const revisions = (await ownedReplicaSets(ns, 'web')).map((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort();
    expect(revisions).toEqual(['2', '3']);
    await readiness.stop();
  }, 240_000);

  test('scaling a rollout in progress spreads the change over both ReplicaSets in proportion to their size', async () => {
    const ns = await plane.createNamespace('deploy-proportional');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web'));
    await rolledOut(ns, 'web');
    const [first] = await ownedReplicaSets(ns, 'web');
    const firstHash = first?.metadata?.labels?.[HASH_LABEL];
    // New pods stay unready: the rollout holds at 8 old pods (the minimum available) and 5 new ones (13 in all).
    readiness.accepting((pod) => pod.metadata?.labels?.[HASH_LABEL] === firstHash);
    await kubectl(ns, 'set', 'image', 'deployment/web', 'main=nginx:2');
    await untilHeld(ns, 'web');
    await kubectl(ns, 'rollout', 'pause', 'deployment/web');
    const scaled = await kubectl(ns, 'scale', 'deployment/web', '--replicas=20');
    expect(scaled.code, scaled.stderr).toBe(0);
    // 20 + maxSurge 3 = 23 where there were 13: old 8·23/13 ≈ 14, new 5·23/13 ≈ 9.
    let sizes: Record<string, number> = {};
    await eventually(async () => {
      sizes = Object.fromEntries((await ownedReplicaSets(ns, 'web')).map((rs) => [rs.metadata?.labels?.[HASH_LABEL] === firstHash ? 'old' : 'new', rs.spec?.replicas ?? 0]));
      return sizes['old'] !== 8 && sizes['new'] !== 5;
    }, WAIT_MS, 'both ReplicaSets scaled');
    expect(sizes).toEqual({ old: 14, new: 9 });
    await untilEvents(ns, 'ScalingReplicaSet', [`Scaled up replica set web-${firstHash} to 14 from 8`]);
    await eventually(async () => (await deployments.namespace(ns).get('web')).status?.availableReplicas === 14, WAIT_MS, '14 old pods available');
    // From 14 available: the rollout may not take any away until there are 18 = 20 - maxUnavailable 2.
    const bounds = await withinBounds(ns, 14, 23, async () => {
      readiness.accepting(() => true);
      await kubectl(ns, 'rollout', 'resume', 'deployment/web');
      await rolledOut(ns, 'web');
    });
    expect(bounds.violations).toEqual([]);
    const live = await livePods(ns);
    expect(live).toHaveLength(20);
    expect(live.every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:2')).toBe(true);
    await readiness.stop();
  }, 240_000);

  test('Recreate: the old pods are all gone before any new one exists', async () => {
    const ns = await plane.createNamespace('deploy-recreate');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web', { replicas: 3, strategy: { type: 'Recreate' } }));
    await rolledOut(ns, 'web');
    const hashes = new Map<string, string>();
    const mixed: string[] = [];
    const record = (type: WatchEventType, pod: Pod): void => {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED') hashes.delete(name);
      else hashes.set(name, pod.metadata?.labels?.[HASH_LABEL] ?? '');
      if (new Set(hashes.values()).size > 1) mixed.push(`${type} ${name}: ${[...hashes.values()].join(',')}`);
    };
    const following = await followPods(ns, (initial) => initial.forEach((pod) => record('ADDED', pod)), record);
    await kubectl(ns, 'set', 'image', 'deployment/web', 'main=nginx:2');
    await rolledOut(ns, 'web');
    await following.stop();
    expect(mixed).toEqual([]);
    expect((await livePods(ns)).map((pod) => pod.spec?.containers?.[0]?.image)).toEqual(['nginx:2', 'nginx:2', 'nginx:2']);
    await readiness.stop();
  }, 180_000);

  test('pods that never become ready: Progressing turns False with ProgressDeadlineExceeded and kubectl rollout status fails', async () => {
    const ns = await plane.createNamespace('deploy-deadline');
    // No kubelet stand-in here: nothing ever becomes ready.
    const strategy: DeploymentStrategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await deployments.namespace(ns).create(deploymentObject('stuck', { replicas: 2, progressDeadlineSeconds: 3, strategy }));
    const status = await kubectl(ns, 'rollout', 'status', 'deployment/stuck', `--timeout=${WAIT_MS / 1000}s`);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('error: deployment "stuck" exceeded its progress deadline');
    const deployment = await deployments.namespace(ns).get('stuck');
    const [replicaSet] = await ownedReplicaSets(ns, 'stuck');
    expect(deployment.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${replicaSet?.metadata?.name}" has timed out progressing.`,
    });
    expect(deployment.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(deployment.status).toMatchObject({ replicas: 2, updatedReplicas: 2, unavailableReplicas: 2 });
  }, 180_000);

  test('a manager killed (kill -9) in the middle of a rollout: another finishes it, and the bounds held throughout', async () => {
    const ns = await plane.createNamespace('deploy-kill');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web'));
    await rolledOut(ns, 'web');
    const [first] = await ownedReplicaSets(ns, 'web');
    const firstHash = first?.metadata?.labels?.[HASH_LABEL];
    const bounds = await withinBounds(ns, 8, 13, async () => {
      // New pods stay unready until the manager is gone, so it is caught with the rollout half-done.
      readiness.accepting((pod) => pod.metadata?.labels?.[HASH_LABEL] === firstHash);
      await kubectl(ns, 'set', 'image', 'deployment/web', 'main=nginx:2');
      await untilHeld(ns, 'web');
      await manager.kill();
      readiness.accepting(() => true);
      manager = await plane.startManager('deployment,replicaset');
      await rolledOut(ns, 'web');
    });
    expect(bounds.violations).toEqual([]);
    const live = await livePods(ns);
    expect(live).toHaveLength(10);
    expect(live.every((pod) => pod.spec?.containers?.[0]?.image === 'nginx:2')).toBe(true);
    expect(await ownedReplicaSets(ns, 'web')).toHaveLength(2);
    await readiness.stop();
  }, 240_000);

  test('a ReplicaSet left without its owner (as an orphaning delete leaves it) is adopted by a new Deployment, not duplicated', async () => {
    const ns = await plane.createNamespace('deploy-adopt');
    const readiness = await PodReadiness.start(plane.client, ns);
    await deployments.namespace(ns).create(deploymentObject('web', { replicas: 3 }));
    await rolledOut(ns, 'web');
    const [original] = await ownedReplicaSets(ns, 'web');
    // `kubectl delete --cascade=orphan`, with the garbage collector's part (it does not run here)
    // done by hand: the Deployment is marked for deletion with the orphan finalizer, its
    // ReplicaSet loses the owner reference, the finalizer goes and with it the Deployment.
    await deployments.namespace(ns).delete('web', { propagationPolicy: 'Orphan' });
    await replicaSets.namespace(ns).patch(original?.metadata?.name ?? '', 'merge', { metadata: { ownerReferences: null } });
    await deployments.namespace(ns).patch('web', 'merge', { metadata: { finalizers: null } });
    await eventually(async () => (await deployments.namespace(ns).list()).items.length === 0, WAIT_MS, 'the old Deployment gone');
    const again = await deployments.namespace(ns).create(deploymentObject('web', { replicas: 3 }));
    await rolledOut(ns, 'web');
    const owned = await ownedReplicaSets(ns, 'web');
    expect(owned.map((rs) => rs.metadata?.name)).toEqual([original?.metadata?.name]);
    expect(owned[0]?.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: again.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    expect((await livePods(ns)).length).toBe(3);
    await readiness.stop();
  }, 180_000);

  test('bad input gets the apiserver\'s 422 with field paths through kubectl: a selector that does not match the template, a negative replica count', async () => {
    const ns = await plane.createNamespace('deploy-invalid');
    const mismatch = deploymentObject('mismatch');
    (mismatch.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { app: 'other' };
    const selector = await plane.apiserver.kubectl(['-n', ns, 'create', '-f', '-', '-v=6'], { input: JSON.stringify(mismatch) });
    expect(selector.code).toBe(1);
    expect(selector.stderr).toMatch(/ 422 Unprocessable Entity /);
    expect(selector.stderr).toContain('The Deployment "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`');

    const negative = deploymentObject('negative', { replicas: -1 });
    const replicas = await plane.apiserver.kubectl(['-n', ns, 'create', '-f', '-', '-v=6'], { input: JSON.stringify(negative) });
    expect(replicas.code).toBe(1);
    expect(replicas.stderr).toMatch(/ 422 Unprocessable Entity /);
    expect(replicas.stderr).toContain('The Deployment "negative" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect((await deployments.namespace(ns).list()).items).toEqual([]);
  }, 60_000);
});
