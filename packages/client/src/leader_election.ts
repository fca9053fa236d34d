import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from 'pino';
import type { ApiClient } from './api_client.js';
import { realClock, sleep, type Clock } from '@k8ts/base';
import { formatMicroTime } from '@k8ts/apimachinery';
import { isConflict, isNotFound } from './errors.js';
import type { ResourceClient } from './resource_client.js';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.
 *
 * Contract:
 * - Every candidate reads the Lease every retryPeriod. The holder renews renewTime; a candidate
 *   takes the Lease over only when its holder is empty (released) or it has seen the same record,
 *   unchanged, for leaseDurationSeconds by its own clock (so clocks need not agree, only run at
 *   about the same rate). Every write is conditional on the resourceVersion read: of two candidates
 *   that try at once, one wins and the other gets a Conflict and stays a follower.
 * - A leader whose Lease is still valid by its own clock renews with one write conditional on the
 *   Lease it last wrote, without reading it first (client-go's fast path); any failure of that write
 *   falls back to the read-then-write above.
 * - A leader that cannot renew within renewDeadline stops leading: `onStoppedLeading` is called
 *   and the signal given to `onStartedLeading` aborts. renewDeadline < leaseDuration, so a leader cut
 *   off from the API stops before anyone else may take over (given rates that agree within
 *   leaseDuration − renewDeadline): at most one leader acts at a time.
 * - `stop()` ends the election; a leader releases the Lease (empty holderIdentity) so another
 *   candidate takes over within a retryPeriod rather than a lease duration.
 * - `onNewLeader(identity)` is called each time the observed holder changes (ourselves included).
 * - acquireTime is set when a holder takes the Lease; leaseTransitions counts changes of holder.
 * - run() resolves after leadership is lost or the elector stopped: a component usually exits
 *   then, as Kubernetes' do, and starts over from a clean state.
 */
export interface LeaderElectionCallbacks {
  /** Now leading; `signal` aborts when leadership is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  readonly client: ApiClient;
  readonly namespace: string;
  readonly name: string;
  /** This candidate: unique per process (client-go: hostname plus a random suffix). */
  readonly identity: string;
  /** client-go's defaults: 15 s, 10 s, 2 s. The Lease records the duration in whole seconds. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Release the Lease on stop (default true). */
  readonly releaseOnCancel?: boolean;
  readonly callbacks: LeaderElectionCallbacks;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** client-go's jitter: waits of retryPeriod · [1, 1.2). */
const JITTER_FACTOR = 0.2;

export class LeaderElector {
  private readonly leases: ResourceClient<Lease>;
  private readonly clock: Clock;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: LeaseSpec | undefined;
  private observedTimeMs = 0;
  /** The Lease as we last wrote it (its resourceVersion conditions the fast-path renewal). */
  private written: Lease | undefined;
  private leading: AbortController | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.leases = options.client.resource<Lease>('coordination.k8s.io', 'v1', 'leases').namespace(options.namespace);
    this.clock = options.clock ?? realClock;
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(leaseDurationMs > this.renewDeadlineMs)) throw new Error('LeaderElector: leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > this.retryPeriodMs * (1 + JITTER_FACTOR))) throw new Error('LeaderElector: renewDeadline must be greater than retryPeriod·1.2');
    if (options.identity === '') throw new Error('LeaderElector: identity may not be empty');
    this.leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
  }

  /** Campaigns until leading, leads until the Lease is lost or stop(); then resolves. */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or leading (releasing the Lease when leading), and waits for run() to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** The holder last observed ('' when none). */
  getLeader(): string {
    return this.observed?.holderIdentity ?? '';
  }

  private async campaign(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(this.clock, this.jittered(), signal);
    if (signal.aborted) return;
    this.leading = new AbortController();
    this.options.logger?.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
    this.options.callbacks.onStartedLeading(this.leading.signal);
    await this.renewUntilLost();
    if (signal.aborted && this.options.releaseOnCancel !== false) await this.release();
    this.leading.abort();
    this.leading = undefined;
    this.options.logger?.info({ lease: this.options.name, identity: this.options.identity }, 'stopped leading');
    this.options.callbacks.onStoppedLeading();
  }

  /** Renews every retryPeriod; returns when a round found no success within renewDeadline, or on stop. */
  private async renewUntilLost(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const deadlineMs = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && !renewed && this.clock.now() < deadlineMs) {
        renewed = await this.beforeDeadline(this.tryAcquireOrRenew(), deadlineMs);
        if (!renewed) await sleep(this.clock, Math.min(this.retryPeriodMs, Math.max(0, deadlineMs - this.clock.now())), signal);
      }
      if (!renewed) return;
      await sleep(this.clock, this.retryPeriodMs, signal);
    }
  }

  /** One read and, when allowed, one conditional write of the Lease. True when we hold it now. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = this.clock.now();
    if (this.isLeader() && this.observedTimeMs + this.leaseDurationSeconds * 1000 > nowMs && (await this.renewOptimistically(nowMs))) return true;
    let lease: Lease;
    try {
      lease = await this.leases.get(this.options.name);
    } catch (error) {
      if (!isNotFound(error)) return this.failed('get', error);
      return this.create(nowMs);
    }
    const spec = lease.spec ?? {};
    this.observe(spec, nowMs);
    const holder = spec.holderIdentity ?? '';
    const expiresMs = this.observedTimeMs + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.options.identity && expiresMs > nowMs) return false;
    const renewing = holder === this.options.identity;
    const next: LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: renewing && spec.acquireTime ? spec.acquireTime : formatMicroTime(nowMs),
      renewTime: formatMicroTime(nowMs),
      leaseTransitions: renewing ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    return this.update(lease, next, nowMs, 'update');
  }

  /**
   * client-go's fast path for a leader: the renewal written over the Lease as we last wrote it, so
   * an idle leader costs the store one write per retryPeriod rather than a quorum read and a write.
   * A Conflict (someone else wrote it since) or any other failure: false, and the caller reads.
   */
  private async renewOptimistically(nowMs: number): Promise<boolean> {
    const last = this.written;
    if (last?.spec?.holderIdentity !== this.options.identity) return false;
    const next: LeaseSpec = { ...last.spec, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: formatMicroTime(nowMs) };
    return this.update(last, next, nowMs, 'optimistic renewal');
  }

  /** Writes `spec` over `lease` (conditional on its resourceVersion); true when it took. */
  private async update(lease: Lease, spec: LeaseSpec, nowMs: number, what: string): Promise<boolean> {
    try {
      const updated = await this.leases.update({ ...lease, spec });
      this.written = updated;
      this.observe(updated.spec ?? spec, nowMs);
      return true;
    } catch (error) {
      this.written = undefined;
      return this.failed(what, error);
    }
  }

  private async create(nowMs: number): Promise<boolean> {
    const spec: LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: formatMicroTime(nowMs),
      renewTime: formatMicroTime(nowMs),
      leaseTransitions: 0,
    };
    try {
      const created = await this.leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.options.name, namespace: this.options.namespace }, spec });
      this.written = created;
      this.observe(created.spec ?? spec, nowMs);
      return true;
    } catch (error) {
      return this.failed('create', error);
    }
  }

  /** Gives the Lease up so the next candidate need not wait out the lease duration. */
  private async release(): Promise<void> {
    try {
      const lease = await this.leases.get(this.options.name);
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      const nowMs = this.clock.now();
      const spec: LeaseSpec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: formatMicroTime(nowMs), renewTime: formatMicroTime(nowMs) };
      await this.leases.update({ ...lease, spec });
    } catch (error) {
      this.failed('release', error);
    }
  }

  /** Notes a changed record and when we first saw it (expiry is judged by our clock, not the holder's). */
  private observe(spec: LeaseSpec, nowMs: number): void {
    if (JSON.stringify(spec) === JSON.stringify(this.observed)) return;
    const previousHolder = this.observed?.holderIdentity ?? '';
    this.observed = spec;
    this.observedTimeMs = nowMs;
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== previousHolder) this.options.callbacks.onNewLeader?.(holder);
  }

  private failed(what: string, error: unknown): false {
    const level = isConflict(error) ? 'debug' : 'warn';
    this.options.logger?.[level]({ lease: this.options.name, identity: this.options.identity, err: (error as Error).message }, `lease ${what} failed`);
    return false;
  }

  /** The attempt's outcome, or false when the deadline passes first. */
  private beforeDeadline(attempt: Promise<boolean>, deadlineMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.schedule(Math.max(0, deadlineMs - this.clock.now()), () => resolve(false));
      attempt.then(
        (ok) => {
          timer.cancel();
          resolve(ok);
        },
        () => {
          timer.cancel();
          resolve(false);
        },
      );
    });
  }

  private jittered(): number {
    return this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
  }
}
