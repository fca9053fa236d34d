/**
 * The Deployment controller (kube-controller-manager's pkg/controller/deployment): rolls each
 * Deployment's pods from template to template through ReplicaSets, and keeps its status.
 *
 * - Informer handlers only enqueue Deployment keys: a Deployment changed; a ReplicaSet added,
 *   changed or deleted (its controller, or for an orphan every Deployment whose selector matches
 *   it); a pod of one of its ReplicaSets deleted or no longer active.
 * - `sync(key)` reads the Deployment, the namespace's ReplicaSets and their pods from the caches,
 *   claims ReplicaSets (adopts matching orphans, releases owned ones that stopped matching) and
 *   runs one step of sync.ts. A Deployment it cannot act on (empty or unreadable selector, bad
 *   maxSurge/maxUnavailable) gets a Warning Event and is left until it changes.
 */
import { ignoreNotFound, objectKey, splitKey, type EventRecorder, type KubeObject, type Lister, type RateLimitingQueue, type ResourceClient, type SharedInformer } from '@k8ts/client';
import { matchesLabels, requirementsFromLabelSelector, type LabelRequirement } from '@k8ts/apimachinery';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { claimObjects, recheckOwner } from '../framework/claim.js';
import { CONTROLLER_UID_INDEX, controllerRefOf, controllerUidIndex, resolveControllerRef } from '../framework/controller_ref.js';
import { isPodActive, type PodObject } from '../framework/pods.js';
import { runWorkers } from '../framework/run_workers.js';
import { InvalidSpecError } from './fenceposts.js';
import { DEPLOYMENT_KIND, syncDeployment, type DeploymentApi } from './sync.js';

type DeploymentObject = Deployment & KubeObject;
type ReplicaSetObject = ReplicaSet & KubeObject;

/** Events are written as upstream's component. */
export const DEPLOYMENT_COMPONENT = 'deployment-controller';
export const SELECTING_ALL_REASON = 'SelectingAll';
export const INVALID_SELECTOR_REASON = 'InvalidSelector';
export const INVALID_SPEC_REASON = 'InvalidSpec';

export class DeploymentController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly deployments: Lister<DeploymentObject>;
  private readonly replicaSets: Lister<ReplicaSetObject>;
  private readonly podInformer: SharedInformer<PodObject>;
  private readonly deploymentClient: ResourceClient<DeploymentObject>;
  private readonly replicaSetClient: ResourceClient<ReplicaSetObject>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.logger = context.logger.child({ controller: 'deployment' });
    this.queue = context.newQueue('deployment');
    this.recorder = context.recorder(DEPLOYMENT_COMPONENT);
    this.deploymentClient = context.client.resource<DeploymentObject>('apps', 'v1', 'deployments');
    this.replicaSetClient = context.client.resource<ReplicaSetObject>('apps', 'v1', 'replicasets');
    const deploymentInformer = context.informers.informerFor<DeploymentObject>('apps', 'v1', 'deployments');
    const replicaSetInformer = context.informers.informerFor<ReplicaSetObject>('apps', 'v1', 'replicasets', { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndex } });
    this.podInformer = context.informers.informerFor<PodObject>('', 'v1', 'pods', { indexers: { [CONTROLLER_UID_INDEX]: controllerUidIndex } });
    this.deployments = deploymentInformer.lister();
    this.replicaSets = replicaSetInformer.lister();
    deploymentInformer.addEventHandler({
      onAdd: (deployment) => this.queue.add(objectKey(deployment)),
      onUpdate: (_old, deployment) => this.queue.add(objectKey(deployment)),
      onDelete: (deployment) => this.queue.add(objectKey(deployment)),
    });
    replicaSetInformer.addEventHandler({
      onAdd: (replicaSet) => this.replicaSetAdded(replicaSet),
      onUpdate: (old, current) => this.replicaSetUpdated(old, current),
      onDelete: (replicaSet) => this.enqueueOwner(replicaSet),
    });
    this.podInformer.addEventHandler({
      onUpdate: (old, current) => {
        if (isPodActive(old) && !isPodActive(current)) this.enqueueOwnerOfPod(current);
      },
      onDelete: (pod) => this.enqueueOwnerOfPod(pod),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.get(name, namespace);
    if (cached === undefined) return;
    const deployment: DeploymentObject = { ...cached, apiVersion: 'apps/v1', kind: 'Deployment' };
    const requirements = await this.selectorOrWarn(deployment);
    if (requirements === undefined) return;
    const replicaSets = await this.claimReplicaSets(deployment, requirements);
    const podsByReplicaSet = new Map<string, readonly Pod[]>();
    for (const replicaSet of replicaSets) {
      const uid = replicaSet.metadata?.uid ?? '';
      podsByReplicaSet.set(uid, this.podInformer.indexer.byIndex(CONTROLLER_UID_INDEX, uid));
    }
    try {
      const outcome = await syncDeployment(this.api(), { deployment, replicaSets, podsByReplicaSet, nowMs: this.context.clock.now() });
      if (outcome.requeueAfterMs === 0) this.queue.addRateLimited(key);
      else if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
    } catch (error) {
      if (!(error instanceof InvalidSpecError)) throw error;
      this.recorder.event(deployment, 'Warning', INVALID_SPEC_REASON, error.message);
      this.logger.warn({ deployment: key, problem: error.message }, 'cannot act on this Deployment');
    }
  }

  /** The selector's requirements, or undefined after a Warning Event when the controller cannot use it. */
  private async selectorOrWarn(deployment: DeploymentObject): Promise<LabelRequirement[] | undefined> {
    const selector = deployment.spec?.selector;
    if (selector === undefined || selector === null || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
      this.recorder.event(deployment, 'Warning', SELECTING_ALL_REASON, 'This deployment is selecting all pods. A non-empty selector is required.');
      const generation = deployment.metadata?.generation ?? 0;
      if ((deployment.status?.observedGeneration ?? 0) < generation) {
        await this.deploymentClient.updateStatus({ ...deployment, status: { ...deployment.status, observedGeneration: generation } });
      }
      return undefined;
    }
    try {
      return requirementsFromLabelSelector(selector);
    } catch (error) {
      const message = `deployment ${objectKey(deployment)} has invalid label selector: ${(error as Error).message}`;
      this.recorder.event(deployment, 'Warning', INVALID_SELECTOR_REASON, message);
      this.logger.warn({ deployment: objectKey(deployment), problem: message }, 'cannot act on this Deployment');
      return undefined;
    }
  }

  /** The ReplicaSets that are the Deployment's after adopting and releasing; fails if a patch failed. */
  private claimReplicaSets(deployment: DeploymentObject, selector: LabelRequirement[]): Promise<ReplicaSetObject[]> {
    const namespace = deployment.metadata?.namespace ?? '';
    const client = this.replicaSetClient.namespace(namespace);
    return claimObjects({
      owner: deployment,
      ownerKind: DEPLOYMENT_KIND,
      objects: this.replicaSets.namespace(namespace).list(),
      matches: (replicaSet) => matchesLabels(selector, replicaSet.metadata?.labels),
      patch: (replicaSet, body) => client.patch(replicaSet.metadata?.name ?? '', 'strategic', body),
      canAdopt: () => recheckOwner(deployment, DEPLOYMENT_KIND, () => this.deploymentClient.namespace(namespace).get(deployment.metadata?.name ?? '')),
    });
  }

  private api(): DeploymentApi {
    const replicaSets = (object: KubeObject): ResourceClient<ReplicaSetObject> => this.replicaSetClient.namespace(object.metadata?.namespace ?? '');
    return {
      createReplicaSet: (replicaSet) => replicaSets(replicaSet).create(replicaSet),
      updateReplicaSet: (replicaSet) => replicaSets(replicaSet).update(replicaSet),
      deleteReplicaSet: async (replicaSet) => {
        await ignoreNotFound(replicaSets(replicaSet).delete(replicaSet.metadata?.name ?? ''));
      },
      updateDeploymentStatus: (deployment) => this.updateStatus(deployment),
      getReplicaSet: (namespace, name) => ignoreNotFound(this.replicaSetClient.namespace(namespace).get(name)),
      event: (deployment, type, reason, message) => this.recorder.event({ ...deployment, apiVersion: 'apps/v1', kind: 'Deployment' }, type, reason, message),
    };
  }

  /**
   * The status write. kube's deployment status strategy lets metadata.annotations through, which is
   * how upstream (and this controller) records the Deployment's revision.
   */
  private async updateStatus(deployment: Deployment): Promise<Deployment> {
    return this.deploymentClient.namespace(deployment.metadata?.namespace ?? '').updateStatus(deployment as DeploymentObject);
  }

  // ---- event handlers: enqueue only -------------------------------------------------------------

  private enqueueOwner(replicaSet: ReplicaSetObject): void {
    const owner = resolveControllerRef(this.deployments, DEPLOYMENT_KIND.kind, replicaSet);
    if (owner !== undefined) this.queue.add(objectKey(owner));
  }

  /** Deployments in the ReplicaSet's namespace whose (non-empty, readable) selector matches it. */
  private enqueueMatching(replicaSet: ReplicaSetObject): void {
    for (const deployment of this.deployments.namespace(replicaSet.metadata?.namespace ?? '').list()) {
      const selector = deployment.spec?.selector;
      if (selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) continue;
      try {
        if (matchesLabels(requirementsFromLabelSelector(selector), replicaSet.metadata?.labels)) this.queue.add(objectKey(deployment));
      } catch {
        // An unreadable selector matches nothing; its own sync reports it.
      }
    }
  }

  private replicaSetAdded(replicaSet: ReplicaSetObject): void {
    if (controllerRefOf(replicaSet) !== undefined) return this.enqueueOwner(replicaSet);
    // An orphan: whoever matches may adopt it.
    this.enqueueMatching(replicaSet);
  }

  private replicaSetUpdated(old: ReplicaSetObject, current: ReplicaSetObject): void {
    if (old.metadata?.resourceVersion === current.metadata?.resourceVersion) return;
    const oldReference = controllerRefOf(old);
    const currentReference = controllerRefOf(current);
    const referenceChanged = JSON.stringify(oldReference) !== JSON.stringify(currentReference);
    if (referenceChanged && oldReference !== undefined) this.enqueueOwner(old);
    if (currentReference !== undefined) return this.enqueueOwner(current);
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(current.metadata?.labels ?? {});
    if (labelsChanged || referenceChanged) this.enqueueMatching(current);
  }

  private enqueueOwnerOfPod(pod: PodObject): void {
    const replicaSet = resolveControllerRef(this.replicaSets, 'ReplicaSet', pod);
    if (replicaSet !== undefined) this.enqueueOwner(replicaSet);
  }
}
