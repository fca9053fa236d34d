/**
 * N simulated nodes in one process, as kwok: real Node objects, Leases and pod status moving
 * through the real API, no processes behind them. What makes thousands of nodes fit in one process:
 * - one watch of the pods bound to any node (`spec.nodeName!=`), kept as a compact record per pod
 *   of the fleet's nodes (SimulatedPods), not as objects;
 * - one informer of the fleet's own Nodes (by the fleet's label), read by the status reporter
 *   instead of a GET per node per check, and for each node's podCIDR;
 * - one lease renewer and one status reporter (the node package's, shared with the real agent)
 *   serving every node, each node's timer started at its own offset in the period, with jitter,
 *   so heartbeats spread evenly instead of arriving in bursts;
 * - pod writes through one bounded lane, node registrations a bounded number at a time.
 */
import { realClock, seededRandom, type Clock } from '@k8ts/base';
import { SharedInformer, type ApiClient, type KubeObject } from '@k8ts/client';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import {
  KUBELET_VERSION,
  NodeLeaseRenewer,
  NodeStatusReporter,
  defaultNodeLabels,
  type NodeObject,
  type NodeObservation,
  type ReportedNode,
} from '../node/index.js';
import { checkFleetConfig, nodeNames, type SimulatedFleetConfig } from './options.js';
import { PodIpPool, nthSubnet24 } from './pod_ips.js';
import { PodStream } from './pod_stream.js';
import { SimulatedPods, type PodWrites, type SimulatedNodeRef, type SimulatedPodCounts } from './simulated_pods.js';
import { WriteQueue } from './write_queue.js';

/** The label every Node of a fleet carries, valued with the fleet's name prefix. */
export const SIMULATED_FLEET_LABEL = 'node.k8ts.io/simulated-fleet';
/** The annotation kwok puts on its nodes, so tools that know kwok recognise these. */
export const SIMULATED_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const SIMULATED_RUNTIME_VERSION = 'k8ts-simulated://0.1.0';

export interface SimulatedFleetOptions {
  readonly client: ApiClient;
  readonly config: SimulatedFleetConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** daemonEndpoints.kubeletEndpoint.Port the nodes report. */
  readonly kubeletPort?: number;
}

export interface SimulatedFleetStats {
  readonly nodes: number;
  readonly nodesRegistered: number;
  readonly leaseRenewals: number;
  readonly nodeStatusWrites: number;
  readonly pods: SimulatedPodCounts;
  readonly podWritesWaiting: number;
  readonly podWritesInFlight: number;
}

class FleetNode implements SimulatedNodeRef {
  private pool: PodIpPool | undefined;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly hostIP: string,
    private readonly fallbackRange: string,
    private readonly podCidrOf: (name: string) => string | undefined,
  ) {}

  podIps(): PodIpPool {
    this.pool ??= new PodIpPool(this.podCidrOf(this.name) ?? nthSubnet24(this.fallbackRange, this.index));
    return this.pool;
  }
}

/** Node i's address: 172.16.0.0/12 counted from .1 (a simulated node has no interface of its own). */
export function simulatedNodeIp(index: number): string {
  const value = 172 * 2 ** 24 + 16 * 2 ** 16 + index + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export class SimulatedFleet {
  readonly nodeNames: readonly string[];
  private readonly nodes = new Map<string, FleetNode>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly nodeInformer: SharedInformer<NodeObject>;
  private readonly leases: NodeLeaseRenewer;
  private readonly reporter: NodeStatusReporter;
  private readonly podQueue: WriteQueue;
  private readonly pods: SimulatedPods;
  private readonly podStream: PodStream;
  private registered = 0;
  private leaseRenewals = 0;
  private nodeStatusWrites = 0;
  private stopped = false;

  constructor(private readonly options: SimulatedFleetOptions) {
    const { config, client, logger } = options;
    checkFleetConfig(config);
    this.clock = options.clock ?? realClock;
    this.random = seededRandom(config.pods.seed);
    this.nodeNames = nodeNames(config.nodes);
    this.nodeNames.forEach((name, index) => {
      this.nodes.set(name, new FleetNode(name, index, simulatedNodeIp(index), config.nodes.fallbackPodRange, (node) => this.podCidrOf(node)));
    });
    this.nodeInformer = new SharedInformer<NodeObject>(client.resource<NodeObject>('', 'v1', 'nodes'), {
      labelSelector: `${SIMULATED_FLEET_LABEL}=${config.nodes.namePrefix}`,
      logger,
      clock: this.clock,
    });
    this.leases = new NodeLeaseRenewer({
      client,
      durationSeconds: config.heartbeats.leaseDurationSeconds,
      renewIntervalMs: config.heartbeats.leaseRenewIntervalMs,
      clock: this.clock,
      logger,
    });
    this.leases.onRenewed(() => void (this.leaseRenewals += 1));
    const lister = this.nodeInformer.lister();
    this.reporter = new NodeStatusReporter({
      client,
      clock: this.clock,
      logger,
      updateFrequencyMs: config.heartbeats.nodeStatusUpdateIntervalMs,
      reportFrequencyMs: config.heartbeats.nodeStatusReportIntervalMs,
      // The informer's copy; just after registering, the reporter's own (the watch may lag).
      readNode: (name) => lister.get(name) ?? this.reporter.node(name),
    });
    this.reporter.onWritten(() => void (this.nodeStatusWrites += 1));
    this.podQueue = new WriteQueue({
      concurrency: config.writes.writeConcurrency,
      onError: (key, error) => logger.error({ pod: key, err: error }, 'pod write threw'),
    });
    const podClient = client.resource<Pod & KubeObject>('', 'v1', 'pods');
    const writes: PodWrites = {
      patchStatus: async (namespace, name, uid, status) => {
        await podClient.namespace(namespace).patch(name, 'strategic', { metadata: { uid }, status }, { status: true });
      },
      deleteNow: async (namespace, name, uid) => {
        await podClient.namespace(namespace).delete(name, { gracePeriodSeconds: 0, preconditions: { uid } });
      },
    };
    this.pods = new SimulatedPods({
      nodes: (name) => this.nodes.get(name),
      writes,
      queue: this.podQueue,
      timings: config.pods,
      clock: this.clock,
      random: this.random,
      logger,
    });
    this.podStream = new PodStream(podClient, this.pods, { fieldSelector: 'spec.nodeName!=', logger, clock: this.clock });
  }

  /**
   * Registers every node (a bounded number at a time, each retried until it succeeds), starts their
   * heartbeats, then the pods' watch; resolves once every node is registered and the pods listed.
   */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    this.nodeInformer.run();
    const intervalMs = config.heartbeats.leaseRenewIntervalMs;
    const statusMs = config.heartbeats.nodeStatusUpdateIntervalMs;
    const count = this.nodeNames.length;
    await forEachLimited(this.nodeNames, config.writes.registerConcurrency, async (name, index) => {
      if (this.stopped) return;
      const node = await this.reporter.register(this.reportedNode(name, index), {
        // Each node's place in the period, plus a little jitter: heartbeats spread evenly.
        firstCheckDelayMs: Math.floor(((index + this.random()) / count) * statusMs),
      });
      this.registered += 1;
      this.leases.add(name, node.metadata?.uid, Math.floor(((index + this.random()) / count) * intervalMs));
    });
    logger.info({ nodes: count }, 'simulated nodes registered');
    this.podStream.run();
    await Promise.all([this.podStream.waitForSync(), this.nodeInformer.waitForSync()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pods.stop();
    this.leases.stop();
    await Promise.all([this.podStream.stop(), this.reporter.stop(), this.nodeInformer.stop()]);
    await this.podQueue.close();
  }

  stats(): SimulatedFleetStats {
    return {
      nodes: this.nodeNames.length,
      nodesRegistered: this.registered,
      leaseRenewals: this.leaseRenewals,
      nodeStatusWrites: this.nodeStatusWrites,
      pods: this.pods.counts(),
      podWritesWaiting: this.podQueue.pending,
      podWritesInFlight: this.podQueue.inFlight,
    };
  }

  /** The Node of `name` as last read or written (for /healthz and tests). */
  node(name: string): Node | undefined {
    return this.reporter.node(name);
  }

  private podCidrOf(name: string): string | undefined {
    return this.nodeInformer.lister().get(name)?.spec?.podCIDR;
  }

  private reportedNode(name: string, index: number): ReportedNode {
    const shape = this.options.config.nodes;
    const hostIP = simulatedNodeIp(index);
    const resources = { cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods), 'ephemeral-storage': shape.ephemeralStorage };
    const observation: NodeObservation = {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: hostIP },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: 'k8ts simulated node',
        containerRuntimeVersion: SIMULATED_RUNTIME_VERSION,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: [],
      kubeletPort: this.options.kubeletPort ?? 10250,
      health: {},
    };
    return {
      description: {
        name,
        labels: { ...defaultNodeLabels(name, 'linux', 'amd64'), ...shape.labels, [SIMULATED_FLEET_LABEL]: shape.namePrefix },
        taints: shape.taints.map((taint) => ({ ...taint })),
        annotations: { [SIMULATED_NODE_ANNOTATION]: 'fake' },
      },
      observe: () => observation,
    };
  }
}

/** Runs `work` over `items`, at most `limit` at a time; rejects with the first failure after all settle. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
