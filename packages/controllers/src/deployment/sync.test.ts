import { ApiError, apiErrors } from '@k8ts/apimachinery';
import { seededRandom } from '@k8ts/base';
import type { Deployment, DeploymentSpec, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION } from './annotations.js';
import { getCondition } from './conditions.js';
import { InvalidSpecError } from './fenceposts.js';
import { deploymentComplete } from './status.js';
import { syncDeployment, type DeploymentApi } from './sync.js';
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from './template_hash.js';

/**
 * The sync against an in-memory world: an API that stores objects with resourceVersions (writes
 * conditional on them), a ReplicaSet controller and a kubelet that act one small step at a time,
 * and a Deployment controller whose cache is any snapshot at or after the one its previous sync
 * read — so caches lag, statuses lag pods, and other processes act between the sync's writes.
 */

const REPLICA_SETS = { group: 'apps', resource: 'replicasets' };
const DEPLOYMENTS = { group: 'apps', resource: 'deployments' };

function template(image: string): PodTemplateSpec {
  return { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image }] } };
}

interface PodState {
  readonly name: string;
  ready: boolean;
}

interface Snapshot {
  readonly deployment: Deployment;
  readonly replicaSets: ReplicaSet[];
  readonly pods: Map<string, Pod[]>;
}

class World {
  nowMs = Date.parse('2024-06-01T00:00:00Z');
  deployment: Deployment;
  readonly replicaSets = new Map<string, ReplicaSet>();
  readonly pods = new Map<string, PodState[]>();
  readonly events: string[] = [];
  readonly snapshots: Snapshot[] = [];
  /** Runs after every change (a checker). */
  onChange: () => void = () => undefined;
  /** Runs before each of the controller's writes: what other processes do meanwhile. */
  meanwhile: () => void = () => undefined;
  private version = 1;
  private nextUid = 1;
  private nextPod = 1;

  constructor(spec: Partial<DeploymentSpec> = {}) {
    this.deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns', uid: 'deployment-uid', generation: 1, resourceVersion: '1' },
      spec: {
        replicas: 10,
        selector: { matchLabels: { app: 'web' } },
        template: template('nginx:1'),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...spec,
      },
      status: {},
    };
    this.changed();
  }

  // ---- what a user does ----

  /** Changes the spec the way an update does: generation + 1. */
  updateSpec(change: (spec: DeploymentSpec) => void): void {
    change(this.deployment.spec as DeploymentSpec);
    const generation = (this.deployment.metadata?.generation ?? 0) + 1;
    this.deployment = { ...this.deployment, metadata: { ...this.deployment.metadata, generation, resourceVersion: this.nextVersion() } };
    this.changed();
  }

  /** A ReplicaSet as an earlier controller left it, pods ready. */
  addReplicaSet(image: string, replicas: number, annotations: Record<string, string>, owned = true, hash = computeHash(template(image), undefined)): ReplicaSet {
    const tpl = template(image);
    const uid = `rs-${this.nextUid++}`;
    const replicaSet: ReplicaSet = {
      metadata: {
        name: `web-${hash}`,
        namespace: 'ns',
        uid,
        generation: 1,
        resourceVersion: this.nextVersion(),
        creationTimestamp: new Date(this.nowMs).toISOString(),
        labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash },
        annotations,
        ...(owned ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deployment-uid', controller: true }] } : {}),
      },
      spec: { replicas, selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } }, template: { ...tpl, metadata: { labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } } } },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
    };
    this.replicaSets.set(uid, replicaSet);
    this.pods.set(uid, Array.from({ length: replicas }, () => ({ name: `pod-${this.nextPod++}`, ready: true })));
    this.changed();
    return replicaSet;
  }

  // ---- the API ----

  api(): DeploymentApi {
    const record = (replicaSet: ReplicaSet): ReplicaSet => structuredClone(replicaSet);
    return {
      createReplicaSet: async (replicaSet) => {
        this.meanwhile();
        const name = replicaSet.metadata?.name ?? '';
        if ([...this.replicaSets.values()].some((other) => other.metadata?.name === name)) throw apiErrors.alreadyExists(REPLICA_SETS, name);
        const uid = `rs-${this.nextUid++}`;
        const stored: ReplicaSet = {
          ...structuredClone(replicaSet),
          metadata: { ...structuredClone(replicaSet.metadata), uid, generation: 1, resourceVersion: this.nextVersion(), creationTimestamp: new Date(this.nowMs).toISOString() },
          status: { replicas: 0 },
        };
        this.replicaSets.set(uid, stored);
        this.pods.set(uid, []);
        this.changed();
        return record(stored);
      },
      updateReplicaSet: async (replicaSet) => {
        this.meanwhile();
        const uid = replicaSet.metadata?.uid ?? '';
        const stored = this.replicaSets.get(uid);
        if (stored === undefined) throw apiErrors.notFound(REPLICA_SETS, replicaSet.metadata?.name ?? '');
        if (stored.metadata?.resourceVersion !== replicaSet.metadata?.resourceVersion) throw apiErrors.conflict(REPLICA_SETS, replicaSet.metadata?.name ?? '', 'stale');
        const specChanged = JSON.stringify(stored.spec) !== JSON.stringify(replicaSet.spec);
        const next: ReplicaSet = { ...structuredClone(replicaSet), status: structuredClone(stored.status) as NonNullable<ReplicaSet['status']> };
        next.metadata = { ...next.metadata, generation: (stored.metadata?.generation ?? 1) + (specChanged ? 1 : 0), resourceVersion: this.nextVersion() };
        this.replicaSets.set(uid, next);
        this.changed();
        return record(next);
      },
      deleteReplicaSet: async (replicaSet) => {
        this.meanwhile();
        this.replicaSets.delete(replicaSet.metadata?.uid ?? '');
        this.pods.delete(replicaSet.metadata?.uid ?? '');
        this.changed();
      },
      updateDeploymentStatus: async (deployment) => {
        this.meanwhile();
        if (deployment.metadata?.resourceVersion !== this.deployment.metadata?.resourceVersion) throw apiErrors.conflict(DEPLOYMENTS, 'web', 'stale');
        // As kube's status strategy: status and annotations change, nothing else.
        this.deployment = {
          ...this.deployment,
          metadata: { ...this.deployment.metadata, annotations: { ...deployment.metadata?.annotations }, resourceVersion: this.nextVersion() },
          status: structuredClone(deployment.status) as NonNullable<Deployment['status']>,
        };
        this.changed();
        return structuredClone(this.deployment);
      },
      getReplicaSet: async (_namespace, name) => structuredClone([...this.replicaSets.values()].find((replicaSet) => replicaSet.metadata?.name === name)),
      event: (_deployment, type, reason, message) => void this.events.push(`${type} ${reason} ${message}`),
    };
  }

  // ---- the ReplicaSet controller and the kubelet, one step at a time ----

  /** Creates or deletes one pod of the ReplicaSet (not-ready pods go first); false if none was needed. */
  manageOne(uid: string): boolean {
    const replicaSet = this.replicaSets.get(uid);
    const pods = this.pods.get(uid);
    if (replicaSet === undefined || pods === undefined) return false;
    const wanted = replicaSet.spec?.replicas ?? 0;
    if (pods.length > wanted) {
      const notReady = pods.findIndex((pod) => !pod.ready);
      pods.splice(notReady >= 0 ? notReady : pods.length - 1, 1);
    } else if (pods.length < wanted) {
      pods.push({ name: `pod-${this.nextPod++}`, ready: false });
    } else {
      return false;
    }
    this.changed();
    return true;
  }

  /** Writes the ReplicaSet's status from its pods as they are now. */
  writeReplicaSetStatus(uid: string): void {
    const replicaSet = this.replicaSets.get(uid);
    const pods = this.pods.get(uid);
    if (replicaSet === undefined || pods === undefined) return;
    const ready = pods.filter((pod) => pod.ready).length;
    this.replicaSets.set(uid, {
      ...replicaSet,
      metadata: { ...replicaSet.metadata, resourceVersion: this.nextVersion() },
      status: { replicas: pods.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: replicaSet.metadata?.generation ?? 0 },
    });
    this.changed();
  }

  /** The kubelet: one not-ready pod becomes ready. */
  readyOne(pick: (count: number) => number): void {
    const waiting = [...this.pods.values()].flat().filter((pod) => !pod.ready);
    if (waiting.length === 0) return;
    (waiting[pick(waiting.length)] as PodState).ready = true;
    this.changed();
  }

  // ---- reading ----

  totals(): { pods: number; ready: number } {
    const all = [...this.pods.values()].flat();
    return { pods: all.length, ready: all.filter((pod) => pod.ready).length };
  }

  replicaSetFor(image: string): ReplicaSet | undefined {
    return [...this.replicaSets.values()].find((replicaSet) => equalIgnoreHash(replicaSet.spec?.template, template(image)));
  }

  /** The rollout is over: the current template's pods all ready, no others, and the status says so. */
  rolledOut(): boolean {
    const current = [...this.replicaSets.values()].find((replicaSet) => equalIgnoreHash(replicaSet.spec?.template, this.deployment.spec?.template));
    if (current === undefined) return false;
    const desired = this.deployment.spec?.replicas ?? 0;
    const { pods, ready } = this.totals();
    const currentReady = (this.pods.get(current.metadata?.uid ?? '') ?? []).filter((pod) => pod.ready).length;
    return pods === desired && ready === desired && currentReady === desired && deploymentComplete(this.deployment, this.deployment.status);
  }

  private nextVersion(): string {
    return String(++this.version);
  }

  private changed(): void {
    const pods = new Map<string, Pod[]>();
    for (const [uid, states] of this.pods) {
      pods.set(
        uid,
        states.map((state) => ({ metadata: { name: state.name }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: state.ready ? 'True' : 'False' }] } })),
      );
    }
    this.snapshots.push({ deployment: structuredClone(this.deployment), replicaSets: structuredClone([...this.replicaSets.values()]), pods });
    this.onChange();
  }
}

/** The Deployment controller over the world: its cache never goes back in time, but lags at random. */
class Controller {
  private cacheIndex = 0;

  constructor(
    private readonly world: World,
    private readonly random: () => number = () => 1 - Number.EPSILON,
  ) {}

  /** One sync from a cache between the last one read and now; Conflict/AlreadyExists fail it as they would. */
  async sync(): Promise<void> {
    const latest = this.world.snapshots.length - 1;
    this.cacheIndex += Math.floor(this.random() * (latest - this.cacheIndex + 1));
    const cache = this.world.snapshots[this.cacheIndex] as Snapshot;
    const owned = cache.replicaSets.filter((replicaSet) => replicaSet.metadata?.ownerReferences?.some((ref) => ref.uid === 'deployment-uid'));
    try {
      await syncDeployment(this.world.api(), { deployment: cache.deployment, replicaSets: owned, podsByReplicaSet: cache.pods, nowMs: this.world.nowMs });
    } catch (error) {
      if (error instanceof ApiError && (error.reason === 'Conflict' || error.reason === 'AlreadyExists')) return;
      throw error;
    }
  }
}

/** Every process acts in a seeded random order until the rollout is over. */
async function rollOut(world: World, seed: number): Promise<void> {
  return rollOutUntil(world, seed, () => world.rolledOut());
}

async function rollOutUntil(world: World, seed: number, done: () => boolean, maxSteps = 20_000): Promise<void> {
  const random = seededRandom(seed);
  const pick = (count: number): number => Math.floor(random() * count);
  const controller = new Controller(world, random);
  const otherProcess = (): void => {
    const uids = [...world.replicaSets.keys()];
    const choice = random();
    if (uids.length === 0) return;
    if (choice < 0.45) world.manageOne(uids[pick(uids.length)] as string);
    else if (choice < 0.75) world.writeReplicaSetStatus(uids[pick(uids.length)] as string);
    else world.readyOne(pick);
  };
  world.meanwhile = () => {
    for (let i = pick(3); i > 0; i--) otherProcess();
  };
  for (let step = 0; step < maxSteps; step++) {
    if (done()) return;
    if (random() < 0.3) await controller.sync();
    else otherProcess();
    world.nowMs += 10;
  }
  throw new Error(`seed ${seed}: not rolled out after ${maxSteps} steps`);
}

/** Checks, after every change, that the pods stay within [min ready, max pods]. */
function watchBounds(world: World, minReady: number, maxPods: number): string[] {
  const violations: string[] = [];
  world.onChange = () => {
    const { pods, ready } = world.totals();
    if (pods > maxPods || ready < minReady) violations.push(`${pods} pods, ${ready} ready`);
  };
  return violations;
}

describe('a Deployment sync, step by step', () => {
  test('a new Deployment: a ReplicaSet named by its template hash, revision 1, scaled up at once, and the status says so', async () => {
    const world = new World();
    await new Controller(world).sync();
    const hash = computeHash(template('nginx:1'), undefined);
    const replicaSet = world.replicaSetFor('nginx:1') as ReplicaSet;
    expect(replicaSet.metadata).toMatchObject({
      name: `web-${hash}`,
      labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash },
      annotations: { [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deployment-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(replicaSet.spec).toMatchObject({ replicas: 10, selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } }, template: { metadata: { labels: { [POD_TEMPLATE_HASH_LABEL]: hash } } } });
    expect(world.events).toEqual([`Normal ScalingReplicaSet Scaled up replica set web-${hash} to 10`]);
    expect(world.deployment.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect(getCondition(world.deployment.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` });
  });

  test('a create repeated on a cache that has not seen the first one adopts it: no second ReplicaSet, no second event', async () => {
    const world = new World();
    await new Controller(world).sync();
    const lagging = new Controller(world, () => 0);
    await lagging.sync();
    expect(world.replicaSets.size).toBe(1);
    expect(world.events).toHaveLength(1);
  });

  test('a hash collision (that name taken by another template) raises status.collisionCount; the next sync hashes with it', async () => {
    const world = new World();
    world.addReplicaSet('nginx:9', 0, {}, false, computeHash(template('nginx:1'), undefined));
    const controller = new Controller(world);
    await controller.sync();
    expect(world.deployment.status?.collisionCount).toBe(1);
    await controller.sync();
    const names = [...world.replicaSets.values()].map((replicaSet) => replicaSet.metadata?.name);
    expect(names).toContain(`web-${computeHash(template('nginx:1'), 1)}`);
  });

  test('k8ts: an orphan with the Deployment\'s template met on create is no collision (the claim adopts it next)', async () => {
    const world = new World();
    world.addReplicaSet('nginx:1', 3, {}, false);
    // The cache does not hand it over yet (not claimed): the create meets it.
    await new Controller(world).sync();
    expect(world.deployment.status?.collisionCount).toBeUndefined();
    expect(world.replicaSets.size).toBe(1);
  });

  test('paused: a new template starts no rollout, a new size still scales the rollout in progress proportionally', async () => {
    const world = new World({ template: template('nginx:2'), paused: true, replicas: 20 });
    const old = world.addReplicaSet('nginx:1', 7, { [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13' });
    world.nowMs += 1000;
    world.addReplicaSet('nginx:2', 6, { [REVISION_ANNOTATION]: '2', [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13' });
    await new Controller(world).sync();
    expect(world.replicaSets.get(old.metadata?.uid ?? '')?.spec?.replicas).toBe(12);
    expect(world.replicaSetFor('nginx:2')?.spec?.replicas).toBe(11);
    expect(world.events).toContain(`Normal ScalingReplicaSet Scaled up replica set ${old.metadata?.name} to 12 from 7`);
    expect(getCondition(world.deployment.status, 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    // Paused with only the old template around: no new ReplicaSet.
    const untouched = new World({ template: template('nginx:3'), paused: true });
    untouched.addReplicaSet('nginx:1', 10, { [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13' });
    await new Controller(untouched).sync();
    expect(untouched.replicaSets.size).toBe(1);
  });

  test('a spec it cannot act on (a maxSurge that is no number nor percentage) fails the sync as InvalidSpecError, writing nothing', async () => {
    const world = new World({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots', maxUnavailable: 1 } } });
    const before = world.snapshots.length;
    const sync = syncDeployment(world.api(), { deployment: world.deployment, replicaSets: [], podsByReplicaSet: new Map(), nowMs: world.nowMs });
    await expect(sync).rejects.toBeInstanceOf(InvalidSpecError);
    expect(world.snapshots.length).toBe(before);
  });

  test('Recreate: old pods all gone before the new ReplicaSet exists, then all new pods at once', async () => {
    const world = new World({ template: template('nginx:2'), strategy: { type: 'Recreate' } });
    const old = world.addReplicaSet('nginx:1', 10, { [REVISION_ANNOTATION]: '1' });
    const uid = old.metadata?.uid ?? '';
    const controller = new Controller(world);
    await controller.sync();
    expect(world.replicaSets.get(uid)?.spec?.replicas).toBe(0);
    while (world.manageOne(uid)) await controller.sync();
    expect(world.replicaSetFor('nginx:2')).toBeUndefined(); // status still reports 10 pods
    world.writeReplicaSetStatus(uid);
    await controller.sync();
    expect(world.replicaSetFor('nginx:2')?.spec?.replicas).toBe(10);
    expect(world.replicaSetFor('nginx:2')?.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
  });
});

describe('rollouts under random interleavings (seeded), against the bounds a user is promised', () => {
  const seeds = Array.from({ length: 12 }, (_, i) => 1000 + i);

  test.each(seeds)('seed %i: 10 replicas, maxSurge 3, maxUnavailable 2 — never more than 13 pods nor fewer than 8 ready, there and back', async (seed) => {
    const world = new World();
    await rollOut(world, seed);
    const violations = watchBounds(world, 8, 13);
    world.updateSpec((spec) => (spec.template = template('nginx:2')));
    await rollOut(world, seed + 1);
    expect(world.replicaSetFor('nginx:1')?.spec?.replicas).toBe(0);
    expect(world.replicaSetFor('nginx:2')?.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    // Back to the first template (what kubectl rollout undo does): its ReplicaSet is reused.
    world.updateSpec((spec) => (spec.template = template('nginx:1')));
    await rollOut(world, seed + 2);
    expect(violations).toEqual([]);
    expect(world.replicaSets.size).toBe(2);
    expect(world.replicaSetFor('nginx:1')?.metadata?.annotations).toMatchObject({ [REVISION_ANNOTATION]: '3', [REVISION_HISTORY_ANNOTATION]: '1' });
    expect(world.deployment.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');
    expect(getCondition(world.deployment.status, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
  });

  test.each(seeds)('seed %i: a third template in the middle of a rollout (two old ReplicaSets scaled down at once) keeps the bounds', async (seed) => {
    const world = new World();
    await rollOut(world, seed);
    const violations = watchBounds(world, 8, 13);
    world.updateSpec((spec) => (spec.template = template('nginx:2')));
    // Part of the way: some new pods ready, old ones going.
    await rollOutUntil(world, seed + 1, () => (world.replicaSetFor('nginx:2')?.status?.availableReplicas ?? 0) >= 4);
    world.updateSpec((spec) => (spec.template = template('nginx:3')));
    await rollOut(world, seed + 2);
    expect(violations).toEqual([]);
    expect(world.replicaSetFor('nginx:3')?.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');
  });

  test('the bounds checker has teeth: a Deployment allowed 5 unavailable breaks the bound of 8', async () => {
    const world = new World({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 5 } } });
    await rollOut(world, 7);
    const violations = watchBounds(world, 8, 13);
    world.updateSpec((spec) => (spec.template = template('nginx:2')));
    await rollOut(world, 8);
    expect(violations.length).toBeGreaterThan(0);
  });

  test('revisionHistoryLimit 0: once rolled out, the old ReplicaSet is deleted', async () => {
    const world = new World({ revisionHistoryLimit: 0 });
    await rollOut(world, 21);
    world.updateSpec((spec) => (spec.template = template('nginx:2')));
    await rollOut(world, 22);
    const controller = new Controller(world);
    for (const uid of world.replicaSets.keys()) world.writeReplicaSetStatus(uid);
    await controller.sync();
    expect([...world.replicaSets.values()].map((replicaSet) => replicaSet.spec?.template?.spec?.containers[0]?.image)).toEqual(['nginx:2']);
  });

  test('scaled in the middle of a rollout, it still converges within the new bounds', async () => {
    const world = new World();
    await rollOut(world, 31);
    world.updateSpec((spec) => (spec.template = template('nginx:2')));
    const random = seededRandom(32);
    const controller = new Controller(world, random);
    for (let i = 0; i < 60; i++) {
      await controller.sync();
      for (const uid of world.replicaSets.keys()) world.manageOne(uid);
      world.readyOne(() => 0);
      for (const uid of world.replicaSets.keys()) world.writeReplicaSetStatus(uid);
    }
    world.updateSpec((spec) => (spec.replicas = 20));
    await rollOut(world, 33);
    expect(world.totals()).toEqual({ pods: 20, ready: 20 });
  });
});
