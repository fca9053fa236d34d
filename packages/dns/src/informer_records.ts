import { isIPv4, isIPv6 } from 'node:net';
import type { KubeObject, Lister } from '@k8ts/client';
import type { Answer, RecordType } from 'dns-packet';
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { NO_DATA, NO_SUCH_NAME, type DnsLookupResult, type DnsRecordSource } from './record_source.js';
import { normalizeName, parseClusterName } from './query_name.js';

export type ServiceObject = Service & KubeObject;
export type EndpointSliceObject = EndpointSlice & KubeObject;
export type PodObject = Pod & KubeObject;
export type NamespaceObject = Namespace & KubeObject;

export interface RecordListers {
  readonly services: Lister<ServiceObject>;
  /** discovery.k8s.io/v1 EndpointSlices, found by their `kubernetes.io/service-name` label. */
  readonly endpointSlices: Lister<EndpointSliceObject>;
  /** Only read in `podMode: 'verified'`: a pod name answers only if a pod in that namespace has the IP. */
  readonly pods?: Lister<PodObject>;
  /**
   * Whether a namespace exists (CoreDNS answers NXDOMAIN under a missing one). Without it, a
   * namespace exists when it holds a Service or, in verified mode, a Pod.
   */
  readonly namespaces?: Lister<NamespaceObject>;
}

export interface InformerRecordOptions {
  /** CoreDNS's `pods insecure` (the default here: the IP in the name, as given) or `pods verified`. */
  readonly podMode?: 'insecure' | 'verified';
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One address a name resolves to, with the port the SRV record gives (undefined: no port). */
interface Target {
  readonly address: string;
  readonly port: number | undefined;
  /** The name the SRV record points at. */
  readonly host: string;
}

/**
 * The records CoreDNS's kubernetes plugin serves, read from informer caches:
 * - `<svc>.<ns>.svc.<zone>`: A/AAAA of the cluster IPs; of a headless Service, the addresses of
 *   its ready endpoints; of an ExternalName Service, a CNAME.
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` (and SRV on `<svc>...` for every port): SRV to the
 *   Service's name, or for a headless Service one per ready endpoint and port, pointing at
 *   `<hostname or dashed IP>.<svc>.<ns>.svc.<zone>`, with the targets' addresses as glue.
 * - `<hostname or dashed IP>.<svc>.<ns>.svc.<zone>`: that endpoint's addresses.
 * - `<a-b-c-d>.<ns>.pod.<zone>`: the IP written in the name.
 * A Service with nothing to answer for a query (no matching port, no ready endpoint) is NXDOMAIN,
 * as in CoreDNS.
 */
export function informerRecordSource(listers: RecordListers, options: InformerRecordOptions = {}): DnsRecordSource {
  const podMode = options.podMode ?? 'insecure';
  const namespaceExists = (namespace: string): boolean => {
    if (listers.namespaces !== undefined) return listers.namespaces.get(namespace) !== undefined;
    if (listers.services.namespace(namespace).list().length > 0) return true;
    return podMode === 'verified' && listers.pods !== undefined && listers.pods.namespace(namespace).list().length > 0;
  };

  return {
    lookup(name: string, type: RecordType, zone: string): DnsLookupResult {
      const parsed = parseClusterName(name, normalizeName(zone));
      switch (parsed.kind) {
        case 'apex':
          return NO_DATA;
        case 'invalid':
          return NO_SUCH_NAME;
        case 'namespace':
          return parsed.namespace === undefined || namespaceExists(parsed.namespace) ? NO_DATA : NO_SUCH_NAME;
        case 'pod': {
          if (!namespaceExists(parsed.namespace)) return NO_SUCH_NAME;
          const ip = ipFromPodLabel(parsed.pod);
          if (ip === undefined) return NO_SUCH_NAME;
          if (podMode === 'verified' && !podHasIp(listers.pods, parsed.namespace, ip)) return NO_SUCH_NAME;
          return addressResult(name, type, [ip]);
        }
        case 'service': {
          const service = listers.services.namespace(parsed.namespace).get(parsed.service);
          if (service === undefined) return NO_SUCH_NAME;
          const base = `${parsed.service}.${parsed.namespace}.svc.${normalizeName(zone)}`;
          return serviceRecords(name, type, service, parsed, base, () => readyEndpoints(listers.endpointSlices, parsed.namespace, parsed.service));
        }
      }
    },
  };
}

interface ServiceQuery {
  readonly endpoint: string | undefined;
  readonly port: string | undefined;
  readonly protocol: string | undefined;
}

function serviceRecords(name: string, type: RecordType, service: ServiceObject, query: ServiceQuery, base: string, endpoints: () => ReadyEndpoint[]): DnsLookupResult {
  if (service.spec?.type === 'ExternalName') {
    const target = service.spec.externalName;
    if (query.endpoint !== undefined || !target) return NO_SUCH_NAME;
    return { exists: true, answers: [{ name, type: 'CNAME', data: normalizeName(target) }], additionals: [] };
  }
  const targets: Target[] = [];
  if (isHeadless(service) || query.endpoint !== undefined) {
    for (const endpoint of endpoints()) {
      const hostname = endpointHostname(endpoint.endpoint);
      if (query.endpoint !== undefined && hostname !== query.endpoint) continue;
      for (const port of endpoint.ports) {
        if (!portMatches(query, port.name ?? '', port.protocol ?? 'TCP')) continue;
        for (const address of endpoint.endpoint.addresses) targets.push({ address, port: port.port, host: `${hostname}.${base}` });
      }
    }
  } else {
    for (const port of service.spec?.ports ?? []) {
      if (!portMatches(query, port.name ?? '', port.protocol ?? 'TCP')) continue;
      for (const address of clusterIps(service)) targets.push({ address, port: port.port, host: base });
    }
  }
  if (targets.length === 0) return NO_SUCH_NAME;
  if (type === 'SRV') return srvResult(name, targets);
  return addressResult(name, type, targets.map((target) => target.address));
}

/** A or AAAA records at `name` for the addresses of the asked family; NODATA for other types. */
function addressResult(name: string, type: RecordType, addresses: readonly string[]): DnsLookupResult {
  const unique = [...new Set(addresses)];
  if (type === 'A') return { exists: true, answers: unique.filter((ip) => isIPv4(ip)).map((ip) => ({ name, type: 'A', data: ip })), additionals: [] };
  if (type === 'AAAA') return { exists: true, answers: unique.filter((ip) => isIPv6(ip)).map((ip) => ({ name, type: 'AAAA', data: ip })), additionals: [] };
  return NO_DATA;
}

function srvResult(name: string, targets: readonly Target[]): DnsLookupResult {
  const seen = new Set<string>();
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  const withPorts = targets.filter((target) => target.port !== undefined);
  // CoreDNS spreads a weight of 100 over the records of one priority.
  const weight = Math.max(1, Math.floor(100 / Math.max(1, withPorts.length)));
  for (const target of withPorts) {
    const key = `${target.host} ${target.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    answers.push({ name, type: 'SRV', data: { priority: 0, weight, port: target.port as number, target: target.host } });
  }
  const glue = new Set<string>();
  for (const target of withPorts) {
    const key = `${target.host} ${target.address}`;
    if (glue.has(key)) continue;
    glue.add(key);
    additionals.push({ name: target.host, type: isIPv6(target.address) ? 'AAAA' : 'A', data: target.address });
  }
  return { exists: true, answers, additionals };
}

function portMatches(query: ServiceQuery, name: string, protocol: string): boolean {
  return (query.port === undefined || query.port === name.toLowerCase()) && (query.protocol === undefined || query.protocol === protocol.toLowerCase());
}

function isHeadless(service: ServiceObject): boolean {
  return service.spec?.clusterIP === 'None';
}

function clusterIps(service: ServiceObject): string[] {
  const ips = service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}

/** A slice's port as far as DNS cares. */
interface PortView {
  readonly name?: string | undefined;
  readonly protocol?: string | undefined;
  readonly port: number | undefined;
}

interface ReadyEndpoint {
  readonly endpoint: Endpoint;
  /** The slice's ports; a slice with none gives one port-less entry (A records, no SRV). */
  readonly ports: readonly PortView[];
}

/** Ready endpoints (a missing condition counts as ready, as upstream) of a Service's slices. */
function readyEndpoints(slices: Lister<EndpointSliceObject>, namespace: string, service: string): ReadyEndpoint[] {
  const result: ReadyEndpoint[] = [];
  for (const slice of slices.namespace(namespace).list(`${SERVICE_NAME_LABEL}=${service}`)) {
    const ports: PortView[] = slice.ports && slice.ports.length > 0 ? slice.ports.map((port) => ({ name: port.name, protocol: port.protocol, port: port.port })) : [{ port: undefined }];
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      result.push({ endpoint, ports });
    }
  }
  return result;
}

/** The endpoint's DNS label: its hostname, or its first address with dashes (CoreDNS's default). */
function endpointHostname(endpoint: Endpoint): string {
  if (endpoint.hostname) return endpoint.hostname.toLowerCase();
  const address = endpoint.addresses[0] ?? '';
  return address.replaceAll(isIPv6(address) ? ':' : '.', '-').toLowerCase();
}

/** `10-0-0-1` → 10.0.0.1; `fd00--1` → fd00::1; undefined unless an IP. */
function ipFromPodLabel(label: string): string | undefined {
  const ip = (label.split('-').length === 4 && !label.includes('--')) ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  return isIPv4(ip) || isIPv6(ip) ? ip : undefined;
}

function podHasIp(pods: Lister<PodObject> | undefined, namespace: string, ip: string): boolean {
  if (pods === undefined) return false;
  return pods.namespace(namespace).list().some((pod) => pod.status?.podIP === ip || (pod.status?.podIPs ?? []).some((podIp) => podIp.ip === ip));
}

