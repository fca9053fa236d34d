/**
 * node/: the kubelet's side of its Node — registration, capacity and allocatable, labels and
 * taints, status and conditions, the Lease heartbeat, and pod admission. Pure builders
 * (resources, labels, node_status, admission) are shared with the simulated fleet; the reporter and
 * lease renewer serve one node or many.
 */
export * from './resources.js';
export * from './labels.js';
export * from './node_status.js';
export * from './admission.js';
export * from './lease.js';
export * from './registration.js';
export * from './status_reporter.js';
export * from './host.js';
export * from './version.js';
export * from './host_node.js';
export type { KubeletMetricsSink } from './metrics_sink.js';
