import { invariant } from '@k8ts/base';
import { fromKeyString } from './bytes.js';
import { ERR_LEASE_EXIST, ERR_LEASE_NOT_FOUND, ERR_LEASE_TTL_TOO_LARGE, fail } from './errors.js';
import { compareLeaseIds } from './lease_id.js';
import type { LeaseId, LeaseInfo } from './types.js';

/** etcd's lease.MaxLeaseTTL, in seconds. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

interface Lease {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  /** Attached keys as binary strings. */
  readonly keys: Set<string>;
}

/**
 * The replicated half of etcd's lessor: which leases exist, their granted TTL, and which keys hang on
 * each. Expiry is time, and time belongs to the leader in the service, which proposes a revoke.
 */
export class Lessor {
  private readonly leases = new Map<LeaseId, Lease>();
  /** key → its lease, etcd's itemMap: the attachment of the key's current value. */
  private readonly keyLease = new Map<string, LeaseId>();

  get count(): number {
    return this.leases.size;
  }

  /** etcd's order of checks: ID 0, TTL too large, already exists; a short TTL is raised to the minimum. */
  grant(id: LeaseId, ttlSeconds: number, minTtlSeconds: number): Lease {
    if (id === '0') fail(ERR_LEASE_NOT_FOUND);
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) fail(ERR_LEASE_TTL_TOO_LARGE);
    if (this.leases.has(id)) fail(ERR_LEASE_EXIST);
    const lease: Lease = { id, ttlSeconds: Math.max(ttlSeconds, minTtlSeconds), keys: new Set() };
    this.leases.set(id, lease);
    return lease;
  }

  has(id: LeaseId): boolean {
    return this.leases.has(id);
  }

  /** The keys to delete when `id` is revoked, bytewise ascending (etcd sorts them too). */
  keysOf(id: LeaseId): string[] {
    const lease = this.leases.get(id);
    invariant(lease !== undefined, () => `lessor: keys of unknown lease ${id}`);
    return [...lease.keys].sort();
  }

  /** Forgets a lease whose keys are already deleted. */
  remove(id: LeaseId): void {
    const lease = this.leases.get(id);
    invariant(lease !== undefined, () => `lessor: removing unknown lease ${id}`);
    invariant(lease.keys.size === 0, () => `lessor: lease ${id} removed with ${lease.keys.size} keys attached`);
    this.leases.delete(id);
  }

  leaseOf(key: string): LeaseId {
    return this.keyLease.get(key) ?? '0';
  }

  attach(id: LeaseId, key: string): void {
    const lease = this.leases.get(id);
    invariant(lease !== undefined, () => `lessor: attach to unknown lease ${id}`);
    invariant(!this.keyLease.has(key), 'lessor: attach of a key that is already attached');
    lease.keys.add(key);
    this.keyLease.set(key, id);
  }

  detach(id: LeaseId, key: string): void {
    const lease = this.leases.get(id);
    invariant(lease !== undefined, () => `lessor: detach from unknown lease ${id}`);
    invariant(this.keyLease.get(key) === id, 'lessor: detach of a key not attached to that lease');
    lease.keys.delete(key);
    this.keyLease.delete(key);
  }

  info(id: LeaseId): LeaseInfo | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    return { id, ttl: lease.ttlSeconds, keys: [...lease.keys].sort().map(fromKeyString) };
  }

  /** Every lease with its TTL, by ascending ID: the same order on every member. */
  list(): Array<{ id: LeaseId; ttl: number }> {
    return [...this.leases.values()]
      .map((l) => ({ id: l.id, ttl: l.ttlSeconds }))
      .sort((a, b) => compareLeaseIds(a.id, b.id));
  }
}
