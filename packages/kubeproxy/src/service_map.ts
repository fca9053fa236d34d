/**
 * The virtual servers a node serves, from Services and EndpointSlices: what kube-proxy's service
 * and endpoints change trackers keep, flattened to one entry per listener. Pure: the caller passes
 * everything in (from informer caches) and gets the whole desired state back, so a sync is
 * level-triggered and safe to run again at any time.
 *
 * Rules (upstream's, where k8ts has the feature):
 * - A Service with no cluster IP (headless `None`, or not allocated yet) or of type ExternalName
 *   gets nothing; so does one labelled `service.kubernetes.io/service-proxy-name` (another proxy's).
 * - Each TCP/UDP port gets its IPv4 cluster IP(s):port (SCTP is ignored), and, for NodePort and
 *   LoadBalancer Services, its nodePort on every node-port address (no cloud: no load balancer IPs).
 * - Endpoints come from the Service's slices, matched by port name and protocol; cluster IP traffic
 *   follows internalTrafficPolicy, node port traffic externalTrafficPolicy (see categorizeEndpoints).
 * - sessionAffinity ClientIP gives the virtual server an affinity timeout (default 10800 s).
 * - Two Services claiming one ip:port/protocol (the apiserver should prevent it): the first by
 *   namespace/name keeps it and the other is reported in `conflicts`.
 */
import { DEFAULT_AFFINITY_TIMEOUT_SECONDS, type Backend } from '@k8ts/l4proxy';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isIPv4 } from 'node:net';
import { categorizeEndpoints, endpointsByServicePort, servicePortKey, type ProxyProtocol, type ServiceEndpoint } from './endpoints.js';

/** Services with this label are left to the proxy it names, as upstream. */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';

/** Listen on every address of the node: the default of `nodePortAddresses`. */
export const ALL_NODE_ADDRESSES: readonly string[] = ['0.0.0.0'];

export type VirtualServerKind = 'ClusterIP' | 'NodePort';

/** One listener's worth: an address, port and protocol, and where its connections go. */
export interface VirtualServer {
  /** `<protocol>/<ip>:<port>`, unique in a ServiceMap. */
  readonly key: string;
  readonly ip: string;
  readonly port: number;
  readonly protocol: ProxyProtocol;
  readonly kind: VirtualServerKind;
  /** `<namespace>/<service>:<port name>/<protocol>`. */
  readonly servicePort: string;
  /** The endpoints this traffic may use, sorted; empty: connections are refused. */
  readonly endpoints: readonly Backend[];
  /** sessionAffinity ClientIP: how long a client keeps its endpoint; undefined for None. */
  readonly affinityTimeoutSeconds: number | undefined;
}

export interface ServiceMapInput {
  /** This node's name, as endpoints' `nodeName` says it (for the Local traffic policies). */
  readonly nodeName: string;
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  /** Addresses node ports listen on; default ['0.0.0.0'] (every address of the node). */
  readonly nodePortAddresses?: readonly string[];
  /** Cluster IPs served by something else (the node's DNS server on the kube-dns IP): no virtual servers. */
  readonly skipClusterIPs?: ReadonlySet<string>;
}

export interface ServiceMap {
  /** Sorted by key. */
  readonly virtualServers: readonly VirtualServer[];
  /** The IPv4 cluster IPs of the Services proxied (skipped ones included), sorted: the addresses to hold. */
  readonly clusterIPs: readonly string[];
  /** How many Services have at least one virtual server. */
  readonly serviceCount: number;
  /** Virtual servers dropped because an earlier Service claimed the same key. */
  readonly conflicts: readonly { readonly key: string; readonly servicePort: string; readonly heldBy: string }[];
}

export function buildServiceMap(input: ServiceMapInput): ServiceMap {
  const nodePortAddresses = input.nodePortAddresses ?? ALL_NODE_ADDRESSES;
  const skipClusterIPs = input.skipClusterIPs ?? new Set<string>();
  const endpoints = endpointsByServicePort(input.endpointSlices, input.nodeName);
  const byKey = new Map<string, VirtualServer>();
  const conflicts: { key: string; servicePort: string; heldBy: string }[] = [];
  const clusterIPs = new Set<string>();
  const proxied = new Set<string>();

  for (const service of [...input.services].sort(compareServices)) {
    const ips = proxiedClusterIPs(service);
    if (ips.length === 0) continue;
    const namespace = service.metadata?.namespace ?? 'default';
    const name = service.metadata?.name ?? '';
    for (const ip of ips) clusterIPs.add(ip);
    for (const port of service.spec?.ports ?? []) {
      const protocol = port.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') continue;
      const servicePort = servicePortKey(namespace, name, port.name ?? '', protocol);
      for (const server of virtualServersOfPort(service, port, protocol, servicePort, endpoints.get(servicePort) ?? [], { ips, nodePortAddresses, skipClusterIPs })) {
        const held = byKey.get(server.key);
        if (held !== undefined) {
          conflicts.push({ key: server.key, servicePort, heldBy: held.servicePort });
          continue;
        }
        byKey.set(server.key, server);
        proxied.add(`${namespace}/${name}`);
      }
    }
  }
  return {
    virtualServers: [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    clusterIPs: [...clusterIPs].sort(),
    serviceCount: proxied.size,
    conflicts,
  };
}

/** The Service's IPv4 cluster IPs, or none when kube-proxy leaves it alone. */
function proxiedClusterIPs(service: Service): string[] {
  const spec = service.spec;
  if (spec === undefined || spec.type === 'ExternalName') return [];
  if (service.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return [];
  const ips = spec.clusterIPs ?? (spec.clusterIP === undefined ? [] : [spec.clusterIP]);
  return ips.filter((ip) => isIPv4(ip));
}

function virtualServersOfPort(
  service: Service,
  port: ServicePort,
  protocol: ProxyProtocol,
  servicePort: string,
  endpoints: readonly ServiceEndpoint[],
  where: { ips: readonly string[]; nodePortAddresses: readonly string[]; skipClusterIPs: ReadonlySet<string> },
): VirtualServer[] {
  const spec = service.spec ?? {};
  const { cluster, local } = categorizeEndpoints(endpoints);
  const affinityTimeoutSeconds = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS) : undefined;
  const make = (kind: VirtualServerKind, ip: string, listenPort: number, chosen: readonly ServiceEndpoint[]): VirtualServer => ({
    key: `${protocol}/${ip}:${listenPort}`,
    ip,
    port: listenPort,
    protocol,
    kind,
    servicePort,
    endpoints: chosen.map((endpoint) => ({ host: endpoint.ip, port: endpoint.port })),
    affinityTimeoutSeconds,
  });
  const servers: VirtualServer[] = [];
  const internal = spec.internalTrafficPolicy === 'Local' ? local : cluster;
  for (const ip of where.ips) if (!where.skipClusterIPs.has(ip)) servers.push(make('ClusterIP', ip, port.port, internal));
  const nodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (port.nodePort ?? 0) : 0;
  if (nodePort > 0) {
    const external = spec.externalTrafficPolicy === 'Local' ? local : cluster;
    for (const address of where.nodePortAddresses) servers.push(make('NodePort', address, nodePort, external));
  }
  return servers;
}

function compareServices(a: Service, b: Service): number {
  const key = (service: Service): string => `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
  const [left, right] = [key(a), key(b)];
  return left < right ? -1 : left > right ? 1 : 0;
}
