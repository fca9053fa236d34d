/**
 * What the kubelet tells the node agent's /metrics that the runtime alone cannot (the agent counts
 * runtime operations, started pods and containers itself by instrumenting the runtime). Optional for
 * the kubelet: a missing sink records nothing.
 */
export interface KubeletMetricsSink {
  /** kubelet_pod_start_duration_seconds: first seen by the kubelet → every container running. */
  podStarted(seconds: number): void;
  /** kubelet_pod_worker_duration_seconds{operation_type}: one sync of one pod. */
  podWorkerDuration(operation: 'create' | 'update' | 'sync', seconds: number): void;
  /** kubelet_pleg_relist_duration_seconds: one relist of the runtime's containers. */
  relistDuration(seconds: number): void;
}
