/**
 * kube-proxy for one node: watches Services and EndpointSlices through shared informers and keeps
 * one userspace L4 listener per virtual server (cluster IP:port and node ports), as IPVS mode keeps
 * one virtual server each, with the cluster IPs held as local addresses of the node.
 *
 * Contract:
 * - Nothing is synced before both informers have synced (an empty cache would drop every address).
 * - Each informer event asks for a sync after `minSyncPeriodMs` (changes within it are coalesced);
 *   a sync also runs every `syncPeriodMs`, and `retryPeriodMs` after a sync that left something
 *   undone. Syncs never overlap: one asked for during a sync runs after it.
 * - A sync is level-triggered: it builds the whole ServiceMap from the caches, closes the listeners
 *   whose virtual server went, holds exactly the cluster IPs (plus `skipClusterIPs`) through the
 *   ServiceAddressHolder, updates the rest in place (new endpoints reach the balancer without a
 *   listener restart) and opens the missing ones.
 * - A listener that cannot bind (EADDRINUSE when several agents share a network namespace;
 *   EADDRNOTAVAIL when the address could not be held) is logged and counted, and tried again on the
 *   next sync; every other listener keeps serving.
 * - `stop()` closes every listener; the held addresses stay (the holder's owner removes them), as
 *   upstream leaves its rules behind on exit.
 */
import { every, realClock, type Clock, type TimerHandle } from '@k8ts/base';
import type { KubeObject, SharedInformer, SharedInformerFactory } from '@k8ts/client';
import { DEFAULT_UDP_IDLE_TIMEOUT_MS } from '@k8ts/l4proxy';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { pino, type Logger } from 'pino';
import { ServiceListener, type ListenerLimits, type ListenerState } from './listener.js';
import { ALL_NODE_ADDRESSES, buildServiceMap, type VirtualServer } from './service_map.js';

/** Holds the Service cluster IPs as local addresses of the node (a dummy interface, as IPVS mode's kube-ipvs0). */
export interface ServiceAddressHolder {
  /** Holds exactly these IPv4 addresses; ones held before and not listed are released. */
  ensure(ips: readonly string[]): Promise<void>;
}

export type ServiceObject = Service & KubeObject;
export type EndpointSliceObject = EndpointSlice & KubeObject;

export interface KubeProxyOptions {
  readonly nodeName: string;
  /** The process's shared factory; KubeProxy asks it for services and discovery.k8s.io/v1 endpointslices. Start it before or after start(). */
  readonly informers: SharedInformerFactory;
  readonly addresses: ServiceAddressHolder;
  /** Addresses node ports listen on; default ['0.0.0.0'] (all of the node's). */
  readonly nodePortAddresses?: readonly string[];
  /** Cluster IPs not proxied (the node's DNS server binds the kube-dns IP itself); they are still held. */
  readonly skipClusterIPs?: readonly string[];
  /** Debounce of informer events; default 100 ms. */
  readonly minSyncPeriodMs?: number;
  /** Periodic full sync; default 30 s (kube-proxy's --iptables-sync-period / --ipvs-sync-period). */
  readonly syncPeriodMs?: number;
  /** Next sync after one that failed to bind or hold something; default 1 s. */
  readonly retryPeriodMs?: number;
  /** Per TCP listener; default 10000. */
  readonly maxConnections?: number;
  /** Per dial; default 2000 ms, then another endpoint is tried. */
  readonly connectTimeoutMs?: number;
  /** Per UDP listener; default 4096. */
  readonly maxUdpFlows?: number;
  /** Default @k8ts/l4proxy's (5 s). */
  readonly udpIdleTimeoutMs?: number;
  readonly logger?: Logger;
  /** Drives the sync timers and the proxies' timers. */
  readonly clock?: Clock;
}

export interface KubeProxyCounters {
  /** Services with at least one virtual server, at the last sync. */
  readonly services: number;
  /** Listeners bound now. */
  readonly listeners: number;
  /** Listener binds that failed, since start. */
  readonly bindFailures: number;
  /** Failed calls to the address holder, since start. */
  readonly addressFailures: number;
  readonly syncs: number;
  /** clock.now() when the last sync finished; undefined before the first. */
  readonly lastSyncTimeMs: number | undefined;
}

export class KubeProxy {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly limits: ListenerLimits;
  private readonly minSyncPeriodMs: number;
  private readonly retryPeriodMs: number;
  private readonly skipClusterIPs: ReadonlySet<string>;
  private readonly services: SharedInformer<ServiceObject>;
  private readonly slices: SharedInformer<EndpointSliceObject>;
  private readonly listeners = new Map<string, ServiceListener>();
  /** Listeners whose bind failed and has not succeeded since: logged once, then retried quietly. */
  private readonly unbound = new Set<string>();
  private readonly handlerRegistrations: { remove(): void }[] = [];
  private pending: { atMs: number; timer: TimerHandle } | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private ready = false;
  private stopped = false;
  private stopPeriodic: (() => void) | undefined;
  private counts = { services: 0, bindFailures: 0, addressFailures: 0, syncs: 0, lastSyncTimeMs: undefined as number | undefined };

  constructor(private readonly options: KubeProxyOptions) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'kube-proxy', node: options.nodeName });
    this.clock = options.clock ?? realClock;
    this.minSyncPeriodMs = options.minSyncPeriodMs ?? 100;
    this.retryPeriodMs = options.retryPeriodMs ?? 1000;
    this.skipClusterIPs = new Set(options.skipClusterIPs ?? []);
    this.limits = {
      maxConnections: options.maxConnections ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      maxUdpFlows: options.maxUdpFlows ?? 4096,
      udpIdleTimeoutMs: options.udpIdleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS,
    };
    this.services = options.informers.informerFor<ServiceObject>('', 'v1', 'services');
    this.slices = options.informers.informerFor<EndpointSliceObject>('discovery.k8s.io', 'v1', 'endpointslices');
  }

  /** Resolves after the informers have synced and the first sync is done (false: an informer stopped first). */
  async start(): Promise<boolean> {
    const onChange = {
      onAdd: () => this.requestSync(),
      // A resync hands every object over unchanged (old === new): the periodic sync covers that.
      onUpdate: (old: unknown, updated: unknown) => {
        if (old !== updated) this.requestSync();
      },
      onDelete: () => this.requestSync(),
    };
    this.handlerRegistrations.push(this.services.addEventHandler(onChange), this.slices.addEventHandler(onChange));
    const synced = (await Promise.all([this.services.waitForSync(), this.slices.waitForSync()])).every(Boolean);
    if (!synced || this.stopped) return false;
    this.ready = true;
    this.stopPeriodic = every(this.clock, this.options.syncPeriodMs ?? 30_000, () => this.requestSync(0));
    this.runSync();
    await this.whenIdle();
    return true;
  }

  /** Closes every listener; held addresses are left to the holder's owner. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPeriodic?.();
    this.pending?.timer.cancel();
    this.pending = undefined;
    for (const registration of this.handlerRegistrations.splice(0)) registration.remove();
    await this.syncing;
    const closing = [...this.listeners.values()].map((listener) => listener.close());
    this.listeners.clear();
    await Promise.all(closing);
  }

  counters(): KubeProxyCounters {
    return { ...this.counts, listeners: this.listeners.size };
  }

  /** The listeners bound now, sorted by key, with their endpoints and proxy counters. */
  listenerStates(): ListenerState[] {
    return [...this.listeners.values()].map((listener) => listener.state()).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** Resolves when no sync is running (one asked for during it included). */
  async whenIdle(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing;
  }

  private requestSync(delayMs = this.minSyncPeriodMs): void {
    if (!this.ready || this.stopped) return;
    const atMs = this.clock.now() + delayMs;
    if (this.pending !== undefined && this.pending.atMs <= atMs) return;
    this.pending?.timer.cancel();
    this.pending = {
      atMs,
      timer: this.clock.schedule(delayMs, () => {
        this.pending = undefined;
        this.runSync();
      }),
    };
  }

  private runSync(): void {
    if (this.stopped) return;
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.sync()
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'kube-proxy sync failed');
        this.requestSync(this.retryPeriodMs);
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.requestSync(0);
        }
      });
  }

  private async sync(): Promise<void> {
    const map = buildServiceMap({
      nodeName: this.options.nodeName,
      services: this.services.indexer.list(),
      endpointSlices: this.slices.indexer.list(),
      nodePortAddresses: this.options.nodePortAddresses ?? ALL_NODE_ADDRESSES,
      skipClusterIPs: this.skipClusterIPs,
    });
    for (const conflict of map.conflicts) this.logger.warn(conflict, 'two Services claim one address and port: the first keeps it');
    const desired = new Map(map.virtualServers.map((server) => [server.key, server]));
    let incomplete = false;

    // Close first: an address is only released once nothing listens on it.
    const gone = [...this.listeners].filter(([key]) => !desired.has(key));
    for (const [key] of gone) this.listeners.delete(key);
    await Promise.all(gone.map(async ([key, listener]) => {
      await listener.close();
      this.logger.info({ listener: key }, 'listener closed: its Service port is gone');
    }));

    try {
      await this.options.addresses.ensure([...new Set([...map.clusterIPs, ...this.skipClusterIPs])].sort());
    } catch (error) {
      incomplete = true;
      this.counts.addressFailures += 1;
      this.logger.error({ err: error }, 'could not hold the cluster IPs: their listeners wait for the next sync');
    }

    for (const key of this.unbound) if (!desired.has(key)) this.unbound.delete(key);
    const opening: Promise<void>[] = [];
    for (const server of desired.values()) {
      const listener = this.listeners.get(server.key);
      if (listener !== undefined) listener.update(server);
      else opening.push(this.open(server).then((ok) => void (incomplete ||= !ok)));
    }
    await Promise.all(opening);

    this.counts.services = map.serviceCount;
    this.counts.syncs += 1;
    this.counts.lastSyncTimeMs = this.clock.now();
    if (incomplete) this.requestSync(this.retryPeriodMs);
  }

  /** Binds one virtual server's listener; false (logged, counted) when the bind fails. */
  private async open(server: VirtualServer): Promise<boolean> {
    try {
      const listener = await ServiceListener.open(server, this.clock, this.limits, this.logger);
      if (this.stopped) {
        await listener.close();
        return true;
      }
      this.listeners.set(server.key, listener);
      this.unbound.delete(server.key);
      this.logger.info({ listener: server.key, servicePort: server.servicePort, endpoints: server.endpoints.length }, 'listener opened');
      return true;
    } catch (error) {
      this.counts.bindFailures += 1;
      // Agents sharing a network namespace retry each other's addresses every second: say it once.
      const first = !this.unbound.has(server.key);
      this.unbound.add(server.key);
      this.logger[first ? 'warn' : 'debug']({ err: error, listener: server.key, servicePort: server.servicePort }, 'listener could not bind: retried on each sync');
      return false;
    }
  }
}
