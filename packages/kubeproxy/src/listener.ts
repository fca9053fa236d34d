/**
 * One virtual server's listener: an @k8ts/l4proxy TcpProxy or UdpProxy on ip:port, and the balancer
 * that picks its endpoints. Endpoint changes go into the balancer in place (open connections and
 * the listening socket are left alone); a change of session affinity swaps the balancer.
 */
import type { Clock } from '@k8ts/base';
import {
  TcpProxy,
  UdpProxy,
  clientIpAffinity,
  roundRobin,
  sameBackend,
  type Backend,
  type Balancer,
  type TcpProxyCounters,
  type UdpProxyCounters,
} from '@k8ts/l4proxy';
import type { Logger } from 'pino';
import type { VirtualServer } from './service_map.js';

export interface ListenerLimits {
  /** TCP connections open at once per listener. */
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** UDP flows open at once per listener, and how long an idle one lives. */
  readonly maxUdpFlows: number;
  readonly udpIdleTimeoutMs: number;
}

export type ListenerState = {
  readonly key: string;
  readonly servicePort: string;
  readonly kind: VirtualServer['kind'];
  readonly endpoints: readonly Backend[];
  readonly affinityTimeoutSeconds: number | undefined;
} & ({ readonly protocol: 'TCP'; readonly counters: TcpProxyCounters } | { readonly protocol: 'UDP'; readonly counters: UdpProxyCounters });

export class ServiceListener {
  private balancer: Balancer;
  private readonly proxy: TcpProxy | UdpProxy;

  private constructor(
    private server: VirtualServer,
    private readonly clock: Clock,
    limits: ListenerLimits,
    logger: Logger,
  ) {
    this.balancer = makeBalancer(server, clock);
    const child = logger.child({ listener: server.key, servicePort: server.servicePort });
    const pickBackend = this.balancer.pick;
    this.proxy =
      server.protocol === 'TCP'
        ? new TcpProxy({ host: server.ip, port: server.port, pickBackend, maxConnections: limits.maxConnections, connectTimeoutMs: limits.connectTimeoutMs, logger: child, clock })
        : new UdpProxy({ host: server.ip, port: server.port, pickBackend, maxFlows: limits.maxUdpFlows, idleTimeoutMs: limits.udpIdleTimeoutMs, logger: child, clock });
  }

  /** Binds ip:port; rejects (with nothing left open) when the bind fails, e.g. EADDRINUSE. */
  static async open(server: VirtualServer, clock: Clock, limits: ListenerLimits, logger: Logger): Promise<ServiceListener> {
    const listener = new ServiceListener(server, clock, limits, logger);
    try {
      await listener.proxy.listen();
    } catch (error) {
      // A UDP socket whose bind failed is already closed; closing it again throws. Either way it is gone.
      await listener.proxy.close().catch(() => undefined);
      throw error;
    }
    return listener;
  }

  /** Takes the virtual server's new endpoints and affinity; the key (ip, port, protocol) never changes. */
  update(server: VirtualServer): void {
    const previous = this.server;
    this.server = server;
    if (previous.affinityTimeoutSeconds !== server.affinityTimeoutSeconds) {
      this.balancer = makeBalancer(server, this.clock);
      this.proxy.setPickBackend(this.balancer.pick);
    } else if (!sameBackends(this.balancer.backends(), server.endpoints)) {
      this.balancer.setBackends(server.endpoints);
    }
  }

  close(): Promise<void> {
    return this.proxy.close();
  }

  state(): ListenerState {
    const common = {
      key: this.server.key,
      servicePort: this.server.servicePort,
      kind: this.server.kind,
      endpoints: this.balancer.backends(),
      affinityTimeoutSeconds: this.server.affinityTimeoutSeconds,
    };
    return this.proxy instanceof TcpProxy ? { ...common, protocol: 'TCP', counters: this.proxy.counters() } : { ...common, protocol: 'UDP', counters: this.proxy.counters() };
  }
}

function makeBalancer(server: VirtualServer, clock: Clock): Balancer {
  if (server.affinityTimeoutSeconds === undefined) return roundRobin(server.endpoints);
  return clientIpAffinity(server.endpoints, { timeoutSeconds: server.affinityTimeoutSeconds, clock });
}

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  return a.length === b.length && a.every((backend, index) => {
    const other = b[index];
    return other !== undefined && sameBackend(backend, other);
  });
}
