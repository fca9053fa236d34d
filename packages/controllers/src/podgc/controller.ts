/**
 * The pod garbage collector (upstream pkg/controller/podgc): every 20 s it deletes what rules.ts
 * picks. Each deletion first marks a pod that is not terminal Failed (with DisruptionTarget /
 * DeletionByPodGC for orphans), then force-deletes it (grace 0) preconditioned on its uid, as
 * upstream — no kubelet is left to finish those pods. Its only memory is the orphan quarantine:
 * a restarted controller quarantines again, which only delays.
 */
import { isConflict, isNotFound, type Lister, type ResourceClient } from '@k8ts/client';
import type { Node, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { withPodCondition } from '../framework/pod_conditions.js';
import { isPodTerminal } from '../framework/pods.js';
import { forEachConcurrently, repeatUntilAborted } from '../framework/repeat.js';
import { GC_CHECK_PERIOD_MS, quarantineMissingNodes, terminatedPodsToDelete, terminatingOnOutOfServiceNodes, unscheduledTerminating } from './rules.js';

/** Deletions in flight at once. */
const DELETE_CONCURRENCY = 16;
/** Status writes of one pod before it is left to the next pass. */
const STATUS_ATTEMPTS = 3;

const ORPHAN_CONDITION: Omit<PodCondition, 'lastTransitionTime'> = {
  type: 'DisruptionTarget',
  status: 'True',
  reason: 'DeletionByPodGC',
  message: 'PodGC: node no longer exists',
};

export class PodGcController implements Controller {
  private readonly podLister: Lister<Pod>;
  private readonly nodeLister: Lister<Node>;
  private readonly pods: ResourceClient<Pod>;
  private readonly nodes: ResourceClient<Node>;
  /** Nodes pods are bound to that the cache lacks, and since when. */
  private readonly quarantine = new Map<string, number>();

  constructor(private readonly context: ControllerContext) {
    this.podLister = context.informers.informerFor<Pod>('', 'v1', 'pods').lister();
    this.nodeLister = context.informers.informerFor<Node>('', 'v1', 'nodes').lister();
    this.pods = context.client.resource<Pod>('', 'v1', 'pods');
    this.nodes = context.client.resource<Node>('', 'v1', 'nodes');
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informers, clock, logger } = this.context;
    if (!(await informers.waitForCacheSync())) return;
    await repeatUntilAborted(clock, GC_CHECK_PERIOD_MS, signal, logger, 'podgc', () => this.gc());
  }

  private async gc(): Promise<void> {
    const pods = this.podLister.list();
    const threshold = this.context.options.terminatedPodGcThreshold;
    await this.deleteAll('terminated', terminatedPodsToDelete(pods, threshold));
    await this.deleteAll('terminating-out-of-service', terminatingOnOutOfServiceNodes(pods, (name) => this.nodeLister.get(name)));
    await this.gcOrphaned(pods);
    await this.deleteAll('terminating-unscheduled', unscheduledTerminating(pods));
  }

  private async gcOrphaned(pods: readonly Pod[]): Promise<void> {
    const due = quarantineMissingNodes(this.quarantine, pods, (name) => this.nodeLister.get(name) !== undefined, this.context.clock.now());
    const deleted = new Set<string>();
    for (const name of due) {
      try {
        await this.nodes.get(name);
      } catch (error) {
        if (isNotFound(error)) deleted.add(name);
        else this.context.logger.warn({ err: error, node: name }, 'could not check whether the node exists; next pass retries');
      }
    }
    if (deleted.size === 0) return;
    await this.deleteAll('orphaned', pods.filter((pod) => deleted.has(pod.spec?.nodeName ?? '')), ORPHAN_CONDITION);
  }

  private async deleteAll(reason: string, pods: readonly Pod[], condition?: Omit<PodCondition, 'lastTransitionTime'>): Promise<void> {
    if (pods.length === 0) return;
    this.context.logger.info({ reason, pods: pods.length }, 'garbage collecting pods');
    await forEachConcurrently(pods, DELETE_CONCURRENCY, async (pod) => {
      try {
        await this.markFailedAndDelete(pod, condition);
      } catch (error) {
        this.context.logger.warn({ err: error, reason, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod not garbage collected; next pass retries');
      }
    });
  }

  /** A pod that is not terminal is marked Failed first (no kubelet will), then force-deleted. */
  private async markFailedAndDelete(cached: Pod, condition: Omit<PodCondition, 'lastTransitionTime'> | undefined): Promise<void> {
    const namespace = cached.metadata?.namespace ?? '';
    const name = cached.metadata?.name ?? '';
    const uid = cached.metadata?.uid ?? '';
    const pods = this.pods.namespace(namespace);
    const key = `${namespace}/${name}`;
    const vanished = (): void => this.context.logger.info({ pod: key }, 'pod already gone or replaced; nothing to collect');
    let pod = cached;
    for (let attempt = 1; !isPodTerminal(pod); attempt++) {
      let status: PodStatus = { ...pod.status, phase: 'Failed' };
      if (condition !== undefined) status = withPodCondition(status, condition, this.context.clock.now()).status;
      try {
        await pods.updateStatus({ ...pod, status });
        break;
      } catch (error) {
        if (isNotFound(error)) return vanished();
        if (!isConflict(error) || attempt >= STATUS_ATTEMPTS) throw error;
      }
      try {
        pod = await pods.get(name);
      } catch (error) {
        if (isNotFound(error)) return vanished();
        throw error;
      }
      if (pod.metadata?.uid !== uid) return vanished(); // a new pod of the same name: not ours to collect
    }
    try {
      await pods.delete(name, { gracePeriodSeconds: 0, preconditions: { uid } });
      this.context.logger.info({ pod: key }, 'pod force-deleted by pod GC');
    } catch (error) {
      if (!isNotFound(error)) throw error;
      vanished();
    }
  }
}
