/**
 * @k8ts/scheduler: kube-scheduler's logic with no processes.
 * - `framework`: extension-point interfaces, Status, CycleState, NodeInfo and resource sums.
 * - `runtime`: profiles, the Framework that runs a profile's plugins, and schedulePod.
 * - `plugins`: the in-tree plugins (NodeResourcesFit, TaintToleration, InterPodAffinity, …).
 * - `queue`, `cache`: the scheduling queue and the cache of nodes with assumed pods.
 * - `scheduler`: the Scheduler that ties them to informer events and a ClusterWriter, and the
 *   KubeSchedulerConfiguration parser.
 */
export * from './framework/index.js';
export * from './runtime/index.js';
export * from './queue/index.js';
export * from './cache/index.js';
export * from './scheduler/index.js';

// The Filter plugins' checks the kubelet's admission runs too (upstream's predicate admit handler
// calls noderesources.Fits, nodeaffinity, nodename, nodeports and the taint helpers).
export { insufficientResources, isExtendedResourceName, type IgnoredResources, type InsufficientResource } from './plugins/node_resources/fits.js';
export { podMatchesNodeSelectorAndAffinity } from './plugins/node_affinity/node_selector.js';
export { ERR_REASON_POD as NODE_AFFINITY_ERR_REASON } from './plugins/node_affinity/index.js';
export { fitsNodeName, ERR_REASON as NODE_NAME_ERR_REASON } from './plugins/node_name/index.js';
export { hostPortConflicts, ERR_REASON as NODE_PORTS_ERR_REASON } from './plugins/node_ports/index.js';
export { findUntoleratedTaint } from './plugins/taint_toleration/index.js';
