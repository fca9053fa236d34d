import type { Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, column, formatLabels, joinHostPort, listWithMore } from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer, TableCell } from './types.js';

/** NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE | wide: SELECTOR */
export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', FIELD_DOCS.serviceType),
    column('Cluster-IP', 'string', FIELD_DOCS.serviceClusterIP),
    column('External-IP', 'string', FIELD_DOCS.serviceExternalIPs),
    column('Port(s)', 'string', FIELD_DOCS.servicePorts),
    AGE_COLUMN,
    column('Selector', 'string', FIELD_DOCS.serviceSelector, { wide: true }),
  ],
  cells: (object, now) => serviceCells(object as Service, now),
};

function serviceCells(service: Service, now: Date): TableCell[] {
  const spec = service.spec ?? {};
  const ports = portsString(spec.ports ?? []);
  return [
    service.metadata?.name ?? '',
    serviceType(service),
    spec.clusterIPs?.[0] ?? spec.clusterIP ?? '<none>',
    externalIP(service),
    ports === '' ? '<none>' : ports,
    timeSince(service.metadata?.creationTimestamp, now),
    formatLabels(spec.selector),
  ];
}

// Stored services are defaulted: an absent type is ClusterIP, an absent protocol TCP.
function serviceType(service: Service): string {
  return service.spec?.type ?? 'ClusterIP';
}

/** "80/TCP", or "80:30080/TCP" with a node port, comma-joined. */
function portsString(ports: readonly ServicePort[]): string {
  return ports
    .map((port) => {
      const protocol = port.protocol ?? 'TCP';
      const nodePort = port.nodePort ?? 0;
      return nodePort > 0 ? `${port.port}:${nodePort}/${protocol}` : `${port.port}/${protocol}`;
    })
    .join(',');
}

/** External IPs; a LoadBalancer's ingress addresses first, "<pending>" while it has none. */
function externalIP(service: Service): string {
  const externalIPs = service.spec?.externalIPs ?? [];
  switch (serviceType(service)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      // Server-side tables are always "wide", so the list is not clipped to 16 characters.
      const ingress = new Set<string>();
      for (const entry of service.status?.loadBalancer?.ingress ?? []) {
        const address = entry.ip !== undefined && entry.ip !== '' ? entry.ip : entry.hostname;
        if (address !== undefined && address !== '') ingress.add(address);
      }
      const addresses = [...[...ingress].sort(), ...externalIPs];
      return addresses.length > 0 ? addresses.join(',') : '<pending>';
    }
    case 'ExternalName':
      return service.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** NAME ENDPOINTS AGE */
export const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', FIELD_DOCS.endpointsSubsets), AGE_COLUMN],
  cells: (object, now) => {
    const endpoints = object as Endpoints;
    return [endpoints.metadata?.name ?? '', endpointsString(endpoints), timeSince(endpoints.metadata?.creationTimestamp, now)];
  },
};

const MAX_LISTED = 3;

/** "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."; bare IPs for subsets without ports; "<none>". */
export function endpointsString(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const listed: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const ips = (subset.addresses ?? []).map((address) => address.ip);
    const ports = subset.ports ?? [];
    const perPort = ports.length === 0 ? [ips] : ports.map((port) => ips.map((ip) => joinHostPort(ip, port.port)));
    for (const entries of perPort) {
      count += entries.length;
      listed.push(...entries.slice(0, MAX_LISTED - listed.length));
    }
  }
  const text = listed.join(',');
  return count > MAX_LISTED ? `${text} + ${count - MAX_LISTED} more...` : text;
}

/** NAME ADDRESSTYPE PORTS ENDPOINTS AGE */
export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', FIELD_DOCS.endpointSliceAddressType),
    column('Ports', 'string', FIELD_DOCS.endpointSlicePorts),
    column('Endpoints', 'string', FIELD_DOCS.endpointSliceEndpoints),
    AGE_COLUMN,
  ],
  cells: (object, now) => endpointSliceCells(object as EndpointSlice, now),
};

function endpointSliceCells(slice: EndpointSlice, now: Date): TableCell[] {
  // A port with no number is named, or "*" (all ports).
  const ports = (slice.ports ?? []).map((port) =>
    port.port !== undefined ? String(port.port) : (port.name ?? '*'),
  );
  const addresses = (slice.endpoints ?? []).flatMap((endpoint) => endpoint.addresses ?? []);
  return [
    slice.metadata?.name ?? '',
    slice.addressType ?? '',
    listWithMore(ports, MAX_LISTED),
    listWithMore(addresses, MAX_LISTED),
    timeSince(slice.metadata?.creationTimestamp, now),
  ];
}
