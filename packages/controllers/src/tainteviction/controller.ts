/**
 * The taint eviction controller (upstream pkg/controller/tainteviction, "taint-eviction-controller",
 * a controller of its own since 1.29): pods on a node with NoExecute taints they do not tolerate
 * are deleted at once; pods that tolerate them with tolerationSeconds are deleted that long after
 * the taint's timeAdded; pods that tolerate them without a bound stay.
 *
 * Level-triggered per pod: `sync(pod)` computes the pod's eviction time from the informer caches
 * and either evicts now or queues itself again for that time, so nothing is lost on a restart (the
 * time comes from the taint, not from memory). Before deleting, it reads the pod and its node from
 * the API again, so a lagging cache cannot evict a pod whose taint was just lifted. An evicted pod
 * first gets the DisruptionTarget condition (reason DeletionByTaintManager), then an ordinary
 * delete (its termination grace period applies), preconditioned on its uid.
 */
import { parseTime } from '@k8ts/apimachinery';
import { ignoreNotFound, type EventRecorder, type Lister, type RateLimitingQueue, type ResourceClient } from '@k8ts/client';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { withPodCondition } from '../framework/pod_conditions.js';
import { POD_NODE_NAME_INDEX, podNodeNameIndex } from '../framework/pods_by_node.js';
import { evictionTime, noExecuteTaints, type EvictionDecision } from './tolerations.js';

export const TAINT_EVICTION_CONTROLLER = 'taint-eviction-controller';

export class TaintEvictionController implements Controller {
  private readonly podLister: Lister<Pod>;
  private readonly nodeLister: Lister<Node>;
  private readonly podsOnNode: (nodeName: string) => Pod[];
  private readonly pods: ResourceClient<Pod>;
  private readonly nodes: ResourceClient<Node>;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  /** Pods with an eviction time ahead (for the "Cancelling deletion" event when it is lifted). */
  private readonly scheduled = new Map<string, number>();
  /** When a taint written without timeAdded was first seen, by node, key and effect. */
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    const podInformer = context.informers.informerFor<Pod>('', 'v1', 'pods', { indexers: { [POD_NODE_NAME_INDEX]: podNodeNameIndex } });
    const nodeInformer = context.informers.informerFor<Node>('', 'v1', 'nodes');
    this.podLister = podInformer.lister();
    this.nodeLister = nodeInformer.lister();
    this.podsOnNode = (nodeName) => podInformer.indexer.byIndex(POD_NODE_NAME_INDEX, nodeName);
    this.pods = context.client.resource<Pod>('', 'v1', 'pods');
    this.nodes = context.client.resource<Node>('', 'v1', 'nodes');
    this.recorder = context.recorder(TAINT_EVICTION_CONTROLLER);
    this.queue = context.newQueue('noexec_taint_pod');
    podInformer.addEventHandler({
      onAdd: (pod) => this.enqueuePod(pod),
      onUpdate: (old, pod) => {
        const changed = old.spec?.nodeName !== pod.spec?.nodeName || JSON.stringify(old.spec?.tolerations) !== JSON.stringify(pod.spec?.tolerations);
        if (changed) this.enqueuePod(pod);
      },
      onDelete: (pod) => this.enqueuePod(pod),
    });
    nodeInformer.addEventHandler({
      onAdd: (node) => this.enqueuePodsOn(node),
      onUpdate: (old, node) => {
        if (JSON.stringify(noExecuteTaints(old.spec?.taints)) !== JSON.stringify(noExecuteTaints(node.spec?.taints))) this.enqueuePodsOn(node);
      },
      onDelete: (node) => this.enqueuePodsOn(node),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const { informers, logger } = this.context;
    return runWorkers({ informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger });
  }

  private enqueuePod(pod: Pod): void {
    if (pod.spec?.nodeName) this.queue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }

  private enqueuePodsOn(node: Node): void {
    for (const pod of this.podsOnNode(node.metadata?.name ?? '')) this.enqueuePod(pod);
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.podLister.get(name, namespace);
    const node = pod?.spec?.nodeName ? this.nodeLister.get(pod.spec.nodeName) : undefined;
    if (pod === undefined || pod.metadata?.deletionTimestamp || node === undefined) {
      this.scheduled.delete(key);
      return;
    }
    const now = this.context.clock.now();
    const decision = this.decide(pod, node, now);
    if (decision.kind === 'never') return this.cancel(pod, key);
    if (decision.atMs > now) {
      this.scheduled.set(key, decision.atMs);
      this.queue.addAfter(key, decision.atMs - now);
      return;
    }
    await this.evict(pod, key);
  }

  private decide(pod: Pod, node: Node, now: number): EvictionDecision {
    return evictionTime(noExecuteTaints(node.spec?.taints), pod.spec?.tolerations, (taint) => this.addedMs(node, taint, now));
  }

  /** The taint's timeAdded; for a taint written without one, when this controller first saw it. */
  private addedMs(node: Node, taint: Taint, now: number): number {
    const added = parseTime(taint.timeAdded);
    if (added !== undefined) return added;
    const key = `${node.metadata?.name}\x00${taint.key}\x00${taint.effect}`;
    const seen = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, seen);
    return seen;
  }

  private cancel(pod: Pod, key: string): void {
    if (!this.scheduled.delete(key)) return;
    this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  /** Re-reads the pod and its node, and if the eviction still stands, marks and deletes the pod. */
  private async evict(cached: Pod, key: string): Promise<void> {
    const { clock, logger } = this.context;
    const pod = await this.fresh(this.pods, cached);
    const node = pod?.spec?.nodeName ? await this.fresh(this.nodes, { metadata: { name: pod.spec.nodeName } }) : undefined;
    if (pod === undefined || node === undefined || pod.metadata?.deletionTimestamp) return;
    const now = clock.now();
    const decision = this.decide(pod, node, now);
    // The cache lagged (a taint lifted or re-added, a toleration added): decide again later.
    if (decision.kind === 'never') return;
    if (decision.atMs > now) {
      this.queue.addAfter(key, decision.atMs - now);
      return;
    }
    this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    const condition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };
    const { status, changed } = withPodCondition(pod.status, condition, now);
    if (changed) await this.pods.updateStatus({ ...pod, status });
    await ignoreNotFound(this.pods.namespace(pod.metadata?.namespace ?? '').delete(pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid ?? '' } }));
    this.scheduled.delete(key);
    logger.info({ pod: key, node: node.metadata?.name }, 'pod evicted for a NoExecute taint');
  }

  private fresh<T extends Pod | Node>(client: ResourceClient<T>, object: T): Promise<T | undefined> {
    const namespace = object.metadata?.namespace;
    return ignoreNotFound((namespace ? client.namespace(namespace) : client).get(object.metadata?.name ?? ''));
  }
}
