/**
 * The node a process-runtime agent is: its description and observation from the host's facts, the
 * flags (--max-pods, --node-capacity, --kube-reserved, --system-reserved, --eviction-hard, --node-ip,
 * --node-labels, --register-with-taints, --port) and the runtime (version, images, health).
 */
import type { NodeAddress, Taint } from 'kubernetes-types/core/v1.js';
import type { Runtime } from '../runtime/runtime.js';
import type { HostFacts } from './host.js';
import { nodeSystemInfo } from './host.js';
import { defaultNodeLabels } from './labels.js';
import type { NodeDescription, NodeObservation } from './node_status.js';
import type { ReportedNode } from './status_reporter.js';
import { allocatableAmounts, capacityList, DEFAULT_EVICTION_HARD, DEFAULT_MAX_PODS, type EvictionHard, type Reservation, type ResourceAmounts } from './resources.js';
import { containerRuntimeVersion, KUBELET_VERSION } from './version.js';

export interface HostNodeConfig {
  readonly name: string;
  readonly host: HostFacts;
  /** --node-ip; default the host's first non-internal IPv4. */
  readonly nodeIP?: string;
  /** --node-labels (on top of the kubelet's own hostname/os/arch labels). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  readonly maxPods?: number;
  /** --node-capacity: what the node claims instead of the host's cpu, memory, storage. */
  readonly capacity?: Reservation;
  readonly kubeReserved?: Reservation;
  readonly systemReserved?: Reservation;
  readonly evictionHard?: EvictionHard;
  /** --port, reported as daemonEndpoints.kubeletEndpoint.Port. */
  readonly kubeletPort: number;
  readonly runtime: Pick<Runtime, 'version' | 'listImages'>;
  /** Reasons the node is not ready now (e.g. the kubelet has not started); empty when ready. */
  readonly notReadyReasons?: () => readonly string[];
}

/** The node's capacity: the flags' where given, the host's otherwise. */
export function hostCapacity(config: Pick<HostNodeConfig, 'host' | 'capacity' | 'maxPods'>): ResourceAmounts {
  return {
    cpuMillis: config.capacity?.cpuMillis ?? config.host.cpuMillis,
    memoryBytes: config.capacity?.memoryBytes ?? config.host.memoryBytes,
    ephemeralStorageBytes: config.capacity?.ephemeralStorageBytes ?? config.host.ephemeralStorageBytes,
    pods: config.maxPods ?? DEFAULT_MAX_PODS,
  };
}

/** The node's InternalIP (--node-ip, else the host's first IPv4, else loopback) and Hostname. */
export function nodeAddresses(name: string, nodeIP: string | undefined, host: Pick<HostFacts, 'ipv4'>): NodeAddress[] {
  return [
    { type: 'InternalIP', address: nodeIP ?? host.ipv4 ?? '127.0.0.1' },
    { type: 'Hostname', address: name },
  ];
}

export class HostNode implements ReportedNode {
  readonly description: NodeDescription;
  private readonly capacity: ResourceAmounts;

  constructor(private readonly config: HostNodeConfig) {
    this.description = {
      name: config.name,
      labels: { ...defaultNodeLabels(config.name, config.host.os, config.host.arch), ...config.labels },
      taints: config.taints ?? [],
    };
    this.capacity = hostCapacity(config);
  }

  /** The node's InternalIP. */
  get internalIP(): string {
    return nodeAddresses(this.config.name, this.config.nodeIP, this.config.host)[0]?.address as string;
  }

  async observe(): Promise<NodeObservation> {
    const { config } = this;
    const reserved = [config.kubeReserved ?? {}, config.systemReserved ?? {}];
    const notReady = [...(config.notReadyReasons?.() ?? [])];
    let images: NodeObservation['images'] = [];
    try {
      images = await config.runtime.listImages();
    } catch (error) {
      notReady.push(`container runtime is down: ${(error as Error).message}`); // upstream's wording for a runtime that does not answer
    }
    return {
      capacity: capacityList(this.capacity),
      allocatable: capacityList(allocatableAmounts(this.capacity, reserved, config.evictionHard ?? DEFAULT_EVICTION_HARD)),
      addresses: nodeAddresses(config.name, config.nodeIP, config.host),
      nodeInfo: nodeSystemInfo(config.host, { kubeletVersion: KUBELET_VERSION, containerRuntimeVersion: containerRuntimeVersion(config.runtime.version()) }),
      images,
      kubeletPort: config.kubeletPort,
      health: { notReadyReasons: notReady },
    };
  }
}
