/**
 * kube-scheduler's metrics under their upstream names, fed by the scheduler's observer callbacks.
 * Each process has its own registry (no globals), rendered at /metrics.
 */
import type { PendingPodCounts, SchedulerObserver } from '@k8ts/scheduler';
import { registerLeaderElectionMetric } from '@k8ts/service';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Upstream's buckets: an attempt from 1 ms doubling to ~16 s; a pod's whole wait from 10 ms to ~87 min. */
const ATTEMPT_BUCKETS_SECONDS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
const SLI_BUCKETS_SECONDS = Array.from({ length: 20 }, (_, i) => 0.01 * 2 ** i);

export class SchedulerMetrics implements SchedulerObserver {
  /** Rendered at /metrics. */
  readonly registry = new Registry();
  private readonly attempts = new Counter({
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result.',
    labelNames: ['result', 'profile'],
    registers: [this.registry],
  });
  private readonly attemptDuration = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    labelNames: ['result', 'profile'],
    buckets: ATTEMPT_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  private readonly sliDuration = new Histogram({
    name: 'scheduler_pod_scheduling_sli_duration_seconds',
    help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
    labelNames: ['attempts'],
    buckets: SLI_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  private readonly preemptionVictims = new Histogram({
    name: 'scheduler_preemption_victims',
    help: 'Number of selected preemption victims',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  private pendingCounts: (() => PendingPodCounts) | undefined;
  private readonly pending = new Gauge({
    name: 'scheduler_pending_pods',
    help: 'Number of pending pods, by the queue type.',
    labelNames: ['queue'],
    registers: [this.registry],
    // Read from the queue whenever /metrics is scraped.
    collect: () => {
      const now = this.pendingCounts?.();
      if (now === undefined) return;
      this.pending.set({ queue: 'active' }, now.active);
      this.pending.set({ queue: 'backoff' }, now.backoff);
      this.pending.set({ queue: 'unschedulable' }, now.unschedulable);
    },
  });

  private leading: () => boolean = () => false;

  constructor() {
    // Event-loop delay sampled once a second, not prom-client's every 10 ms: those 100 wake-ups a
    // second cost an idle process ~0.8% of a core. Its nodejs_eventloop_lag_* figures include the 1 s.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    registerLeaderElectionMetric(this.registry, 'kube-scheduler', () => this.leading());
  }

  schedulingAttempt(result: 'scheduled' | 'unschedulable' | 'error', profile: string, durationMs: number): void {
    this.attempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, durationMs / 1000);
  }

  podScheduled(attempts: number, sinceFirstAttemptMs: number): void {
    this.sliDuration.observe({ attempts: String(Math.min(attempts, 15)) }, sinceFirstAttemptMs / 1000);
  }

  preempted(victims: number): void {
    this.preemptionVictims.observe(victims);
  }

  /** Where scheduler_pending_pods reads the queue's counts. */
  watchQueue(counts: () => PendingPodCounts): void {
    this.pendingCounts = counts;
  }

  /** Where leader_election_master_status reads whether this replica leads. */
  watchLeader(leading: () => boolean): void {
    this.leading = leading;
  }
}
