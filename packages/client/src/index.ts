/**
 * @k8ts/client: what every component uses to talk to the API servers, after client-go.
 * - `ApiClient` / `ResourceClient`: typed get, list, watch, create, update, updateStatus, patch,
 *   delete and bind over gRPC, failing over between API servers; errors as ApiError.
 * - `SharedInformer`, `SharedInformerFactory`: list+watch caches shared by event handlers.
 * - `Indexer`, `Lister`: the caches and read access to them, with custom indexes.
 * - `RateLimitingQueue`, rate limiters, `runWorker`: work queues for reconcile loops, with a
 *   `WorkqueueMetrics` hook for upstream's workqueue_* series.
 * - `LeaderElector`: leader election on coordination.k8s.io/v1 Leases.
 * - `EventRecorder`, `ApiEventRecorder`: core/v1 Events, bounded, rate limited and aggregated.
 */
export { ApiClient, type ApiClientOptions } from './api_client.js';
export {
  ResourceClient,
  type DeleteOptions,
  type Gvr,
  type KubeObject,
  type ListOptions,
  type ObjectList,
  type PatchOptions,
  type PatchType,
  type Watch,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
  type WriteOptions,
} from './resource_client.js';
export { ignoreNotFound, isAlreadyExists, isConflict, isExpired, isNotFound, isTransportFailure, toApiError } from './errors.js';
export { Indexer, Lister, NAMESPACE_INDEX, namespaceIndexFunc, objectKey, splitKey, type IndexFunc } from './indexer.js';
export { SharedInformer, type EventHandler, type SharedInformerOptions } from './shared_informer.js';
export { SharedInformerFactory, type InformerFactoryOptions, type InformerRequest } from './informer_factory.js';
export { RateLimitingQueue, runWorker, type RateLimitingQueueOptions, type WorkqueueMetrics } from './workqueue.js';
export {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './rate_limiter.js';
export { LeaderElector, type LeaderElectionCallbacks, type LeaderElectorOptions } from './leader_election.js';
export { ApiEventRecorder, EVENT_CACHE_LIMIT, EVENT_QUEUE_LIMIT, involvedObjectOf, type ApiEventRecorderOptions, type EventRecorder, type EventType } from './event_recorder.js';
