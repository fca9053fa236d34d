/**
 * The Endpoints controller (upstream pkg/controller/endpoint): keeps, for every Service with a
 * selector, an Endpoints object of the same name listing the pods the selector picks — ready pods
 * under `addresses`, the others under `notReadyAddresses` (all ready with publishNotReadyAddresses;
 * terminating pods left out unless it is set).
 *
 * - Services without a selector (and ExternalName Services) are left alone: their Endpoints are the
 *   user's. The Endpoints of a Service that is gone is deleted — also one whose Service was deleted
 *   while no controller ran: every Endpoints of the first list is checked once, as upstream's
 *   checkLeftoverEndpoints does.
 * - An Endpoints object edited behind the controller's back is put right at its next sync; an
 *   update event on it triggers that sync when its Service has a selector (upstream only reacts to
 *   deletes and waits for the next pod or Service change).
 * - Writes are conditional on the cached resourceVersion: a lagging cache gets Conflict (or
 *   AlreadyExists) and the key is retried. After an update the old resourceVersion is remembered,
 *   so a sync that still reads it from the cache waits instead of acting on it (upstream's stale
 *   endpoints tracker).
 */
import type { EventRecorder, Lister, RateLimitingQueue, SharedInformer } from '@k8ts/client';
import { ignoreNotFound, splitKey } from '@k8ts/client';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { planEndpoints } from './endpoints_object.js';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import { enqueueServicesOnChange } from '../framework/endpoint_handlers.js';
import { podsSelectedBy, serviceKey, serviceSelector } from '../framework/endpoint_rules.js';
import { TriggerTimeTracker } from '../framework/endpoint_trigger_time.js';

/** Leader-election records kept in Endpoints (old clients) have no Service and must not be deleted. */
const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export class EndpointController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Service key → the resourceVersion an update of ours replaced: seen again in the cache, the cache lags. */
  private readonly staleVersions = new Map<string, string>();

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.queue = context.newQueue('endpoint');
    this.recorder = context.recorder('endpoint-controller');
    this.logger = context.logger.child({ controller: 'endpoint' });
    const services = context.informers.informerFor<Service>('', 'v1', 'services');
    const pods = context.informers.informerFor<Pod>('', 'v1', 'pods');
    const endpoints = context.informers.informerFor<Endpoints>('', 'v1', 'endpoints');
    this.services = services.lister();
    this.pods = pods.lister();
    this.endpoints = endpoints.lister();
    enqueueServicesOnChange(this.queue, services, pods);
    this.watchEndpoints(endpoints);
  }

  async run(signal: AbortSignal): Promise<void> {
    await runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  private watchEndpoints(informer: SharedInformer<Endpoints>): void {
    informer.addEventHandler({
      // The first list: Endpoints whose Service went away while no controller ran get deleted.
      onAdd: (endpoints, isInInitialList) => {
        if (isInInitialList && endpoints.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] === undefined) this.queue.add(serviceKey(endpoints));
      },
      onUpdate: (_, endpoints) => {
        const service = this.services.get(endpoints.metadata?.name ?? '', endpoints.metadata?.namespace);
        if (service !== undefined && serviceSelector(service) !== undefined) this.queue.add(serviceKey(endpoints));
      },
      onDelete: (endpoints) => void this.queue.add(serviceKey(endpoints)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const service = this.services.get(name, namespace);
    if (service === undefined) return this.deleteEndpoints(key, namespace, name);
    if (service.spec?.type === 'ExternalName' || serviceSelector(service) === undefined) return;
    const current = this.endpoints.get(name, namespace);
    if (current !== undefined && current.metadata?.resourceVersion === this.staleVersions.get(key)) {
      throw new Error(`endpoints informer cache is out of date: resourceVersion ${current.metadata?.resourceVersion ?? ''} already replaced for ${key}`);
    }
    const pods = podsSelectedBy(service, this.pods.namespace(namespace).list());
    // Recorded on every sync that succeeds, so the tracker's memory stays current even when nothing is written.
    const triggerTime = this.triggerTimes.compute(service, pods);
    const desired = planEndpoints(service, current, pods, triggerTime.timeMs);
    if (desired !== undefined) await this.write(key, desired, current);
    triggerTime.record();
  }

  private async write(key: string, desired: Endpoints, current: Endpoints | undefined): Promise<void> {
    const client = this.context.client.resource<Endpoints>('', 'v1', 'endpoints').namespace(desired.metadata?.namespace ?? '');
    try {
      if (current === undefined) {
        await client.create(desired);
        return;
      }
      const updated = await client.update(desired);
      if (updated.metadata?.resourceVersion !== current.metadata?.resourceVersion) this.staleVersions.set(key, current.metadata?.resourceVersion ?? '');
    } catch (error) {
      // Creating in a namespace being deleted keeps failing: drop the key.
      if (current === undefined && isNamespaceTerminating(error)) return;
      const message = (error as Error).message;
      if (current === undefined) this.recorder.event(desired, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${key}: ${message}`);
      else this.recorder.event(desired, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${message}`);
      throw error;
    }
  }

  /** The Service is gone: its Endpoints goes too (as upstream, whoever wrote it). */
  private async deleteEndpoints(key: string, namespace: string, name: string): Promise<void> {
    this.triggerTimes.deleteService(namespace, name);
    this.staleVersions.delete(key);
    const current = this.endpoints.get(name, namespace);
    if (current?.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] !== undefined) return;
    await ignoreNotFound(this.context.client.resource<Endpoints>('', 'v1', 'endpoints').namespace(namespace).delete(name));
  }
}
