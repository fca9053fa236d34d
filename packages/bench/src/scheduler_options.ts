/**
 * What `k8ts bench scheduler` does, after kube-scheduler's scheduler_perf. The defaults are the
 * issue's shape — SchedulingBasic with 5,000 nodes and 10,000 pods — and scheduler_perf's node
 * (node-default.yaml: cpu 4, memory 32Gi, pods 110). Every count is a flag.
 */
import { parseCpuMillis, parseMemoryBytes } from './scheduler_quantity.js';

export const WORKLOAD_NAMES = ['SchedulingBasic', 'SchedulingPodAntiAffinity', 'TopologySpreading', 'Preemption'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface SchedulerBenchOptions {
  readonly workload: WorkloadName;
  readonly nodes: number;
  /** The measured pods (Preemption's fill pods come on top of these). */
  readonly pods: number;
  /** Zones the nodes are spread over round robin (`zone-0`…). */
  readonly zones: number;
  /** Each node's capacity and allocatable, as quantities ("4", "32Gi") and a pod count. */
  readonly nodeCpu: string;
  readonly nodeMemory: string;
  readonly nodePods: number;
  /** Creates (nodes, pods) in flight at once. */
  readonly concurrency: number;
  /** Seconds measurement waits for every measured pod to be bound. */
  readonly timeoutSeconds: number;
  /** A KubeSchedulerConfiguration file handed to the scheduler's --config, when given. */
  readonly schedulerConfig?: string;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerBenchOptions = {
  workload: 'SchedulingBasic',
  nodes: 5000,
  pods: 10_000,
  zones: 10,
  nodeCpu: '4',
  nodeMemory: '32Gi',
  nodePods: 110,
  concurrency: 64,
  timeoutSeconds: 600,
};

/** The target, printed beside the figures; it never changes the exit status. */
export const SCHEDULER_TARGET = {
  workload: 'SchedulingBasic' as WorkloadName,
  nodes: 5000,
  pods: 10_000,
  podsPerSecond: 1000,
  /** scheduler_perf's threshold for SchedulingBasic/5000Nodes_10000Pods (misc/performance-config.yaml). */
  upstreamFloorPodsPerSecond: 680,
} as const;

/** Nodes and pods one run may create. */
export const MAX_NODES = 100_000;
export const MAX_PODS = 1_000_000;

/** Throws with the flag's name when an option is out of range. */
export function checkSchedulerOptions(options: SchedulerBenchOptions): void {
  const counts: [string, number, number, number][] = [
    ['--nodes', options.nodes, 1, MAX_NODES],
    ['--pods', options.pods, 1, MAX_PODS],
    ['--zones', options.zones, 1, 1000],
    ['--node-pods', options.nodePods, 1, 100_000],
    ['--concurrency', options.concurrency, 1, 10_000],
    ['--timeout', options.timeoutSeconds, 1, 86_400],
  ];
  for (const [flag, value, minimum, maximum] of counts) {
    if (!Number.isInteger(value) || value < minimum || value > maximum) {
      throw new RangeError(`${flag} ${value} must be an integer from ${minimum} to ${maximum}`);
    }
  }
  if (!(WORKLOAD_NAMES as readonly string[]).includes(options.workload)) {
    throw new RangeError(`unknown workload ${options.workload} (workloads: ${WORKLOAD_NAMES.join(', ')})`);
  }
  for (const [flag, value, parse] of [
    ['--node-cpu', options.nodeCpu, parseCpuMillis],
    ['--node-memory', options.nodeMemory, parseMemoryBytes],
  ] as const) {
    let parsed: number;
    try {
      parsed = parse(value);
    } catch (error) {
      throw new RangeError(`${flag} ${value}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!(parsed > 0)) throw new RangeError(`${flag} ${value} must be more than 0`);
  }
}
