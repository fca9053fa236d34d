/**
 * What a simulated fleet (`k8ts-node-agent --runtime simulated --nodes N`) is told: how many nodes,
 * what they look like, and how its pods move through their phases. The pod timings follow kwok's
 * stages (pod-ready, pod-complete, pod-delete): every delay is a flag, with a jitter so that writes
 * spread over time instead of arriving in bursts.
 */

export interface SimulatedPodTimings {
  /** Bound → containers started (phase Running). 0: at once, with no ContainerCreating write before. */
  readonly startDelayMs: number;
  /** Started → Ready (probes are deemed to pass). 0: Ready in the same write as Running. */
  readonly readyDelayMs: number;
  /** Running → Succeeded, for pods that end (owned by a Job, as kwok's pod-complete stage). */
  readonly completeAfterMs: number;
  /** Deletion requested → the final delete (grace 0), as a kubelet whose containers stop at once. */
  readonly deleteDelayMs: number;
  /** Up to this much random extra on every delay above. */
  readonly jitterMs: number;
  /** Fraction in [0, 1] of pods whose containers fail to run: phase Failed, exit code 1, reason Error. */
  readonly failureRate: number;
  /** Seed of the jitter and failure draws (a run replays from it). */
  readonly seed: number;
}

export interface SimulatedNodeShape {
  /** Nodes are named `<namePrefix>-<index>`, index zero-padded to the width of the count. */
  readonly namePrefix: string;
  readonly count: number;
  /** Capacity (= allocatable: a simulated node reserves nothing). */
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
  readonly ephemeralStorage: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  /**
   * Pod addresses of a node whose spec.podCIDR is not set (no node IPAM running): node i gets
   * the i-th /24 of this /8..16 range.
   */
  readonly fallbackPodRange: string;
}

export interface SimulatedHeartbeats {
  /** Lease `kube-node-lease/<node>`: duration and renew interval (upstream: 40 s, 10 s = 1/4). */
  readonly leaseDurationSeconds: number;
  readonly leaseRenewIntervalMs: number;
  /** Each node's status is checked this often (upstream's --node-status-update-frequency, 10 s). */
  readonly nodeStatusUpdateIntervalMs: number;
  /** Node status written at least this often even when nothing changed (upstream: 5 min). */
  readonly nodeStatusReportIntervalMs: number;
}

export interface SimulatedWriteLimits {
  /** Pod writes (status, final deletes) in flight at once. */
  readonly writeConcurrency: number;
  /** Node registrations in flight at once (leases and node status spread by their timers instead). */
  readonly registerConcurrency: number;
}

export interface SimulatedFleetConfig {
  readonly nodes: SimulatedNodeShape;
  readonly pods: SimulatedPodTimings;
  readonly heartbeats: SimulatedHeartbeats;
  readonly writes: SimulatedWriteLimits;
}

export const DEFAULT_POD_TIMINGS: SimulatedPodTimings = {
  startDelayMs: 0,
  readyDelayMs: 0,
  completeAfterMs: 1000,
  deleteDelayMs: 0,
  jitterMs: 100,
  failureRate: 0,
  seed: 1,
};

export const DEFAULT_HEARTBEATS: SimulatedHeartbeats = {
  leaseDurationSeconds: 40,
  leaseRenewIntervalMs: 10_000,
  nodeStatusUpdateIntervalMs: 10_000,
  nodeStatusReportIntervalMs: 5 * 60_000,
};

export const DEFAULT_WRITE_LIMITS: SimulatedWriteLimits = { writeConcurrency: 64, registerConcurrency: 32 };

export function defaultNodeShape(count: number, namePrefix = 'sim'): SimulatedNodeShape {
  return {
    namePrefix,
    count,
    cpu: '32',
    memory: '256Gi',
    pods: 110,
    ephemeralStorage: '100Gi',
    labels: {},
    taints: [],
    fallbackPodRange: '10.128.0.0/9',
  };
}

/** Throws a RangeError naming the setting when one is out of range. */
export function checkFleetConfig(config: SimulatedFleetConfig): void {
  const { nodes, pods, heartbeats, writes } = config;
  const counts: [string, number, number, number][] = [
    ['nodes', nodes.count, 1, 100_000],
    ['max pods', nodes.pods, 1, 250],
    ['start delay', pods.startDelayMs, 0, 86_400_000],
    ['ready delay', pods.readyDelayMs, 0, 86_400_000],
    ['complete after', pods.completeAfterMs, 0, 86_400_000],
    ['delete delay', pods.deleteDelayMs, 0, 86_400_000],
    ['jitter', pods.jitterMs, 0, 3_600_000],
    ['lease duration', heartbeats.leaseDurationSeconds, 1, 3600],
    ['lease renew interval', heartbeats.leaseRenewIntervalMs, 100, 3_600_000],
    ['node status update interval', heartbeats.nodeStatusUpdateIntervalMs, 100, 3_600_000],
    ['node status report interval', heartbeats.nodeStatusReportIntervalMs, 1000, 86_400_000],
    ['write concurrency', writes.writeConcurrency, 1, 10_000],
    ['register concurrency', writes.registerConcurrency, 1, 10_000],
  ];
  for (const [name, value, minimum, maximum] of counts) {
    if (!Number.isInteger(value) || value < minimum || value > maximum) throw new RangeError(`${name} ${value} must be an integer from ${minimum} to ${maximum}`);
  }
  if (!(pods.failureRate >= 0 && pods.failureRate <= 1)) throw new RangeError(`failure rate ${pods.failureRate} must be within [0, 1]`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(nodes.namePrefix) || nodes.namePrefix.length > 200) {
    throw new RangeError(`node name prefix ${JSON.stringify(nodes.namePrefix)} must be a DNS label (lowercase letters, digits, '-')`);
  }
}

/** The fleet's node names, in index order. */
export function nodeNames(shape: Pick<SimulatedNodeShape, 'namePrefix' | 'count'>): string[] {
  const width = String(shape.count - 1).length;
  return Array.from({ length: shape.count }, (_, index) => `${shape.namePrefix}-${String(index).padStart(width, '0')}`);
}
