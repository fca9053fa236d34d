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
