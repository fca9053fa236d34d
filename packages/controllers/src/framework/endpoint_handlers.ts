/**
 * The informer handlers the Endpoints and EndpointSlice controllers share (upstream gives each
 * controller its own copy of the same rules): both sync a Service by its `namespace/name` key, and
 * a pod change concerns the Services of its namespace that select it (endpoint_rules.ts decides).
 */
import type { RateLimitingQueue, SharedInformer } from '@k8ts/client';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { serviceKey, servicesMatching, servicesToSyncOnPodUpdate } from './endpoint_rules.js';

/**
 * Enqueues a Service's key on each of its events, and on pod events the keys of the Services they
 * concern: for an added or deleted pod those selecting it, for an updated one those it joined, left
 * or changed in. Returns the pod-to-Services enqueue, for other events that touch a pod's endpoint.
 */
export function enqueueServicesOnChange(queue: RateLimitingQueue<string>, services: SharedInformer<Service>, pods: SharedInformer<Pod>): (pod: Pod) => void {
  const serviceLister = services.lister();
  const servicesOf = (pod: Pod): Service[] => serviceLister.namespace(pod.metadata?.namespace ?? '').list();
  const enqueueService = (service: Service): void => void queue.add(serviceKey(service));
  services.addEventHandler({ onAdd: enqueueService, onUpdate: (_, service) => enqueueService(service), onDelete: enqueueService });
  const enqueueSelecting = (pod: Pod): void => {
    for (const key of servicesMatching(servicesOf(pod), pod.metadata?.labels)) queue.add(key);
  };
  pods.addEventHandler({
    onAdd: enqueueSelecting,
    onUpdate: (oldPod, newPod) => {
      for (const key of servicesToSyncOnPodUpdate(servicesOf(newPod), oldPod, newPod)) queue.add(key);
    },
    onDelete: enqueueSelecting,
  });
  return enqueueSelecting;
}
