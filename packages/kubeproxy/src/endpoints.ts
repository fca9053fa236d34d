/**
 * A Service port's endpoints as kube-proxy reads them from EndpointSlices, and the choice among them
 * that upstream's CategorizeEndpoints makes (topology hints aside). Pure: no I/O, no clock.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export type ProxyProtocol = 'TCP' | 'UDP';

/** One endpoint of one Service port: an address and the slice port's number, with its conditions. */
export interface ServiceEndpoint {
  readonly ip: string;
  readonly port: number;
  /** conditions.ready; absent means ready (the API's rule). */
  readonly ready: boolean;
  /** conditions.serving; absent means the same as ready. */
  readonly serving: boolean;
  /** conditions.terminating; absent means false. */
  readonly terminating: boolean;
  /** Whether endpoint.nodeName is this node. */
  readonly local: boolean;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** `<namespace>/<service>:<port name>/<protocol>`: upstream's ServicePortName, the key endpoints are grouped by. */
export function servicePortKey(namespace: string, service: string, portName: string, protocol: string): string {
  return `${namespace}/${service}:${portName}/${protocol}`;
}

/**
 * Groups the endpoints of IPv4 EndpointSlices by Service port (slice label
 * `kubernetes.io/service-name`, port name and protocol). An endpoint is its first address, as
 * upstream; one that several slices list (the same ip:port) is counted once, marked local if any
 * copy is. Slices of other address types, endpoints without an address and ports without a number
 * are ignored.
 */
export function endpointsByServicePort(slices: readonly EndpointSlice[], nodeName: string): Map<string, ServiceEndpoint[]> {
  const grouped = new Map<string, Map<string, ServiceEndpoint>>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    const namespace = slice.metadata?.namespace ?? 'default';
    if (service === undefined || service === '' || slice.addressType !== 'IPv4') continue;
    for (const port of slice.ports ?? []) {
      if (port.port === undefined) continue;
      const key = servicePortKey(namespace, service, port.name ?? '', port.protocol ?? 'TCP');
      let byAddress = grouped.get(key);
      if (byAddress === undefined) grouped.set(key, (byAddress = new Map()));
      for (const endpoint of slice.endpoints) {
        const ip = endpoint.addresses[0];
        if (ip === undefined) continue;
        const ready = endpoint.conditions?.ready ?? true;
        const entry: ServiceEndpoint = {
          ip,
          port: port.port,
          ready,
          serving: endpoint.conditions?.serving ?? ready,
          terminating: endpoint.conditions?.terminating ?? false,
          local: endpoint.nodeName !== undefined && endpoint.nodeName === nodeName,
        };
        const address = `${ip}:${port.port}`;
        if (!byAddress.has(address) || entry.local) byAddress.set(address, entry);
      }
    }
  }
  const result = new Map<string, ServiceEndpoint[]>();
  for (const [key, byAddress] of grouped) result.set(key, [...byAddress.values()].sort(compareEndpoints));
  return result;
}

export interface CategorizedEndpoints {
  /** For traffic policy Cluster: the ready endpoints; when none is ready, the serving terminating ones. */
  readonly cluster: readonly ServiceEndpoint[];
  /** For traffic policy Local: this node's ready endpoints; when none, its serving terminating ones. */
  readonly local: readonly ServiceEndpoint[];
}

/** Upstream's CategorizeEndpoints, without topology hints. */
export function categorizeEndpoints(endpoints: readonly ServiceEndpoint[]): CategorizedEndpoints {
  const servingTerminating = (endpoint: ServiceEndpoint): boolean => endpoint.serving && endpoint.terminating;
  const pick = (candidates: readonly ServiceEndpoint[]): ServiceEndpoint[] => {
    const ready = candidates.filter((endpoint) => endpoint.ready);
    return ready.length > 0 ? ready : candidates.filter(servingTerminating);
  };
  return { cluster: pick(endpoints), local: pick(endpoints.filter((endpoint) => endpoint.local)) };
}

function compareEndpoints(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.port - b.port;
}
