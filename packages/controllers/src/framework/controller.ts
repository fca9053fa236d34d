/**
 * The contract every controller of the controller manager keeps, after kube-controller-manager's
 * controllers built on client-go:
 *
 * - A controller is created with a ControllerContext before the shared informers start: its
 *   constructor asks the context's informer factory for the informers it reads and registers event
 *   handlers on them. Handlers only enqueue keys (`namespace/name`, or `name` for cluster-scoped
 *   objects); they never call the API.
 * - `run(signal)` waits for the informers it uses to sync, then runs its workers (the
 *   `--concurrent-<name>-syncs` flag, `workers` here) until `signal` aborts, then returns after the
 *   workers finish their current key.
 * - `sync(key)` is level-triggered: it reads desired and observed state from the informer caches,
 *   acts on the difference through the API, writes status, and is safe to run again at any moment —
 *   after a crash half-way, after a failover, with a stale cache. A sync that fails is retried with
 *   the workqueue's rate-limited backoff; a sync that cannot act on an object (invalid spec) records
 *   a Warning Event and returns without throwing, so it does not spin.
 * - All time goes through `context.clock`; every write goes through `context.client`.
 */
import type { Clock } from '@k8ts/base';
import type { ApiClient, EventRecorder, RateLimitingQueue, SharedInformerFactory } from '@k8ts/client';
import type { Logger } from 'pino';

/** The controller manager's settings that controllers read, with kube-controller-manager 1.32's defaults. */
export interface ControllerManagerOptions {
  /** Workers per controller, by controller name (`--concurrent-<name>-syncs`). */
  readonly concurrentSyncs: Readonly<Record<string, number>>;
  /** How often node lifecycle checks nodes' health (`--node-monitor-period`, 5 s). */
  readonly nodeMonitorPeriodMs: number;
  /** A node unheard for this long turns Unknown (`--node-monitor-grace-period`, 50 s in 1.32). */
  readonly nodeMonitorGracePeriodMs: number;
  /** A node that never reported gets this long first (`--node-startup-grace-period`, 60 s). */
  readonly nodeStartupGracePeriodMs: number;
  /** Nodes per second whose pods are evicted in a healthy zone (`--node-eviction-rate`, 0.1). */
  readonly nodeEvictionRate: number;
  /** The same in an unhealthy zone of a large cluster (`--secondary-node-eviction-rate`, 0.01). */
  readonly secondaryNodeEvictionRate: number;
  /** A zone is unhealthy when at least this share of its nodes is not ready (`--unhealthy-zone-threshold`, 0.55). */
  readonly unhealthyZoneThreshold: number;
  /** Zones of at most this many nodes count as small (`--large-cluster-size-threshold`, 50). */
  readonly largeClusterSizeThreshold: number;
  /** Terminated pods kept before pod GC deletes the oldest (`--terminated-pod-gc-threshold`, 12500; 0 turns it off). */
  readonly terminatedPodGcThreshold: number;
  /** Give nodes podCIDRs from clusterCidr (`--allocate-node-cidrs`, false). */
  readonly allocateNodeCidrs: boolean;
  /** `--cluster-cidr` (k8ts default 10.244.0.0/16), comma-separated for dual stack. */
  readonly clusterCidr: string;
  /** `--node-cidr-mask-size` (24). */
  readonly nodeCidrMaskSize: number;
  /**
   * The cluster's CA bundle (PEM), published as `ca.crt` of every namespace's kube-root-ca.crt
   * (the content of `--root-ca-file`). Unset: empty, as upstream publishes when it has no CA data.
   */
  readonly rootCaBundle?: string;
}

export const DEFAULT_CONTROLLER_MANAGER_OPTIONS: ControllerManagerOptions = {
  concurrentSyncs: {},
  nodeMonitorPeriodMs: 5_000,
  nodeMonitorGracePeriodMs: 50_000,
  nodeStartupGracePeriodMs: 60_000,
  nodeEvictionRate: 0.1,
  secondaryNodeEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
  terminatedPodGcThreshold: 12_500,
  allocateNodeCidrs: false,
  clusterCidr: '10.244.0.0/16',
  nodeCidrMaskSize: 24,
};

export interface ControllerContext {
  readonly client: ApiClient;
  /** Shared by every controller of the process: one list+watch per resource. */
  readonly informers: SharedInformerFactory;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: ControllerManagerOptions;
  /** An event recorder writing as `component` (kube: "replicaset-controller", "deployment-controller", …). */
  recorder(component: string): EventRecorder;
  /** A rate-limited workqueue named `name`, with the process's workqueue metrics attached. */
  newQueue(name: string): RateLimitingQueue<string>;
}

export interface Controller {
  /** Waits for its informers to sync, runs its workers until `signal` aborts, then returns. */
  run(signal: AbortSignal): Promise<void>;
}

export interface ControllerDescriptor {
  /** The name `--controllers` takes, as upstream ("replicaset", "deployment", "nodelifecycle", …). */
  readonly name: string;
  /** `*` enables it (upstream: every controller but bootstrapsigner and tokencleaner). */
  readonly enabledByDefault: boolean;
  /** Workers when its concurrency flag is not given (upstream's default). */
  readonly defaultWorkers: number;
  /** The flag that sets its workers, without dashes, as upstream names it ("concurrent-gc-syncs"); none: fixed. */
  readonly concurrencyFlag?: string;
  create(context: ControllerContext): Controller;
}

/**
 * How many workers the controller runs: its `--concurrent-*-syncs` value as the controller manager
 * put it in the options, else its descriptor's default (one place for each controller's default).
 */
export function workersFor(context: ControllerContext, descriptor: ControllerDescriptor): number {
  return context.options.concurrentSyncs[descriptor.name] ?? descriptor.defaultWorkers;
}
