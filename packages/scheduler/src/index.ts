/**
 * @k8ts/scheduler: kube-scheduler's logic with no processes.
 * - `framework`: extension-point interfaces, Status, CycleState, NodeInfo and resource sums.
 */
export * from './framework/index.js';
