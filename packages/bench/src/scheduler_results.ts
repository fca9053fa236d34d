import type { TargetCheck } from './apiserver_results.js';
import type { AnomalyReport, MachineConditions } from './results.js';
import type { WorkloadName } from './scheduler_options.js';
import type { SchedulerMetricSummary } from './scheduler_metrics.js';
import type { ThroughputFigures } from './scheduler_measure.js';
import type { LatencySummary } from './stats.js';

export type { TargetCheck } from './apiserver_results.js';

/** CPU during measurement, % of one core over its wall time (Linux /proc; absent fields are unknown). */
export interface SchedulerCpuUse {
  readonly loadGeneratorPercent: number;
  readonly schedulerPercent?: number;
  readonly apiserverPercent?: number;
  readonly storeMembersPercent?: number;
  /** The machine (all cores; 200% is a busy 2-core machine). */
  readonly machinePercent?: number;
  /** The machine less all of the above. */
  readonly otherProcessesPercent?: number;
}

/** One unmeasured setup step: creating nodes, pods, or Preemption's fill pods (created, then bound). */
export interface SetupPhase {
  readonly name: 'nodes' | 'pods' | 'fill pods' | 'fill bindings';
  readonly requested: number;
  readonly completed: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly perSecond: number;
  /** Each create's (or bind's) latency through the gRPC API. */
  readonly latency: LatencySummary;
}

export interface SchedulerConditions extends MachineConditions {
  readonly workload: WorkloadName;
  readonly workloadDescription: string;
  readonly nodes: number;
  readonly measuredPods: number;
  readonly fillPods: number;
  readonly zones: number;
  readonly node: { readonly cpu: string; readonly memory: string; readonly pods: number };
  readonly podRequests: string;
  readonly concurrency: number;
  readonly timeoutSeconds: number;
  readonly store: string;
  readonly versions: Readonly<Record<string, string>>;
  /** The scheduler's command-line flags as this run passed them. */
  readonly schedulerArgs: readonly string[];
  readonly writesDuringMeasurement: string;
}

export interface SchedulerTargetDescription {
  /** The apiserver's HTTP URL and gRPC address. */
  readonly server: string;
  readonly grpc: string;
  readonly startedWith?: string;
  readonly storeEndpoints?: readonly string[];
  readonly dataDirFilesystem?: string;
  readonly namespace: string;
  readonly schedulerHealthUrl?: string;
}

export interface FailedSchedulingEvents {
  /** Event objects with reason FailedScheduling in the run's namespace. */
  readonly events: number;
  /** Their occurrences (an Event's count, or its series' count). */
  readonly occurrences: number;
  /** A few distinct messages. */
  readonly messages: readonly string[];
}

export interface SchedulingMeasurement {
  readonly measuredPods: number;
  readonly bound: number;
  readonly unbound: number;
  /** Spawn → the scheduler's /healthz answering 200: measurement starts there. */
  readonly schedulerStartMs: number;
  /** Measured pods seen bound before /healthz answered (they count as bound at 0 ms). */
  readonly boundBeforeReady: number;
  /** Measurement start → last bind seen, or → the timeout. */
  readonly elapsedMs: number;
  readonly stoppedBy: 'all bound' | 'timeout' | 'failure';
  readonly throughput: ThroughputFigures;
  /** Measurement start → bind seen by this bench's watch, per measured pod. */
  readonly latency: LatencySummary;
  readonly schedulerMetrics: readonly SchedulerMetricSummary[];
  /** Why the scheduler's metrics are missing, when they are. */
  readonly schedulerMetricsNote?: string;
  readonly failedScheduling: FailedSchedulingEvents;
  /** Preemption: fill pods deleted during measurement (the victims). */
  readonly victimsDeleted?: number;
  readonly cpu?: SchedulerCpuUse;
}

export interface SchedulerChecks {
  /** Pods bound twice, moved, unbound again; measured pods deleted; pods on unknown nodes. */
  readonly bindings: AnomalyReport;
  readonly capacity: AnomalyReport;
  readonly placement: AnomalyReport;
  readonly placementSummary?: string;
  readonly unbound: number;
}

export interface SchedulerBenchReport {
  readonly conditions: SchedulerConditions;
  readonly target: SchedulerTargetDescription;
  readonly setup: readonly SetupPhase[];
  /** Absent when the run failed before the scheduler started. */
  readonly measurement?: SchedulingMeasurement;
  readonly checks?: SchedulerChecks;
  readonly targets: readonly TargetCheck[];
  /** What went wrong: with the run, the processes, or the scheduler's results. */
  readonly problems: readonly string[];
  readonly logWarnings?: Readonly<Record<string, readonly string[]>>;
}

/** Exit status 1: a problem (incorrect scheduling, a failed create, a process in trouble). Targets never count. */
export function hasSchedulerTrouble(report: SchedulerBenchReport): boolean {
  return report.problems.length > 0 || report.setup.some((phase) => phase.failed > 0);
}
