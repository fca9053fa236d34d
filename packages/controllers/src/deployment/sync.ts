/**
 * One sync of one Deployment, upstream's syncDeployment after the claim of its ReplicaSets: the
 * order of decisions (deleting → status only; pause conditions; paused or scaled → proportional
 * scale; else a Recreate or RollingUpdate step), with every write going through `DeploymentApi`
 * so the whole sequence runs against an in-memory API in unit tests.
 *
 * Safe to run again at any moment: every decision is taken from the objects handed in (the
 * informer caches), every write is conditional on the resourceVersion it read (a write to an object
 * the cache held stale gets a Conflict and the key is retried; the steps visit ReplicaSets in a
 * fixed order, so a sync that lacks an earlier sync's write meets that object first), and the new
 * ReplicaSet's name is derived from its template, so a create repeated after a crash meets
 * AlreadyExists and takes what the first one made. Unlike upstream, the sync carries the objects
 * its own writes returned to its later steps, so one sync does not conflict with itself.
 */
import { ApiError, matchesLabelSelector } from '@k8ts/apimachinery';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerRefFor, controllerRefOf, type OwnerKind } from '../framework/controller_ref.js';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import { isPodActive, isPodTerminal } from '../framework/pods.js';
import { REVISION_ANNOTATION, desiredReplicasAnnotation, maxRevision, replicasAnnotationsNeedUpdate, setDeploymentRevision, setNewReplicaSetAnnotations, setReplicasAnnotations } from './annotations.js';
import * as conditions from './conditions.js';
import { desiredReplicas, isRollingUpdate } from './fenceposts.js';
import { replicaSetsToDelete } from './history.js';
import { activeReplicaSets, actualReplicaCount, findNewReplicaSet, specReplicaCount, specReplicas } from './replica_sets.js';
import { maxScaledDown, newReplicaSetReplicas, oldScaleDownSteps, unhealthyCleanupSteps, type CachedPodCounts } from './rolling.js';
import { scaleSteps, type ScaleStep } from './scaling.js';
import { calculateStatus, deploymentComplete, hasProgressDeadline, pausedCondition, rolloutStatus, sameStatus, stuckRequeueAfterMs } from './status.js';
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from './template_hash.js';

/** How a Deployment's controller references name it. */
export const DEPLOYMENT_KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'Deployment' };

/** The writes a sync makes, and the one read it needs after a create meets AlreadyExists. */
export interface DeploymentApi {
  createReplicaSet(replicaSet: ReplicaSet): Promise<ReplicaSet>;
  /** Conditional on metadata.resourceVersion. */
  updateReplicaSet(replicaSet: ReplicaSet): Promise<ReplicaSet>;
  /** A ReplicaSet already gone is no error. */
  deleteReplicaSet(replicaSet: ReplicaSet): Promise<void>;
  /** The status subresource, with the revision annotation as upstream's status strategy lets through. */
  updateDeploymentStatus(deployment: Deployment): Promise<Deployment>;
  /** A fresh read (undefined when not found): upstream reads its cache, which may not have the ReplicaSet yet. */
  getReplicaSet(namespace: string, name: string): Promise<ReplicaSet | undefined>;
  event(deployment: Deployment, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface SyncInput {
  /** The Deployment from the cache; the sync works on a copy. */
  readonly deployment: Deployment;
  /** The ReplicaSets it owns (after adoption and release). */
  readonly replicaSets: readonly ReplicaSet[];
  /** Its ReplicaSets' pods in the cache, by ReplicaSet uid. */
  readonly podsByReplicaSet: ReadonlyMap<string, readonly Pod[]>;
  readonly nowMs: number;
}

export interface SyncOutcome {
  /** Look again after this long (0: soon, rate limited) to notice a missed progress deadline. */
  readonly requeueAfterMs?: number;
}

export const SCALING_REPLICA_SET_REASON = 'ScalingReplicaSet';

export async function syncDeployment(api: DeploymentApi, input: SyncInput): Promise<SyncOutcome> {
  return new DeploymentSync(api, input).run();
}

class DeploymentSync {
  private deployment: Deployment;
  private replicaSets: ReplicaSet[];
  private readonly cachedPods: CachedPodCounts;
  private requeueAfterMs: number | undefined;

  constructor(
    private readonly api: DeploymentApi,
    private readonly input: SyncInput,
  ) {
    this.deployment = structuredClone(input.deployment);
    this.replicaSets = input.replicaSets.map((replicaSet) => structuredClone(replicaSet));
    const counts = new Map<string, number>();
    for (const [uid, pods] of input.podsByReplicaSet) counts.set(uid, pods.filter(isPodActive).length);
    this.cachedPods = counts;
  }

  async run(): Promise<SyncOutcome> {
    if (this.deployment.metadata?.deletionTimestamp !== undefined) {
      const { newReplicaSet, oldReplicaSets } = await this.replicaSetsAndSyncRevision(false);
      await this.syncStatus([...oldReplicaSets, newReplicaSet], newReplicaSet);
      return {};
    }
    await this.checkPausedConditions();
    if (this.deployment.spec?.paused === true || (await this.isScalingEvent())) {
      await this.scaleAndSyncStatus();
    } else if (isRollingUpdate(this.deployment)) {
      await this.rolloutRolling();
    } else {
      await this.rolloutRecreate();
    }
    return this.requeueAfterMs === undefined ? {} : { requeueAfterMs: this.requeueAfterMs };
  }

  private get now(): number {
    return this.input.nowMs;
  }

  /** Puts what the API returned in place of the copy the sync had (by uid). */
  private remember(replicaSet: ReplicaSet): ReplicaSet {
    const index = this.replicaSets.findIndex((other) => other.metadata?.uid === replicaSet.metadata?.uid);
    if (index >= 0) this.replicaSets[index] = replicaSet;
    else this.replicaSets.push(replicaSet);
    return replicaSet;
  }

  private async writeStatus(): Promise<void> {
    this.deployment = await this.api.updateDeploymentStatus(this.deployment);
  }

  // ---- the new and old ReplicaSets, revisions -------------------------------------------------

  /**
   * The new ReplicaSet (created when asked and missing) with its revision brought up to date, and
   * every other one (getAllReplicaSetsAndSyncRevision).
   */
  private async replicaSetsAndSyncRevision(createIfMissing: boolean): Promise<{ newReplicaSet: ReplicaSet | undefined; oldReplicaSets: ReplicaSet[] }> {
    const existing = findNewReplicaSet(this.deployment, this.replicaSets);
    const oldReplicaSets = this.replicaSets.filter((replicaSet) => replicaSet !== existing);
    const newRevision = maxRevision(oldReplicaSets) + 1;
    let newReplicaSet: ReplicaSet | undefined;
    if (existing !== undefined) newReplicaSet = await this.syncExistingNewReplicaSet(existing, newRevision);
    else if (createIfMissing) newReplicaSet = await this.createNewReplicaSet(oldReplicaSets, newRevision);
    return { newReplicaSet, oldReplicaSets };
  }

  private async syncExistingNewReplicaSet(existing: ReplicaSet, newRevision: number): Promise<ReplicaSet> {
    const d = this.deployment;
    const copy = structuredClone(existing);
    const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    const minReadySeconds = d.spec?.minReadySeconds ?? 0;
    if (annotationsChanged || (copy.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
      (copy.spec ??= { selector: {} }).minReadySeconds = minReadySeconds;
      // The Deployment's revision follows at the next sync, as upstream.
      return this.remember(await this.api.updateReplicaSet(copy));
    }
    let needsUpdate = setDeploymentRevision(d, copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
    if (hasProgressDeadline(d) && conditions.getCondition(d.status, conditions.PROGRESSING) === undefined) {
      const message = `Found new replica set "${copy.metadata?.name}"`;
      conditions.setCondition((d.status ??= {}), conditions.newCondition(conditions.PROGRESSING, 'True', conditions.FOUND_NEW_REPLICA_SET_REASON, message, this.now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus();
    return existing;
  }

  private newReplicaSetObject(oldReplicaSets: readonly ReplicaSet[], newRevision: number): ReplicaSet {
    const d = this.deployment;
    const template = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    const labels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const replicaSet: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata?.name}-${hash}`, namespace: d.metadata?.namespace ?? '', ownerReferences: [controllerRefFor(d, DEPLOYMENT_KIND)], labels },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template: { ...template, metadata: { ...template.metadata, labels } } },
    };
    (replicaSet.spec as { replicas: number }).replicas = newReplicaSetReplicas(d, [...oldReplicaSets, replicaSet], replicaSet, this.cachedPods);
    setNewReplicaSetAnnotations(d, replicaSet, newRevision, false);
    return replicaSet;
  }

  private async createNewReplicaSet(oldReplicaSets: readonly ReplicaSet[], newRevision: number): Promise<ReplicaSet> {
    const d = this.deployment;
    const wanted = this.newReplicaSetObject(oldReplicaSets, newRevision);
    const name = wanted.metadata?.name ?? '';
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.api.createReplicaSet(wanted);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.reason === 'AlreadyExists') {
        const found = await this.api.getReplicaSet(d.metadata?.namespace ?? '', name);
        if (found === undefined) throw error;
        const sameTemplate = equalIgnoreHash(d.spec?.template, found.spec?.template);
        const owner = controllerRefOf(found);
        if (owner?.uid === d.metadata?.uid && sameTemplate) {
          // Ours, with this template: a create repeated after a crash or on a lagging cache.
          created = found;
          alreadyExists = true;
        } else if (owner === undefined && sameTemplate && matchesLabelSelector(d.spec?.selector, found.metadata?.labels)) {
          // k8ts: an orphan with our template (an orphaning delete and re-create, seen before the
          // cache has it) is no collision: the claim adopts it at the next sync.
          throw error;
        } else {
          // A hash collision: the next sync hashes with a higher collisionCount.
          (d.status ??= {}).collisionCount = (d.status.collisionCount ?? 0) + 1;
          await this.writeStatus();
          throw error;
        }
      } else if (isNamespaceTerminating(error)) {
        throw error;
      } else {
        const message = `Failed to create new replica set "${name}": ${error.message}`;
        if (hasProgressDeadline(d)) {
          conditions.setCondition((d.status ??= {}), conditions.newCondition(conditions.PROGRESSING, 'False', conditions.FAILED_REPLICA_SET_CREATE_REASON, message, this.now));
          await this.writeStatus().catch(() => undefined);
        }
        this.api.event(d, 'Warning', conditions.FAILED_REPLICA_SET_CREATE_REASON, message);
        throw error;
      }
    }
    const replicas = specReplicas(created);
    if (!alreadyExists && replicas > 0) this.api.event(d, 'Normal', SCALING_REPLICA_SET_REASON, `Scaled up replica set ${name} to ${replicas}`);
    this.remember(created);
    let needsUpdate = setDeploymentRevision(d, String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      const message = `Created new replica set "${name}"`;
      conditions.setCondition((d.status ??= {}), conditions.newCondition(conditions.PROGRESSING, 'True', conditions.NEW_REPLICA_SET_REASON, message, this.now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus();
    return created;
  }

  // ---- scaling --------------------------------------------------------------------------------

  /** Scales to `replicas` and records ScalingReplicaSet; also refreshes stale replicas annotations. */
  private async scaleReplicaSet(replicaSet: ReplicaSet, replicas: number, operation: string): Promise<{ scaled: boolean; replicaSet: ReplicaSet }> {
    const d = this.deployment;
    const from = specReplicas(replicaSet);
    const resize = from !== replicas;
    if (!resize && !replicasAnnotationsNeedUpdate(replicaSet, d)) return { scaled: false, replicaSet };
    const copy = structuredClone(replicaSet);
    (copy.spec ??= { selector: {} }).replicas = replicas;
    setReplicasAnnotations(copy, d);
    const updated = this.remember(await this.api.updateReplicaSet(copy));
    if (resize) this.api.event(d, 'Normal', SCALING_REPLICA_SET_REASON, `Scaled ${operation} replica set ${updated.metadata?.name} to ${replicas} from ${from}`);
    return { scaled: resize, replicaSet: updated };
  }

  /** scaleReplicaSetAndRecordEvent: nothing when the size is already right. */
  private async resize(replicaSet: ReplicaSet, replicas: number): Promise<{ scaled: boolean; replicaSet: ReplicaSet }> {
    const from = specReplicas(replicaSet);
    if (from === replicas) return { scaled: false, replicaSet };
    return this.scaleReplicaSet(replicaSet, replicas, from < replicas ? 'up' : 'down');
  }

  private async apply(steps: readonly ScaleStep[]): Promise<boolean> {
    let scaled = false;
    for (const step of steps) {
      const current = this.current(step.replicaSet);
      const result = step.operation === undefined ? await this.resize(current, step.replicas) : await this.scaleReplicaSet(current, step.replicas, step.operation);
      scaled ||= result.scaled;
    }
    return scaled;
  }

  /** The sync's latest copy of `replicaSet`. */
  private current(replicaSet: ReplicaSet): ReplicaSet {
    return this.replicaSets.find((other) => other.metadata?.uid === replicaSet.metadata?.uid) ?? replicaSet;
  }

  /** An active ReplicaSet was last scaled for another Deployment size (isScalingEvent). */
  private async isScalingEvent(): Promise<boolean> {
    const { newReplicaSet, oldReplicaSets } = await this.replicaSetsAndSyncRevision(false);
    const desired = desiredReplicas(this.deployment);
    return activeReplicaSets([...oldReplicaSets, newReplicaSet]).some((replicaSet) => {
      const annotated = desiredReplicasAnnotation(replicaSet);
      return annotated !== undefined && annotated !== desired;
    });
  }

  /** Paused or resized: scale proportionally, clean up history when paused, write status (sync). */
  private async scaleAndSyncStatus(): Promise<void> {
    const { newReplicaSet, oldReplicaSets } = await this.replicaSetsAndSyncRevision(false);
    await this.apply(scaleSteps(this.deployment, newReplicaSet, oldReplicaSets));
    const latestOld = oldReplicaSets.map((replicaSet) => this.current(replicaSet));
    if (this.deployment.spec?.paused === true) await this.cleanUpHistory(latestOld);
    await this.syncStatus([...latestOld, newReplicaSet && this.current(newReplicaSet)], newReplicaSet && this.current(newReplicaSet));
  }

  // ---- rollouts -------------------------------------------------------------------------------

  private async rolloutRolling(): Promise<void> {
    const { newReplicaSet: created, oldReplicaSets } = await this.replicaSetsAndSyncRevision(true);
    const newReplicaSet = created as ReplicaSet;
    const all = (): ReplicaSet[] => [...oldReplicaSets, newReplicaSet].map((replicaSet) => this.current(replicaSet));
    if (await this.reconcileNewReplicaSet(all(), this.current(newReplicaSet))) return this.syncRolloutStatus(all(), this.current(newReplicaSet));
    if (await this.reconcileOldReplicaSets(all(), activeReplicaSets(oldReplicaSets.map((rs) => this.current(rs))), this.current(newReplicaSet))) {
      return this.syncRolloutStatus(all(), this.current(newReplicaSet));
    }
    if (deploymentComplete(this.deployment, this.deployment.status)) await this.cleanUpHistory(oldReplicaSets.map((rs) => this.current(rs)));
    return this.syncRolloutStatus(all(), this.current(newReplicaSet));
  }

  private async reconcileNewReplicaSet(all: readonly ReplicaSet[], newReplicaSet: ReplicaSet): Promise<boolean> {
    const desired = desiredReplicas(this.deployment);
    const size = specReplicas(newReplicaSet);
    if (size === desired) return false;
    if (size > desired) return (await this.resize(newReplicaSet, desired)).scaled;
    return (await this.resize(newReplicaSet, newReplicaSetReplicas(this.deployment, all, newReplicaSet, this.cachedPods))).scaled;
  }

  private async reconcileOldReplicaSets(all: readonly ReplicaSet[], oldActive: readonly ReplicaSet[], newReplicaSet: ReplicaSet): Promise<boolean> {
    if (specReplicaCount(oldActive) === 0) return false;
    const budget = maxScaledDown(this.deployment, all, newReplicaSet);
    if (budget <= 0) return false;
    const cleaned = await this.apply(unhealthyCleanupSteps(oldActive, budget));
    const olds = oldActive.map((replicaSet) => this.current(replicaSet));
    const scaledDown = await this.apply(oldScaleDownSteps(this.deployment, [...olds, this.current(newReplicaSet)], olds));
    return cleaned || scaledDown;
  }

  private async rolloutRecreate(): Promise<void> {
    // No new ReplicaSet before the old pods are gone: nothing runs both templates at once.
    let { newReplicaSet, oldReplicaSets } = await this.replicaSetsAndSyncRevision(false);
    const all = (): (ReplicaSet | undefined)[] => [...oldReplicaSets.map((rs) => this.current(rs)), newReplicaSet && this.current(newReplicaSet)];
    const oldActive = activeReplicaSets(oldReplicaSets);
    if (await this.apply(oldActive.map((replicaSet) => ({ replicaSet, replicas: 0 })))) return this.syncRolloutStatus(all(), newReplicaSet);
    if (this.oldPodsRunning(newReplicaSet, oldReplicaSets.map((rs) => this.current(rs)))) return this.syncRolloutStatus(all(), newReplicaSet);
    if (newReplicaSet === undefined) ({ newReplicaSet, oldReplicaSets } = await this.replicaSetsAndSyncRevision(true));
    const target = this.current(newReplicaSet as ReplicaSet);
    await this.resize(target, desiredReplicas(this.deployment));
    if (deploymentComplete(this.deployment, this.deployment.status)) await this.cleanUpHistory(oldReplicaSets.map((rs) => this.current(rs)));
    return this.syncRolloutStatus(all(), this.current(target));
  }

  /** Old ReplicaSets still report pods, or the cache holds a not-finished pod of one (oldPodsRunning). */
  private oldPodsRunning(newReplicaSet: ReplicaSet | undefined, oldReplicaSets: readonly ReplicaSet[]): boolean {
    if (actualReplicaCount(oldReplicaSets) > 0) return true;
    for (const [uid, pods] of this.input.podsByReplicaSet) {
      if (uid === newReplicaSet?.metadata?.uid) continue;
      if (pods.some((pod) => !isPodTerminal(pod))) return true;
    }
    return false;
  }

  // ---- history and status ---------------------------------------------------------------------

  private async cleanUpHistory(oldReplicaSets: readonly ReplicaSet[]): Promise<void> {
    for (const replicaSet of replicaSetsToDelete(this.deployment, oldReplicaSets)) await this.api.deleteReplicaSet(replicaSet);
  }

  private async checkPausedConditions(): Promise<void> {
    const condition = pausedCondition(this.deployment, this.now);
    if (condition === undefined) return;
    conditions.setCondition((this.deployment.status ??= {}), condition);
    await this.writeStatus();
  }

  /** Writes calculateStatus when it differs (syncDeploymentStatus). */
  private async syncStatus(all: readonly (ReplicaSet | undefined)[], newReplicaSet: ReplicaSet | undefined): Promise<void> {
    const status = calculateStatus(all, newReplicaSet, this.deployment, this.now);
    if (sameStatus(this.deployment.status, status)) return;
    this.deployment.status = status;
    await this.writeStatus();
  }

  /** Writes the rollout status when it differs, else asks to look again before the deadline (syncRolloutStatus). */
  private async syncRolloutStatus(all: readonly (ReplicaSet | undefined)[], newReplicaSet: ReplicaSet | undefined): Promise<void> {
    const status = rolloutStatus(all, newReplicaSet, this.deployment, this.now);
    if (sameStatus(this.deployment.status, status)) {
      this.requeueAfterMs = stuckRequeueAfterMs(this.deployment, status, this.now);
      return;
    }
    this.deployment.status = status;
    await this.writeStatus();
  }
}
