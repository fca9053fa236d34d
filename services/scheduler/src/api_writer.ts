/**
 * The scheduler's writes through the components' gRPC API: bindings, the PodScheduled condition,
 * preemption's evictions, and Events. Events go through a bounded, rate-limited queue and are dropped
 * when it is full — as client-go's event broadcaster drops them — so that a storm of
 * FailedScheduling never slows binding. Repeats of one event (same pod, reason and message) update
 * its count instead of creating another object, as client-go's event aggregation does.
 */
import { randomBytes } from 'node:crypto';
import { isNotFound, type ApiClient, type ResourceClient } from '@k8ts/client';
import type { ClusterWriter } from '@k8ts/scheduler';
import type { Event, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
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

/** Events waiting to be sent at most; more are dropped (client-go's broadcaster queue holds 1000). */
const EVENT_QUEUE_LIMIT = 1000;
/** Distinct events remembered for aggregation. */
const EVENT_CACHE_LIMIT = 4096;

interface PendingEvent {
  readonly pod: Pod;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly action: string;
  readonly message: string;
}

export class ApiWriter implements ClusterWriter {
  private readonly pods: ResourceClient<Pod>;
  private readonly events: ResourceClient<Event>;
  private readonly queue: PendingEvent[] = [];
  /** Aggregation key → the event written for it (name, namespace, count). */
  private readonly written = new Map<string, { name: string; namespace: string; count: number }>();
  private tokens: number;
  private lastRefillMs = Date.now();
  private sending = false;
  droppedEvents = 0;

  constructor(private readonly options: ApiWriterOptions) {
    this.pods = options.client.resource<Pod>('', 'v1', 'pods');
    this.events = options.client.resource<Event>('', 'v1', 'events');
    this.tokens = options.eventBurst ?? 100;
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
      lastTransitionTime: new Date().toISOString(),
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
    if (this.queue.length >= EVENT_QUEUE_LIMIT) {
      this.droppedEvents++;
      return;
    }
    this.queue.push({ pod, type, reason, action, message });
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        await this.takeToken();
        await this.send(next).catch((error: unknown) => {
          this.options.logger.debug({ err: error, reason: next?.reason }, 'event not written');
        });
      }
    } finally {
      this.sending = false;
    }
  }

  private async takeToken(): Promise<void> {
    const qps = this.options.eventQps ?? 50;
    const burst = this.options.eventBurst ?? 100;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefillMs) / 1000) * qps);
      this.lastRefillMs = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((done) => setTimeout(done, Math.ceil(((1 - this.tokens) / qps) * 1000)));
    }
  }

  private async send(event: PendingEvent): Promise<void> {
    const { pod } = event;
    const namespace = namespaceOf(pod);
    const key = `${pod.metadata?.uid ?? ''}\u0000${event.reason}\u0000${event.message}`;
    const now = new Date().toISOString();
    const seen = this.written.get(key);
    if (seen !== undefined) {
      seen.count++;
      await this.events.namespace(seen.namespace).patch(seen.name, 'merge', { count: seen.count, lastTimestamp: now });
      return;
    }
    const name = `${nameOf(pod)}.${randomBytes(8).toString('hex')}`;
    const object: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: nameOf(pod), ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
      type: event.type,
      reason: event.reason,
      action: event.action,
      message: event.message,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.events.namespace(namespace).create(object);
    if (this.written.size >= EVENT_CACHE_LIMIT) this.written.delete(this.written.keys().next().value as string);
    this.written.set(key, { name, namespace, count: 1 });
  }
}

function namespaceOf(pod: Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

function nameOf(pod: Pod): string {
  return pod.metadata?.name ?? '';
}
