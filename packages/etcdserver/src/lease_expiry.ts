/**
 * When each lease expires, as the leader sees it. Only the leader tracks time: expiry becomes a
 * replicated revoke it proposes, so every member deletes the same keys at the same revision. A new
 * leader restarts every lease's clock (etcd's "promote"), so a leader change never expires a lease
 * early.
 */
export class LeaseExpiry {
  private readonly expiresAtMs = new Map<string, number>();
  private readonly ttlSeconds = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A lease exists (granted or restored), with its granted TTL. */
  track(id: string, ttlSeconds: number, startClock: boolean): void {
    this.ttlSeconds.set(id, ttlSeconds);
    if (startClock) this.expiresAtMs.set(id, this.now() + ttlSeconds * 1000);
  }

  forget(id: string): void {
    this.ttlSeconds.delete(id);
    this.expiresAtMs.delete(id);
  }

  /** On becoming leader: every lease gets its full TTL from now. */
  promote(): void {
    const now = this.now();
    for (const [id, ttl] of this.ttlSeconds) this.expiresAtMs.set(id, now + ttl * 1000);
  }

  /** On losing leadership: the next leader keeps time. */
  demote(): void {
    this.expiresAtMs.clear();
  }

  /** A keep-alive: the lease lives its TTL from now. Returns the TTL, or undefined if unknown. */
  renew(id: string): number | undefined {
    const ttl = this.ttlSeconds.get(id);
    if (ttl === undefined) return undefined;
    this.expiresAtMs.set(id, this.now() + ttl * 1000);
    return ttl;
  }

  /** Whole seconds left (rounded up), or undefined for an unknown lease. */
  remainingSeconds(id: string): number | undefined {
    const at = this.expiresAtMs.get(id);
    if (at === undefined) return this.ttlSeconds.get(id);
    return Math.max(0, Math.ceil((at - this.now()) / 1000));
  }

  grantedSeconds(id: string): number | undefined {
    return this.ttlSeconds.get(id);
  }

  /** Leases past their expiry, oldest first, at most `limit`. */
  expired(limit: number): string[] {
    const now = this.now();
    return [...this.expiresAtMs]
      .filter(([, at]) => at <= now)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([id]) => id);
  }
}
