export * from './heap.js';
export * from './backoff.js';
export * from './events.js';
export * from './nominator.js';
export * from './pod_updated.js';
export * from './queued_pod_info.js';
export * from './scheduling_queue.js';
