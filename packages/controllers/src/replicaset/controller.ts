/**
 * The ReplicaSet controller (kube-controller-manager's pkg/controller/replicaset): keeps each
 * ReplicaSet's number of active pods at spec.replicas.
 *
 * - Informer handlers only enqueue ReplicaSet keys and lower expectations: a pod seen added lowers
 *   its owner's expected creations, a pod seen deleted (or marked for deletion) its expected deletions.
 * - `sync(key)` reads the ReplicaSet and the namespace's pods from the caches, claims pods (adopts
 *   matching orphans, releases owned pods that stopped matching), and — only when its expectations
 *   are satisfied, so a cache that has not yet seen its own writes never makes it act twice —
 *   creates (slow-start batches, at most 500 per sync) or deletes (least valuable first) the
 *   difference, then writes status. Terminating and finished pods do not count.
 * - A failed create or delete fails the sync (rate-limited requeue) after ReplicaFailure is set.
 */
import { isNotFound, objectKey, splitKey, toApiError, type EventRecorder, type Lister, type RateLimitingQueue, type ResourceClient, type SharedInformer } from '@k8ts/client';
import { matchesLabels, type LabelRequirement } from '@k8ts/apimachinery';
import type { ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { claimObjects, recheckOwner } from '../framework/claim.js';
import { CONTROLLER_UID_INDEX, controllerRefOf, controllerUidIndex, resolveControllerRef } from '../framework/controller_ref.js';
import { ControllerExpectations } from '../framework/expectations.js';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import { isPodActive, type PodObject } from '../framework/pods.js';
import { runWorkers } from '../framework/run_workers.js';
import { REPLICA_SET_KIND, podFromTemplate } from './pod_template.js';
import { podsToDelete } from './ranking.js';
import { INVALID_SELECTOR_REASON, replicaSetSelector } from './selector.js';
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from './slow_start.js';
import { calculateStatus, desiredReplicas, nextAvailabilityCheckMs, statusUpToDate, type ReplicaSetObject } from './status.js';

/** Upstream's BurstReplicas: creations or deletions per sync at most. */
export const BURST_REPLICAS = 500;
/** Upstream's statusUpdateRetries: one fresh GET and one more try. */
const STATUS_UPDATE_RETRIES = 1;

export class ReplicaSetController implements Controller {
  readonly expectations: ControllerExpectations;
  private readonly queue: RateLimitingQueue<string>;
  private readonly replicaSets: Lister<ReplicaSetObject>;
  private readonly pods: Lister<PodObject>;
  private readonly replicaSetInformer: SharedInformer<ReplicaSetObject>;
  private readonly podClient: ResourceClient<PodObject>;
  private readonly replicaSetClient: ResourceClient<ReplicaSetObject>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.logger = context.logger.child({ controller: 'replicaset' });
    this.expectations = new ControllerExpectations(context.clock);
    this.queue = context.newQueue('replicaset');
    this.recorder = context.recorder('replicaset-controller');
    this.podClient = context.client.resource<PodObject>('', 'v1', 'pods');
    this.replicaSetClient = context.client.resource<ReplicaSetObject>('apps', 'v1', 'replicasets');
    this.replicaSetInformer = context.informers.informerFor<ReplicaSetObject>('apps', 'v1', 'replicasets', { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndex } });
    const podInformer = context.informers.informerFor<PodObject>('', 'v1', 'pods');
    this.replicaSets = this.replicaSetInformer.lister();
    this.pods = podInformer.lister();
    this.replicaSetInformer.addEventHandler({
      onAdd: (replicaSet) => this.queue.add(objectKey(replicaSet)),
      onUpdate: (old, current) => {
        if (old.metadata?.uid !== current.metadata?.uid) this.forgetReplicaSet(old);
        this.queue.add(objectKey(current));
      },
      onDelete: (replicaSet) => this.forgetReplicaSet(replicaSet),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, current) => this.podUpdated(old, current),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.replicaSets.get(name, namespace);
    if (cached === undefined) {
      this.expectations.delete(key);
      return;
    }
    const replicaSet = withKind(cached);
    const needsSync = this.expectations.satisfied(key);
    const selector = replicaSetSelector(replicaSet);
    if (!selector.ok) {
      this.recorder.event(replicaSet, 'Warning', INVALID_SELECTOR_REASON, selector.message);
      this.logger.warn({ replicaSet: key, problem: selector.message }, 'cannot act on this ReplicaSet');
      return;
    }
    const active = this.pods.namespace(namespace ?? '').list().filter(isPodActive);
    const pods = await this.claimPods(replicaSet, selector.requirements, active);
    let manageError: Error | undefined;
    if (needsSync && replicaSet.metadata?.deletionTimestamp === undefined) manageError = await this.manageReplicas(key, replicaSet, pods);
    const now = this.context.clock.now();
    const updated = await this.writeStatus(replicaSet, calculateStatus(replicaSet, pods, manageError, now));
    if (manageError !== undefined) throw manageError;
    const recheckMs = nextAvailabilityCheckMs(updated, pods, now);
    if (recheckMs !== undefined) this.queue.addAfter(key, recheckMs);
  }

  /** Creates or deletes pods to close the gap; resolves to the first failure, if any. */
  private async manageReplicas(key: string, replicaSet: ReplicaSetObject, pods: readonly PodObject[]): Promise<Error | undefined> {
    const diff = pods.length - desiredReplicas(replicaSet);
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, count);
      this.logger.debug({ replicaSet: key, creating: count }, 'too few replicas');
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH_SIZE, () => this.createPod(replicaSet));
      // Pods never created will never be observed: stop expecting them.
      for (let skipped = count - successes; skipped > 0; skipped--) this.expectations.creationObserved(key);
      return error === undefined ? undefined : toApiError(error);
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(pods, this.indirectlyRelatedPods(replicaSet), count, this.context.clock.now());
      this.expectations.expectDeletions(key, victims.map(objectKey));
      this.logger.debug({ replicaSet: key, deleting: count }, 'too many replicas');
      const errors = await Promise.all(victims.map((pod) => this.deletePod(key, replicaSet, pod)));
      return errors.find((error) => error !== undefined);
    }
    return undefined;
  }

  private async createPod(replicaSet: ReplicaSetObject): Promise<void> {
    let created: PodObject;
    try {
      created = await this.podClient.namespace(replicaSet.metadata?.namespace ?? '').create(podFromTemplate(replicaSet));
    } catch (caught) {
      const error = toApiError(caught);
      // A namespace being deleted refuses every create: nothing to do, nothing to report (upstream).
      if (isNamespaceTerminating(error)) return;
      this.recorder.event(replicaSet, 'Warning', 'FailedCreate', `Error creating: ${error.message}`);
      throw error;
    }
    this.recorder.event(replicaSet, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
  }

  /** Deletes one pod; resolves to the error (a pod already gone is no error). */
  private async deletePod(key: string, replicaSet: ReplicaSetObject, pod: PodObject): Promise<Error | undefined> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.podClient.namespace(pod.metadata?.namespace ?? '').delete(name);
    } catch (caught) {
      // The informer will never see this deletion: stop expecting it.
      this.expectations.deletionObserved(key, objectKey(pod));
      if (isNotFound(caught)) return undefined;
      const error = toApiError(caught);
      this.recorder.event(replicaSet, 'Warning', 'FailedDelete', `Error deleting: ${error.message}`);
      return error;
    }
    this.recorder.event(replicaSet, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    return undefined;
  }

  /** The active pods that are ours, after adopting matching orphans and releasing pods that stopped matching. */
  private claimPods(replicaSet: ReplicaSetObject, selector: LabelRequirement[], pods: readonly PodObject[]): Promise<PodObject[]> {
    return claimObjects({
      owner: replicaSet,
      ownerKind: REPLICA_SET_KIND,
      objects: pods,
      matches: (pod) => matchesLabels(selector, pod.metadata?.labels),
      patch: (pod, body) => this.podClient.namespace(pod.metadata?.namespace ?? '').patch(pod.metadata?.name ?? '', 'strategic', body),
      canAdopt: () => recheckOwner(replicaSet, REPLICA_SET_KIND, () => this.replicaSetClient.namespace(replicaSet.metadata?.namespace ?? '').get(replicaSet.metadata?.name ?? '')),
    });
  }

  /** Pods of every ReplicaSet with the same controller as this one (upstream: none for a ReplicaSet without one). */
  private indirectlyRelatedPods(replicaSet: ReplicaSetObject): PodObject[] {
    const owner = controllerRefOf(replicaSet);
    if (owner?.uid === undefined) return [];
    const seen = new Set<string>();
    const related: PodObject[] = [];
    for (const sibling of this.replicaSetInformer.indexer.byIndex(CONTROLLER_UID_INDEX, owner.uid)) {
      const selector = replicaSetSelector(sibling);
      if (!selector.ok) continue;
      for (const pod of this.pods.namespace(sibling.metadata?.namespace ?? '').list()) {
        const uid = pod.metadata?.uid ?? '';
        if (seen.has(uid) || !matchesLabels(selector.requirements, pod.metadata?.labels)) continue;
        seen.add(uid);
        related.push(pod);
      }
    }
    return related;
  }

  /** Writes status unless it is already what is stored; one retry on a fresh read, as upstream. */
  private async writeStatus(replicaSet: ReplicaSetObject, status: ReplicaSetStatus): Promise<ReplicaSetObject> {
    if (statusUpToDate(replicaSet, status)) return replicaSet;
    const observed = { ...status, observedGeneration: replicaSet.metadata?.generation ?? 0 };
    const client = this.replicaSetClient.namespace(replicaSet.metadata?.namespace ?? '');
    let current = replicaSet;
    for (let attempt = 0; ; attempt++) {
      try {
        return await client.updateStatus({ ...current, status: observed });
      } catch (error) {
        if (attempt >= STATUS_UPDATE_RETRIES) throw error;
        current = await client.get(replicaSet.metadata?.name ?? '');
      }
    }
  }

  private forgetReplicaSet(replicaSet: ReplicaSetObject): void {
    const key = objectKey(replicaSet);
    this.expectations.delete(key);
    this.queue.add(key);
  }

  /** The ReplicaSet the pod's controller reference names, if the cache holds that very object. */
  private resolveOwner(pod: PodObject): ReplicaSetObject | undefined {
    return resolveControllerRef(this.replicaSets, REPLICA_SET_KIND.kind, pod);
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (nil or empty selectors match nothing). */
  private matchingReplicaSets(pod: PodObject): ReplicaSetObject[] {
    return this.replicaSets.namespace(pod.metadata?.namespace ?? '').list().filter((replicaSet) => {
      const selector = replicaSetSelector(replicaSet);
      return selector.ok && matchesLabels(selector.requirements, pod.metadata?.labels);
    });
  }

  private podAdded(pod: PodObject): void {
    // A pod already terminating when first seen (e.g. after a restart) is not a creation.
    if (pod.metadata?.deletionTimestamp !== undefined) return this.podDeleted(pod);
    if (controllerRefOf(pod) !== undefined) {
      const owner = this.resolveOwner(pod);
      if (owner === undefined) return;
      const key = objectKey(owner);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    // An orphan: whoever matches may adopt it. No expectation is lowered: nobody waits for orphans.
    for (const replicaSet of this.matchingReplicaSets(pod)) this.queue.add(objectKey(replicaSet));
  }

  private podUpdated(old: PodObject, current: PodObject): void {
    if (old.metadata?.resourceVersion === current.metadata?.resourceVersion) return; // a resync
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(current.metadata?.labels ?? {});
    if (current.metadata?.deletionTimestamp !== undefined) {
      // A graceful delete: act now (count it deleted), not when the kubelet finally removes it.
      this.podDeleted(current);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldReference = controllerRefOf(old);
    const currentReference = controllerRefOf(current);
    const referenceChanged = JSON.stringify(oldReference) !== JSON.stringify(currentReference);
    if (referenceChanged && oldReference !== undefined) {
      const previousOwner = this.resolveOwner(old);
      if (previousOwner !== undefined) this.queue.add(objectKey(previousOwner));
    }
    if (currentReference !== undefined) {
      const owner = this.resolveOwner(current);
      if (owner !== undefined) this.queue.add(objectKey(owner));
      return;
    }
    if (labelsChanged || referenceChanged) for (const replicaSet of this.matchingReplicaSets(current)) this.queue.add(objectKey(replicaSet));
  }

  private podDeleted(pod: PodObject): void {
    const owner = this.resolveOwner(pod);
    if (owner === undefined) return;
    const key = objectKey(owner);
    this.expectations.deletionObserved(key, objectKey(pod));
    this.queue.add(key);
  }
}

/** Objects from a list may come without kind; events name their object by it. */
function withKind(replicaSet: ReplicaSetObject): ReplicaSetObject {
  return replicaSet.kind === 'ReplicaSet' ? replicaSet : { ...replicaSet, apiVersion: 'apps/v1', kind: 'ReplicaSet' };
}
