/**
 * The node agent's /metrics under the kubelet's names, in a registry of this process's own:
 * - kubelet_node_name{node} 1;
 * - kubelet_running_pods and kubelet_running_containers{container_state}, read from the runtime at
 *   each scrape (as upstream's collectors read the runtime cache);
 * - kubelet_runtime_operations_total / _errors_total / _duration_seconds{operation_type}, and
 *   kubelet_started_pods_total / kubelet_started_containers_total{container_type}, from the
 *   instrumented runtime (instrumentRuntime: every call the kubelet makes goes through it);
 * - kubelet_pod_start_duration_seconds, kubelet_pod_worker_duration_seconds{operation_type} and
 *   kubelet_pleg_relist_duration_seconds, fed by the kubelet through KubeletMetricsSink;
 * - node heartbeats: kubelet_node_lease_renewals_total and kubelet_node_status_updates_total (k8ts');
 * - the process's own (process_cpu_seconds_total, process_resident_memory_bytes …).
 */
import type { ContainerState, KubeletMetricsSink, Runtime } from '@k8ts/kubelet';
import type { KubeProxyCounters } from '@k8ts/kubeproxy';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Upstream's buckets: pod start 0.5 s … 1 h; worker and runtime operations exponential from 5 ms.
const POD_START_BUCKETS_SECONDS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
const OPERATION_BUCKETS_SECONDS = [0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125];
const RELIST_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The runtime's methods as upstream's instrumented runtime service names them. */
const OPERATION_TYPES: Record<string, string> = {
  version: 'version',
  pullImage: 'pull_image',
  listImages: 'list_images',
  runPodSandbox: 'run_podsandbox',
  stopPodSandbox: 'stop_podsandbox',
  removePodSandbox: 'remove_podsandbox',
  podSandboxStatus: 'podsandbox_status',
  listPodSandboxes: 'list_podsandbox',
  createContainer: 'create_container',
  startContainer: 'start_container',
  stopContainer: 'stop_container',
  removeContainer: 'remove_container',
  containerStatus: 'container_status',
  listContainers: 'list_containers',
  containerStats: 'container_stats',
  execSync: 'exec_sync',
  exec: 'exec',
  attach: 'attach',
  portForward: 'port_forward',
};

const CONTAINER_STATES: readonly ContainerState[] = ['created', 'running', 'exited', 'unknown'];

export class NodeAgentMetrics {
  readonly registry = new Registry();
  readonly sink: KubeletMetricsSink;
  readonly leaseRenewals: Counter;
  readonly statusUpdates: Counter;
  private readonly operations: Counter;
  private readonly operationErrors: Counter;
  private readonly operationDuration: Histogram;
  private readonly startedPods: Counter;
  private readonly startedPodErrors: Counter;
  private readonly startedContainers: Counter;
  private runtime: Runtime | undefined;

  constructor() {
    // Event-loop delay sampled once a second, not prom-client's every 10 ms (100 wake-ups a second idle).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    const registers = [this.registry];
    const metrics = this; // the collectors below read the runtime set later
    this.operations = new Counter({ name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames: ['operation_type'], registers });
    this.operationErrors = new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames: ['operation_type'], registers });
    this.operationDuration = new Histogram({ name: 'kubelet_runtime_operations_duration_seconds', help: 'Duration in seconds of runtime operations. Broken down by operation type.', labelNames: ['operation_type'], buckets: OPERATION_BUCKETS_SECONDS, registers });
    this.startedPods = new Counter({ name: 'kubelet_started_pods_total', help: 'Cumulative number of pods started', registers });
    this.startedPodErrors = new Counter({ name: 'kubelet_started_pods_errors_total', help: 'Cumulative number of errors when starting pods', registers });
    this.startedContainers = new Counter({ name: 'kubelet_started_containers_total', help: 'Cumulative number of containers started', labelNames: ['container_type'], registers });
    this.leaseRenewals = new Counter({ name: 'kubelet_node_lease_renewals_total', help: "Renewals of the nodes' Leases in kube-node-lease (k8ts)", registers });
    this.statusUpdates = new Counter({ name: 'kubelet_node_status_updates_total', help: 'Node status writes (k8ts)', registers });
    new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods that have a running pod sandbox',
      registers,
      async collect() {
        const sandboxes = (await metrics.runtime?.listPodSandboxes().catch(() => undefined)) ?? [];
        this.set(sandboxes.filter((sandbox) => sandbox.state === 'ready').length);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: 'Number of containers currently running',
      labelNames: ['container_state'],
      registers,
      async collect() {
        const containers = (await metrics.runtime?.listContainers().catch(() => undefined)) ?? [];
        for (const state of CONTAINER_STATES) this.set({ container_state: state }, containers.filter((c) => c.state === state).length);
      },
    });
    const podStart = new Histogram({ name: 'kubelet_pod_start_duration_seconds', help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run', buckets: POD_START_BUCKETS_SECONDS, registers });
    const podWorker = new Histogram({ name: 'kubelet_pod_worker_duration_seconds', help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync', labelNames: ['operation_type'], buckets: OPERATION_BUCKETS_SECONDS, registers });
    const relist = new Histogram({ name: 'kubelet_pleg_relist_duration_seconds', help: 'Duration in seconds for relisting pods in PLEG.', buckets: RELIST_BUCKETS_SECONDS, registers });
    this.sink = {
      podStarted: (seconds) => podStart.observe(seconds),
      podWorkerDuration: (operation, seconds) => podWorker.observe({ operation_type: operation }, seconds),
      relistDuration: (seconds) => relist.observe(seconds),
    };
  }

  /** kubelet_node_name{node="<name>"} 1 for each node this agent is. */
  /**
   * kube-proxy's: kubeproxy_sync_proxy_rules_last_timestamp_seconds (upstream's name), and k8ts'
   * kubeproxy_services, kubeproxy_listeners and kubeproxy_bind_failures (since start), read at each scrape.
   */
  watchProxy(proxy: { counters(): KubeProxyCounters }): void {
    const gauge = (name: string, help: string, read: (counters: KubeProxyCounters) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = read(proxy.counters());
          if (value !== undefined) this.set(value);
        },
      });
    };
    gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time the proxy rules were synced (seconds since the epoch).', (c) => (c.lastSyncTimeMs === undefined ? undefined : c.lastSyncTimeMs / 1000));
    gauge('kubeproxy_services', '(k8ts) Services this node proxies.', (c) => c.services);
    gauge('kubeproxy_listeners', '(k8ts) Listeners bound for Service ports and node ports.', (c) => c.listeners);
    gauge('kubeproxy_bind_failures', '(k8ts) Listener binds that failed since the start (another agent in the network namespace may hold the address).', (c) => c.bindFailures);
  }

  nodeNames(names: readonly string[]): void {
    const gauge = new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers: [this.registry] });
    for (const name of names) gauge.set({ node: name }, 1);
  }

  /**
   * The runtime with every call counted and timed; the running-pods and running-containers gauges
   * read it at each scrape.
   */
  instrumentRuntime(runtime: Runtime): Runtime {
    this.runtime = runtime;
    const metrics = this;
    return new Proxy(runtime, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        const operation = typeof property === 'string' ? OPERATION_TYPES[property] : undefined;
        if (operation === undefined || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]): unknown => {
          const end = metrics.operationDuration.startTimer({ operation_type: operation });
          metrics.operations.inc({ operation_type: operation });
          const failed = (): void => metrics.operationErrors.inc({ operation_type: operation });
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (error) {
            failed();
            end();
            throw error;
          }
          if (!(result instanceof Promise)) {
            end();
            return result;
          }
          return result.then(
            (answer: unknown) => {
              end();
              if (property === 'runPodSandbox') metrics.startedPods.inc();
              if (property === 'startContainer') metrics.startedContainers.inc({ container_type: 'container' });
              return answer;
            },
            (error: unknown) => {
              end();
              failed();
              if (property === 'runPodSandbox') metrics.startedPodErrors.inc();
              throw error;
            },
          );
        };
      },
    });
  }
}
