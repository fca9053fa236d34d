/**
 * The EndpointSlice controller (upstream pkg/controller/endpointslice): keeps the
 * discovery.k8s.io/v1 EndpointSlices of every Service with a selector, labelled
 * `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io`, owned by the Service (controller, blockOwnerDeletion). The
 * decision is planSlices (reconcile.ts); this file feeds it from the caches and writes the plan.
 *
 * - Services without a selector, and ExternalName Services, are left alone.
 * - The slices of a Service that is gone are deleted here (the garbage collector would delete them
 *   through their ownerReference too); slices in the first list whose Service is gone are found by
 *   syncing every Service the managed slices name, once.
 * - A cache that lags behind this controller's own writes is detected by the tracker and the sync
 *   retried (upstream's StaleInformerCache); a slice changed or deleted by someone else triggers a
 *   sync; writes are conditional on resourceVersion.
 * - A pod whose Node is not in the cache yet is left out and the Service retried, as upstream; Node
 *   additions and zone changes re-sync the Services of the pods on that Node.
 */
import type { EventRecorder, Lister, RateLimitingQueue, SharedInformer } from '@k8ts/client';
import { isNotFound, splitKey } from '@k8ts/client';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import { enqueueServicesOnChange } from '../framework/endpoint_handlers.js';
import { podsSelectedBy, serviceSelector } from '../framework/endpoint_rules.js';
import { POD_NODE_NAME_INDEX, podNodeNameIndex } from '../framework/pods_by_node.js';
import { TriggerTimeTracker } from '../framework/endpoint_trigger_time.js';
import { planSlices, type SlicePlan } from './reconcile.js';
import { LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE, MAX_ENDPOINTS_PER_SLICE, managedByController } from './slice_rules.js';
import { EndpointSliceTracker } from './tracker.js';

/** Managed slices by the key of the Service they belong to. */
const SLICES_BY_SERVICE = 'endpointslice-controller/service';

export class EndpointSliceController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;
  private readonly tracker = new EndpointSliceTracker();
  private readonly triggerTimes = new TriggerTimeTracker();

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
    private readonly maxEndpointsPerSlice = MAX_ENDPOINTS_PER_SLICE,
  ) {
    this.queue = context.newQueue('endpoint_slice');
    this.recorder = context.recorder('endpoint-slice-controller');
    this.logger = context.logger.child({ controller: 'endpointslice' });
    const services = context.informers.informerFor<Service>('', 'v1', 'services');
    const pods = context.informers.informerFor<Pod>('', 'v1', 'pods', { indexers: { [POD_NODE_NAME_INDEX]: podNodeNameIndex } });
    const nodes = context.informers.informerFor<Node>('', 'v1', 'nodes');
    const slices = context.informers.informerFor<EndpointSlice>('discovery.k8s.io', 'v1', 'endpointslices', {
      indexers: { [SLICES_BY_SERVICE]: (slice) => (managedByController(slice) ? [serviceKeyOf(slice)] : []) },
    });
    this.services = services.lister();
    this.pods = pods.lister();
    this.nodes = nodes.lister();
    this.slices = slices.lister();
    const enqueueServicesOf = enqueueServicesOnChange(this.queue, services, pods);
    this.watchNodes(nodes, enqueueServicesOf);
    this.watchSlices(slices);
  }

  async run(signal: AbortSignal): Promise<void> {
    await runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  /** A Node that appears, or whose zone changes, changes the endpoints of the pods on it. */
  private watchNodes(informer: SharedInformer<Node>, enqueueServicesOf: (pod: Pod) => void): void {
    const enqueuePodsOn = (node: Node): void => {
      for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, node.metadata?.name ?? '')) enqueueServicesOf(pod);
    };
    informer.addEventHandler({
      onAdd: (node, isInInitialList) => {
        if (!isInInitialList) enqueuePodsOn(node);
      },
      onUpdate: (oldNode, newNode) => {
        if (oldNode.metadata?.labels?.[LABEL_TOPOLOGY_ZONE] !== newNode.metadata?.labels?.[LABEL_TOPOLOGY_ZONE]) enqueuePodsOn(newNode);
      },
    });
  }

  private watchSlices(informer: SharedInformer<EndpointSlice>): void {
    informer.addEventHandler({
      // Every managed slice of the first list names a Service to check (it may be gone).
      onAdd: (slice, isInInitialList) => {
        if (managedByController(slice) && (isInInitialList || this.tracker.shouldSync(serviceKeyOf(slice), slice))) this.queue.add(serviceKeyOf(slice));
      },
      onUpdate: (oldSlice, slice) => {
        if (managedByController(oldSlice) !== managedByController(slice)) this.queue.add(serviceKeyOf(slice));
        else if (managedByController(slice) && this.tracker.shouldSync(serviceKeyOf(slice), slice)) this.queue.add(serviceKeyOf(slice));
        if (oldSlice.metadata?.labels?.[LABEL_SERVICE_NAME] !== slice.metadata?.labels?.[LABEL_SERVICE_NAME] && managedByController(oldSlice)) this.queue.add(serviceKeyOf(oldSlice));
      },
      onDelete: (slice) => {
        if (!managedByController(slice)) return;
        // Our own deletes are expected; anyone else's means the Service needs its slice back.
        if (!this.tracker.handleDeletion(serviceKeyOf(slice), slice)) this.queue.add(serviceKeyOf(slice));
      },
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const service = this.services.get(name, namespace);
    const cached = this.slices.byIndex(SLICES_BY_SERVICE, key).filter((slice) => slice.metadata?.deletionTimestamp === undefined);
    if (service === undefined) return this.deleteSlicesOfGoneService(key, cached);
    if (service.spec?.type === 'ExternalName' || serviceSelector(service) === undefined) return;
    if (this.tracker.staleSlices(key, cached)) throw new Error(`EndpointSlice informer cache is out of date for service ${key}`);
    const pods = podsSelectedBy(service, this.pods.namespace(namespace).list());
    const triggerTime = this.triggerTimes.compute(service, pods);
    const plan = planSlices({
      service,
      pods,
      nodeNamed: (nodeName) => this.nodes.get(nodeName),
      existing: cached,
      maxEndpointsPerSlice: this.maxEndpointsPerSlice,
      triggerTimeMs: triggerTime.timeMs,
    });
    try {
      await this.write(key, service, plan);
    } catch (error) {
      this.recorder.event(service, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${(error as Error).message}`);
      throw error;
    }
    triggerTime.record();
    if (plan.podsWithoutNode.length > 0) {
      throw new Error(`skipping pods ${plan.podsWithoutNode.join(', ')} of service ${key}: their nodes are not known (yet)`);
    }
  }

  private async write(key: string, service: Service, plan: SlicePlan): Promise<void> {
    const client = this.context.client.resource<EndpointSlice>('discovery.k8s.io', 'v1', 'endpointslices').namespace(service.metadata?.namespace ?? '');
    // No new slices for a Service being deleted: the garbage collector would race them.
    if (service.metadata?.deletionTimestamp === undefined) {
      for (const slice of plan.create) {
        try {
          this.tracker.update(key, await client.create(slice));
        } catch (error) {
          if (isNamespaceTerminating(error)) return;
          throw new Error(`failed to create EndpointSlice for Service ${key}: ${(error as Error).message}`);
        }
      }
    }
    for (const slice of plan.update) {
      try {
        this.tracker.update(key, await client.update(slice));
      } catch (error) {
        throw new Error(`failed to update ${slice.metadata?.name ?? ''} EndpointSlice for Service ${key}: ${(error as Error).message}`);
      }
    }
    for (const slice of plan.delete) await this.deleteSlice(key, slice);
  }

  private async deleteSlice(key: string, slice: EndpointSlice): Promise<void> {
    const client = this.context.client.resource<EndpointSlice>('discovery.k8s.io', 'v1', 'endpointslices').namespace(slice.metadata?.namespace ?? '');
    try {
      await client.delete(slice.metadata?.name ?? '', { preconditions: { uid: slice.metadata?.uid ?? '' } });
      this.tracker.expectDeletion(key, slice);
    } catch (error) {
      if (isNotFound(error)) return;
      throw new Error(`failed to delete ${slice.metadata?.name ?? ''} EndpointSlice for Service ${key}: ${(error as Error).message}`);
    }
  }

  /** The Service is gone (its uid too): its managed slices go with it. */
  private async deleteSlicesOfGoneService(key: string, cached: readonly EndpointSlice[]): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    this.triggerTimes.deleteService(namespace, name);
    for (const slice of cached) await this.deleteSlice(key, slice);
    if (cached.length === 0) this.tracker.deleteService(key);
  }
}

function serviceKeyOf(slice: EndpointSlice): string {
  return `${slice.metadata?.namespace ?? ''}/${slice.metadata?.labels?.[LABEL_SERVICE_NAME] ?? ''}`;
}
