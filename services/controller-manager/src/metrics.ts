/**
 * kube-controller-manager's metrics under their upstream names, in a registry of this process's own:
 * `leader_election_master_status` (1 while this replica leads) and client-go's workqueue series
 * (`workqueue_depth`, `workqueue_adds_total`, `workqueue_retries_total`,
 * `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`, label `name` = the queue).
 */
import type { WorkqueueMetrics } from '@k8ts/client';
import { registerLeaderElectionMetric } from '@k8ts/service';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** client-go's buckets: 10 ns to 1000 s, ×10 (prometheus.ExponentialBuckets(10e-9, 10, 12)). */
const DURATION_BUCKETS_SECONDS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

export class ControllerManagerMetrics {
  readonly registry = new Registry();
  readonly workqueue: WorkqueueMetrics;
  private leading: () => boolean = () => false;

  constructor() {
    // Event-loop delay sampled once a second, not prom-client's every 10 ms: those 100 wake-ups a
    // second cost an idle process ~0.8% of a core. Its nodejs_eventloop_lag_* figures include the 1 s.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    const registers = [this.registry];
    registerLeaderElectionMetric(this.registry, 'kube-controller-manager', () => this.leading());
    const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    const queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    });
    const workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.workqueue = {
      added: (name) => adds.inc({ name }),
      depth: (name, value) => depth.set({ name }, value),
      retried: (name) => retries.inc({ name }),
      queueDuration: (name, seconds) => queueDuration.observe({ name }, seconds),
      workDuration: (name, seconds) => workDuration.observe({ name }, seconds),
    };
  }

  watchLeader(leading: () => boolean): void {
    this.leading = leading;
  }
}
