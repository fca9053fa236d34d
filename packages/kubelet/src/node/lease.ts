/**
 * Node heartbeats in kube-node-lease, as upstream's node lease controller: one Lease per node,
 * named after it, held by it, owned by its Node (so it goes with the Node), renewed every quarter
 * of its duration (40 s → 10 s). One renewer serves any number of nodes (a simulated fleet): each
 * node has its own timer, started at the offset its caller gives, so renewals spread over time.
 *
 * Renewal: the cached Lease is updated with a new renewTime; a conflict or a missing Lease reads
 * (or creates) it again; a failure retries after 200 ms doubling up to 7 s, as upstream, and never
 * stops the timers of other nodes.
 */
import { formatMicroTime } from '@k8ts/apimachinery';
import { realClock, type Clock, type TimerHandle } from '@k8ts/base';
import { isAlreadyExists, isConflict, isNotFound, type ApiClient, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from 'pino';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const DEFAULT_NODE_LEASE_DURATION_SECONDS = 40;
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 7_000;

type LeaseObject = Lease & KubeObject;

/** The Lease a node holds, owned by its Node when the Node's uid is known. */
export function buildNodeLease(nodeName: string, nodeUid: string | undefined, durationSeconds: number, nowMs: number): LeaseObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid === undefined ? {} : { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] }),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: formatMicroTime(nowMs) },
  };
}

/** Renew every quarter of the duration, as upstream (40 s → 10 s). */
export function leaseRenewIntervalMs(durationSeconds: number): number {
  return Math.max(1, Math.round((durationSeconds * 1000) / 4));
}

export interface NodeLeaseRenewerOptions {
  readonly client: ApiClient;
  readonly durationSeconds?: number;
  /** Default: a quarter of the duration. */
  readonly renewIntervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

interface Held {
  readonly name: string;
  uid: string | undefined;
  lease: LeaseObject | undefined;
  timer: TimerHandle | undefined;
  failures: number;
  renewing: boolean;
}

export class NodeLeaseRenewer {
  private readonly leases: ResourceClient<LeaseObject>;
  private readonly clock: Clock;
  private readonly durationSeconds: number;
  private readonly intervalMs: number;
  private readonly held = new Map<string, Held>();
  private stopped = false;
  private readonly renewListeners = new Set<(nodeName: string) => void>();

  constructor(private readonly options: NodeLeaseRenewerOptions) {
    this.leases = options.client.resource<LeaseObject>('coordination.k8s.io', 'v1', 'leases').namespace(NODE_LEASE_NAMESPACE);
    this.clock = options.clock ?? realClock;
    this.durationSeconds = options.durationSeconds ?? DEFAULT_NODE_LEASE_DURATION_SECONDS;
    this.intervalMs = options.renewIntervalMs ?? leaseRenewIntervalMs(this.durationSeconds);
  }

  get renewIntervalMs(): number {
    return this.intervalMs;
  }

  /** Starts renewing `nodeName`'s Lease, the first time after `delayMs` (0: now). */
  add(nodeName: string, nodeUid: string | undefined, delayMs = 0): void {
    if (this.stopped || this.held.has(nodeName)) return;
    const held: Held = { name: nodeName, uid: nodeUid, lease: undefined, timer: undefined, failures: 0, renewing: false };
    this.held.set(nodeName, held);
    held.timer = this.clock.schedule(delayMs, () => this.tick(held));
  }

  /** Stops renewing (the Lease stays; the node controller sees it age). */
  remove(nodeName: string): void {
    const held = this.held.get(nodeName);
    held?.timer?.cancel();
    this.held.delete(nodeName);
  }

  /** Called after each successful renewal (for metrics and tests). */
  onRenewed(listener: (nodeName: string) => void): void {
    this.renewListeners.add(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const held of this.held.values()) held.timer?.cancel();
    this.held.clear();
  }

  get size(): number {
    return this.held.size;
  }

  private tick(held: Held): void {
    if (this.stopped || this.held.get(held.name) !== held || held.renewing) return;
    held.renewing = true;
    this.renew(held)
      .then(
        () => {
          held.failures = 0;
          for (const listener of this.renewListeners) listener(held.name);
          return this.intervalMs;
        },
        (error: unknown) => {
          held.failures += 1;
          held.lease = undefined; // read it again next time
          this.options.logger?.warn({ err: error, node: held.name, failures: held.failures }, 'node lease not renewed');
          return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (held.failures - 1));
        },
      )
      .then((delayMs) => {
        held.renewing = false;
        if (!this.stopped && this.held.get(held.name) === held) held.timer = this.clock.schedule(delayMs, () => this.tick(held));
      })
      .catch(() => undefined); // the handlers above do not throw; never an unhandled rejection
  }

  private async renew(held: Held): Promise<void> {
    const now = this.clock.now();
    if (held.lease === undefined) held.lease = await this.readOrCreate(held, now);
    else {
      try {
        held.lease = await this.leases.update(this.withRenewal(held.lease, held, now));
      } catch (error) {
        if (!isConflict(error) && !isNotFound(error)) throw error;
        held.lease = await this.readOrCreate(held, now);
      }
    }
  }

  /** Reads the node's Lease and renews it, or creates it when there is none. */
  private async readOrCreate(held: Held, nowMs: number): Promise<LeaseObject> {
    let existing: LeaseObject | undefined;
    try {
      existing = await this.leases.get(held.name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (existing === undefined) {
      try {
        return await this.leases.create(buildNodeLease(held.name, held.uid, this.durationSeconds, nowMs));
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        existing = await this.leases.get(held.name);
      }
    }
    return this.leases.update(this.withRenewal(existing, held, nowMs));
  }

  /** The Lease with a new renewTime, this node as holder, the configured duration and the Node as owner. */
  private withRenewal(lease: LeaseObject, held: Held, nowMs: number): LeaseObject {
    const fresh = buildNodeLease(held.name, held.uid, this.durationSeconds, nowMs);
    const owners = lease.metadata?.ownerReferences;
    const ownedByNode = owners?.some((owner) => owner.kind === 'Node' && owner.name === held.name) ?? false;
    return {
      ...lease,
      metadata: { ...lease.metadata, ...(ownedByNode || fresh.metadata?.ownerReferences === undefined ? {} : { ownerReferences: fresh.metadata.ownerReferences }) },
      spec: { ...lease.spec, ...fresh.spec },
    };
  }

  /** Tells the renewer the node's uid once known (a Lease made before gets its owner at the next renewal). */
  setNodeUid(nodeName: string, nodeUid: string): void {
    const held = this.held.get(nodeName);
    if (held !== undefined) held.uid = nodeUid;
  }
}
