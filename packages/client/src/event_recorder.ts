/**
 * Events as client-go's event broadcaster writes them (core/v1 Events), for every component.
 *
 * Contract:
 * - `event()` never blocks and never throws: events go into a bounded queue (1000) and are dropped
 *   when it is full (`dropped` counts them), so a storm of events never slows the caller's real work.
 * - Sending is rate limited by a token bucket (qps/burst; client-go's defaults 1/s burst 25 are for a
 *   whole process, kube-scheduler uses 50/100 — the caller chooses).
 * - Repeats of one event (same object uid, type, reason and message) update the count and
 *   lastTimestamp of the Event first written for it instead of creating another object, as
 *   client-go's aggregation does; the memory of written events is bounded (4096, oldest forgotten).
 * - A failed write is logged at debug and forgotten: events are best effort, as upstream.
 */
import { randomBytes } from 'node:crypto';
import { formatTime } from '@k8ts/apimachinery';
import { realClock, sleep, type Clock } from '@k8ts/base';
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { ApiClient } from './api_client.js';
import type { KubeObject, ResourceClient } from './resource_client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records an event about `object`; `action` is what the component did or failed to do. */
  event(object: KubeObject, type: EventType, reason: string, message: string, action?: string): void;
}

export interface ApiEventRecorderOptions {
  readonly client: ApiClient;
  /** Written as source.component and reportingComponent (kube: "default-scheduler", "deployment-controller"). */
  readonly component: string;
  /** This replica, written as reportingInstance. */
  readonly instance?: string;
  /** The node an agent's events come from, written as source.host (the kubelet's). */
  readonly host?: string;
  /** Events sent per second at most, and the burst above it. Default 50 and 100. */
  readonly qps?: number;
  readonly burst?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Events waiting to be sent at most; more are dropped (client-go's broadcaster queue holds 1000). */
export const EVENT_QUEUE_LIMIT = 1000;
/** Distinct events remembered for aggregation. */
export const EVENT_CACHE_LIMIT = 4096;

interface PendingEvent {
  readonly object: KubeObject;
  readonly type: EventType;
  readonly reason: string;
  readonly action: string | undefined;
  readonly message: string;
}

export class ApiEventRecorder implements EventRecorder {
  /** Events refused because the queue was full. */
  dropped = 0;
  private readonly events: ResourceClient<Event & KubeObject>;
  private readonly clock: Clock;
  private readonly queue: PendingEvent[] = [];
  /** Aggregation key → the event written for it (name, namespace, count). */
  private readonly written = new Map<string, { name: string; namespace: string; count: number }>();
  private tokens: number;
  private lastRefillMs: number;
  private sending: Promise<void> | undefined;

  constructor(private readonly options: ApiEventRecorderOptions) {
    this.events = options.client.resource<Event & KubeObject>('', 'v1', 'events');
    this.clock = options.clock ?? realClock;
    this.tokens = options.burst ?? 100;
    this.lastRefillMs = this.clock.now();
  }

  event(object: KubeObject, type: EventType, reason: string, message: string, action?: string): void {
    if (this.queue.length >= EVENT_QUEUE_LIMIT) {
      this.dropped++;
      return;
    }
    this.queue.push({ object, type, reason, action, message });
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  /** Resolves when every queued event has been sent or given up on (for tests and shutdown). */
  async flush(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      await this.takeToken();
      const event = next;
      await this.send(event).catch((error: unknown) => {
        this.options.logger?.debug({ err: error, reason: event.reason }, 'event not written');
      });
    }
  }

  private async takeToken(): Promise<void> {
    const qps = this.options.qps ?? 50;
    const burst = this.options.burst ?? 100;
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefillMs) / 1000) * qps);
      this.lastRefillMs = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(this.clock, Math.ceil(((1 - this.tokens) / qps) * 1000));
    }
  }

  private async send(event: PendingEvent): Promise<void> {
    const involved = involvedObjectOf(event.object);
    const namespace = involved.namespace || 'default';
    const key = [involved.uid ?? `${involved.kind}/${namespace}/${involved.name}`, event.type, event.reason, event.message].join('\u0000');
    const now = formatTime(this.clock.now());
    const seen = this.written.get(key);
    if (seen !== undefined) {
      seen.count++;
      await this.events.namespace(seen.namespace).patch(seen.name, 'merge', { count: seen.count, lastTimestamp: now });
      return;
    }
    const name = `${involved.name ?? 'event'}.${randomBytes(8).toString('hex')}`;
    const object: Event & KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      type: event.type,
      reason: event.reason,
      ...(event.action !== undefined ? { action: event.action } : {}),
      message: event.message,
      source: { component: this.options.component, ...(this.options.host !== undefined ? { host: this.options.host } : {}) },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance ?? '',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.events.namespace(namespace).create(object);
    if (this.written.size >= EVENT_CACHE_LIMIT) this.written.delete(this.written.keys().next().value as string);
    this.written.set(key, { name, namespace, count: 1 });
  }
}

/** The reference an Event names its object by (client-go's reference.GetReference). */
export function involvedObjectOf(object: KubeObject): ObjectReference {
  const metadata = object.metadata ?? {};
  return {
    ...(object.apiVersion !== undefined ? { apiVersion: object.apiVersion } : {}),
    ...(object.kind !== undefined ? { kind: object.kind } : {}),
    ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
    ...(metadata.name !== undefined ? { name: metadata.name } : {}),
    ...(metadata.uid !== undefined ? { uid: metadata.uid } : {}),
    ...(metadata.resourceVersion !== undefined ? { resourceVersion: metadata.resourceVersion } : {}),
  };
}
