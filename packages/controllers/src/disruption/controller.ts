/**
 * The disruption controller (kube-controller-manager's pkg/controller/disruption): keeps every
 * PodDisruptionBudget's status (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed,
 * disruptedPods, observedGeneration, the DisruptionAllowed condition) true to its pods, computed as
 * status.ts says. The eviction subresource in the API server reads that status to allow or refuse
 * an eviction, and takes a disruption from it; this controller gives them back as pods come and go.
 *
 * - Handlers only enqueue budget keys: a budget's own changes, and every pod change for the budgets
 *   of the pod's namespace that select it (before and after a label change).
 * - `sync(key)` reads the budget, the pods it selects and their controllers (ReplicaSets, and the
 *   Deployments above them) from the caches, and writes status only when it changes. A budget whose
 *   expected count cannot be computed (a pod's controller is unknown) gets the fail-safe status (no
 *   disruption allowed, reason SyncFailed) and a Warning; a conflicting write is retried.
 * - An eviction recorded in disruptedPods whose pod is not deleted within 2 minutes is forgotten, at
 *   a sync requeued for that moment; and the pod's DisruptionTarget condition (set by the eviction)
 *   is turned False then, on a second queue of pod keys, as upstream's stale pod disruption cleanup.
 */
import { budgetSelectsPod } from '@k8ts/apimachinery';
import { isConflict, objectKey, splitKey, type EventRecorder, type KubeObject, type Lister, type RateLimitingQueue, type ResourceClient } from '@k8ts/client';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { controllerRefOf } from '../framework/controller_ref.js';
import type { PodObject } from '../framework/pods.js';
import { runWorkers } from '../framework/run_workers.js';
import { withPodCondition } from '../framework/pod_conditions.js';
import { BudgetSyncError, computeBudgetStatus, failSafeStatus, staleDisruptionInMs, statusUnchanged, type BudgetObject } from './status.js';


export class DisruptionController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  /** Pods whose DisruptionTarget condition goes stale. */
  private readonly staleQueue: RateLimitingQueue<string>;
  private readonly podClient: ResourceClient<PodObject>;
  private readonly budgets: Lister<BudgetObject>;
  private readonly pods: Lister<PodObject>;
  private readonly replicaSets: Lister<ReplicaSet & KubeObject>;
  private readonly deployments: Lister<Deployment & KubeObject>;
  private readonly budgetClient: ResourceClient<BudgetObject>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.logger = context.logger.child({ controller: 'disruption' });
    this.queue = context.newQueue('disruption');
    this.staleQueue = context.newQueue('stale_pod_disruption');
    this.podClient = context.client.resource<PodObject>('', 'v1', 'pods');
    this.recorder = context.recorder('controllermanager');
    this.budgetClient = context.client.resource<BudgetObject>('policy', 'v1', 'poddisruptionbudgets');
    const budgetInformer = context.informers.informerFor<BudgetObject>('policy', 'v1', 'poddisruptionbudgets');
    const podInformer = context.informers.informerFor<PodObject>('', 'v1', 'pods');
    this.budgets = budgetInformer.lister();
    this.pods = podInformer.lister();
    this.replicaSets = context.informers.informerFor<ReplicaSet & KubeObject>('apps', 'v1', 'replicasets').lister();
    this.deployments = context.informers.informerFor<Deployment & KubeObject>('apps', 'v1', 'deployments').lister();
    budgetInformer.addEventHandler({
      onAdd: (budget) => this.queue.add(objectKey(budget)),
      onUpdate: (_old, budget) => this.queue.add(objectKey(budget)),
      onDelete: (budget) => this.queue.add(objectKey(budget)),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => {
        this.enqueueBudgetsOf(pod);
        this.enqueueIfStaleDisruption(pod);
      },
      onUpdate: (old, pod) => {
        this.enqueueBudgetsOf(pod);
        this.enqueueIfStaleDisruption(pod);
        if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {})) this.enqueueBudgetsOf(old);
      },
      onDelete: (pod) => this.enqueueBudgetsOf(pod),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informers } = this.context;
    await Promise.all([
      runWorkers({ informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger }),
      runWorkers({ informers, queue: this.staleQueue, workers: 1, sync: (key) => this.syncStalePodDisruption(key), signal, logger: this.logger }),
    ]);
  }

  /** Turns a stale DisruptionTarget condition False (the pod was marked for an eviction that did not delete it). */
  async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(name, namespace);
    if (pod === undefined) return;
    const nowMs = this.context.clock.now();
    const inMs = staleDisruptionInMs(pod, nowMs);
    if (inMs === undefined) return;
    if (inMs > 0) {
      this.staleQueue.addAfter(key, inMs);
      return;
    }
    const { status } = withPodCondition(pod.status, { type: 'DisruptionTarget', status: 'False' }, nowMs);
    await this.podClient.namespace(namespace ?? '').updateStatus({ ...pod, status });
  }

  private enqueueIfStaleDisruption(pod: PodObject): void {
    const inMs = staleDisruptionInMs(pod, this.context.clock.now());
    if (inMs !== undefined) this.staleQueue.addAfter(objectKey(pod), Math.max(0, inMs));
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const budget = this.budgets.get(name, namespace);
    if (budget === undefined) return;
    const pods = this.pods.namespace(namespace ?? '').list().filter((pod) => budgetSelectsPod(budget, pod));
    if (pods.length === 0) this.recorder.event(budget, 'Normal', 'NoPods', 'No matching pods found');
    const nowMs = this.context.clock.now();
    let computed;
    try {
      computed = computeBudgetStatus(budget, pods, (podNamespace, owner) => this.scaleOf(podNamespace, owner), nowMs);
    } catch (error) {
      if (!(error instanceof BudgetSyncError)) throw error;
      this.recorder.event(budget, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${error.message}`);
      await this.writeStatus(budget, failSafeStatus(budget, error.message, nowMs));
      return;
    }
    if (computed.unmanagedPods.length > 0) {
      this.recorder.event(
        budget,
        'Warning',
        'UnmanagedPods',
        'Pods selected by this PodDisruptionBudget were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      );
    }
    for (const podName of computed.notDeleted) {
      const pod = pods.find((candidate) => candidate.metadata?.name === podName);
      if (pod !== undefined) this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${namespace ?? ''}/${name} to be deleted but it wasn't`);
    }
    await this.writeStatus(budget, computed.status);
    if (computed.recheckAtMs !== undefined) this.queue.addAfter(key, Math.max(0, computed.recheckAtMs - nowMs));
  }

  /** Writes the status unless nothing changes; a conflict fails the sync (it is retried with fresh caches). */
  private async writeStatus(budget: BudgetObject, status: NonNullable<BudgetObject['status']>): Promise<void> {
    if (statusUnchanged(budget, status)) return;
    try {
      await this.budgetClient.namespace(budget.metadata?.namespace ?? '').updateStatus({ ...budget, status });
    } catch (error) {
      if (isConflict(error)) this.logger.debug({ budget: objectKey(budget) }, 'status write conflicted; retrying');
      throw error;
    }
  }

  /** The desired replicas of a pod's controller: a Deployment's for its ReplicaSets, else the ReplicaSet's. */
  private scaleOf(namespace: string, owner: OwnerReference): number | undefined {
    if (owner.kind === 'ReplicaSet' && owner.apiVersion.startsWith('apps/')) {
      const replicaSet = this.replicaSets.get(owner.name, namespace);
      if (replicaSet === undefined || replicaSet.metadata?.uid !== owner.uid) return undefined;
      const parent = controllerRefOf(replicaSet);
      if (parent?.kind === 'Deployment') {
        const deployment = this.deployments.get(parent.name, namespace);
        if (deployment !== undefined && deployment.metadata?.uid === parent.uid) return deployment.spec?.replicas ?? 1;
      }
      return replicaSet.spec?.replicas ?? 1;
    }
    if (owner.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
      const deployment = this.deployments.get(owner.name, namespace);
      return deployment !== undefined && deployment.metadata?.uid === owner.uid ? (deployment.spec?.replicas ?? 1) : undefined;
    }
    return undefined;
  }

  private enqueueBudgetsOf(pod: PodObject): void {
    for (const budget of this.budgets.namespace(pod.metadata?.namespace ?? '').list()) {
      if (budgetSelectsPod(budget, pod)) this.queue.add(objectKey(budget));
    }
  }
}
