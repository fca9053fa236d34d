/**
 * The load balancer's /metrics: connections (from TcpProxy's counters, read at each scrape) and
 * each backend's health (from the pool's checks). Each process has its own registry.
 */
import { formatBackend, type BackendHealth, type CheckResult, type TcpProxyCounters } from '@k8ts/l4proxy';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

const ZERO_COUNTERS: TcpProxyCounters = { active: 0, accepted: 0, refused: 0, failed: 0, retries: 0 };

export class ApiLbMetrics {
  /** Rendered at /metrics. */
  readonly registry = new Registry();
  private counters: () => TcpProxyCounters | undefined = () => undefined;
  private readonly backendUp = new Gauge({
    name: 'k8ts_api_lb_backend_up',
    help: 'Whether the backend passes its health checks (1) or is out of the pool (0).',
    labelNames: ['backend'],
    registers: [this.registry],
  });
  private readonly checks = new Counter({
    name: 'k8ts_api_lb_health_checks_total',
    help: 'Health checks of each backend, by result.',
    labelNames: ['backend', 'result'],
    registers: [this.registry],
  });

  constructor(backends: readonly BackendHealth[]) {
    // Event-loop delay sampled once a second, not prom-client's every 10 ms: those 100 wake-ups a
    // second cost an idle process ~0.8% of a core. Its nodejs_eventloop_lag_* figures include the 1 s.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    for (const status of backends) this.backendUp.set({ backend: formatBackend(status.backend) }, status.up ? 1 : 0);
    // The proxy's counters are read at each scrape.
    const registers = [this.registry];
    const gauge: Gauge = new Gauge({ name: 'k8ts_api_lb_active_connections', help: 'Client connections open now (dialling or spliced).', registers, collect: () => gauge.set(this.counters()?.active ?? 0) });
    const total = (name: string, help: string, read: (counters: TcpProxyCounters) => number): void => {
      const counter: Counter = new Counter({
        name,
        help,
        registers,
        collect: () => {
          counter.reset();
          counter.inc(read(this.counters() ?? ZERO_COUNTERS));
        },
      });
    };
    total('k8ts_api_lb_accepted_connections_total', 'Client connections admitted since start.', (c) => c.accepted);
    total('k8ts_api_lb_refused_connections_total', 'Client connections closed at once because --max-connections were open.', (c) => c.refused);
    total('k8ts_api_lb_failed_connections_total', 'Client connections reset because no backend could be reached.', (c) => c.failed);
    total('k8ts_api_lb_connect_retries_total', 'Backend dials that failed and were followed by another backend.', (c) => c.retries);
  }

  /** Where the connection metrics read the proxy's counters. */
  watchProxy(counters: () => TcpProxyCounters): void {
    this.counters = counters;
  }

  /** The pool's observer: each check's result and the backend's state after it. */
  checked(status: BackendHealth, result: CheckResult): void {
    const backend = formatBackend(status.backend);
    this.checks.inc({ backend, result: result.ok ? 'success' : 'failure' });
    this.backendUp.set({ backend }, status.up ? 1 : 0);
  }
}
