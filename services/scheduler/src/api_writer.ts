/**
 * The scheduler's writes through the components' gRPC API: bindings, the PodScheduled condition,
 * preemption's evictions, and Events. Events go through the client's ApiEventRecorder: bounded,
 * rate limited (kube-scheduler's client: 50/s, burst 100) and aggregated, so that a storm of
 * FailedScheduling never slows binding.
 */
import { formatTime } from '@k8ts/apimachinery';
import { ApiEventRecorder, isNotFound, type ApiClient, type ResourceClient } from '@k8ts/client';
import type { ClusterWriter } from '@k8ts/scheduler';
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';

export interface ApiWriterOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Scheduler name written as the events' source (kube: the profile's schedulerName). */
  readonly component: string;
  /** This replica, written as the events' reportingInstance. */
  readonly instance: string;
  /** Events sent per second at most, and the burst above it (kube-scheduler's client: 50 and 100). */
  readonly eventQps?: number;
  readonly eventBurst?: number;
}

export class ApiWriter implements ClusterWriter {
  private readonly pods: ResourceClient<Pod>;
  private readonly events: ApiEventRecorder;

  constructor(private readonly options: ApiWriterOptions) {
    this.pods = options.client.resource<Pod>('', 'v1', 'pods');
    this.events = new ApiEventRecorder({
      client: options.client,
      component: options.component,
      instance: options.instance,
      qps: options.eventQps ?? 50,
      burst: options.eventBurst ?? 100,
      logger: options.logger,
    });
  }

  /** Events dropped because the recorder's queue was full. */
  get droppedEvents(): number {
    return this.events.dropped;
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    await this.pods.namespace(namespaceOf(pod)).bind(nameOf(pod), nodeName);
  }

  async updatePodSchedulingStatus(pod: Pod, condition: PodCondition, nominatedNodeName?: string | null): Promise<void> {
    const current = pod.status?.conditions?.find((existing) => existing.type === condition.type);
    const sameCondition = current !== undefined && current.status === condition.status && current.reason === condition.reason && current.message === condition.message;
    const nominationChanges = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? null) !== (nominatedNodeName || null);
    if (sameCondition && !nominationChanges) return;
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominationChanges) status['nominatedNodeName'] = nominatedNodeName || null;
    await this.pods.namespace(namespaceOf(pod)).patch(nameOf(pod), 'strategic', { status }, { status: true });
  }

  async clearNominatedNodeName(pod: Pod): Promise<void> {
    await this.pods.namespace(namespaceOf(pod)).patch(nameOf(pod), 'merge', { status: { nominatedNodeName: null } }, { status: true });
  }

  async evictPod(victim: Pod, preemptor: Pod, nodeName: string): Promise<void> {
    const pods = this.pods.namespace(namespaceOf(victim));
    const condition: PodCondition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: `${this.options.component}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: formatTime(Date.now()),
    };
    try {
      await pods.patch(nameOf(victim), 'strategic', { status: { conditions: [condition] } }, { status: true });
      await pods.delete(nameOf(victim), { preconditions: { uid: victim.metadata?.uid ?? '' } });
    } catch (error) {
      // A victim already gone has made its room: as upstream, that is not a failure.
      if (!isNotFound(error)) throw error;
      return;
    }
    this.recordEvent(victim, 'Normal', 'Preempted', 'Preempting', `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${nodeName}`);
  }

  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void {
    // Informer objects may lack apiVersion and kind; the Event must still name a v1 Pod.
    this.events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, action);
  }
}

function namespaceOf(pod: Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

function nameOf(pod: Pod): string {
  return pod.metadata?.name ?? '';
}
