import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, test } from 'vitest';
import { buildServiceMap, type ServiceMapInput } from './service_map.js';

const NODE = 'node-a';

function service(name: string, spec: ServiceSpec, labels?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', ...(labels ? { labels } : {}) }, spec };
}

function slice(name: string, serviceName: string, ports: EndpointPort[], endpoints: Endpoint[], addressType = 'IPv4'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ports,
    endpoints,
  };
}

const ready = (ip: string, nodeName?: string): Endpoint => ({ addresses: [ip], conditions: { ready: true }, ...(nodeName ? { nodeName } : {}) });
const notReady = (ip: string, nodeName?: string): Endpoint => ({ addresses: [ip], conditions: { ready: false, serving: false, terminating: false }, ...(nodeName ? { nodeName } : {}) });
const servingTerminating = (ip: string, nodeName?: string): Endpoint => ({ addresses: [ip], conditions: { ready: false, serving: true, terminating: true }, ...(nodeName ? { nodeName } : {}) });
const http: EndpointPort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const web = (spec: Partial<ServiceSpec> = {}): Service => service('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }], ...spec });

/** The map as `key → endpoint ip:port list` (and affinity when set), the shape each case states. */
function summary(input: Partial<ServiceMapInput>): Record<string, string> {
  const map = buildServiceMap({ nodeName: NODE, services: [], endpointSlices: [], ...input });
  return Object.fromEntries(
    map.virtualServers.map((server) => [
      server.key,
      server.endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`).join(',') + (server.affinityTimeoutSeconds === undefined ? '' : ` affinity=${server.affinityTimeoutSeconds}`),
    ]),
  );
}

describe('buildServiceMap', () => {
  const cases: { name: string; input: Partial<ServiceMapInput>; expected: Record<string, string> }[] = [
    {
      name: 'ClusterIP: ready endpoints only',
      input: { services: [web()], endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2'), notReady('10.244.1.3'), ready('10.244.2.4')])] },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080,10.244.2.4:8080' },
    },
    {
      name: 'conditions absent: ready (the API default)',
      input: { services: [web()], endpointSlices: [slice('web-1', 'web', http, [{ addresses: ['10.244.1.2'] }])] },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080' },
    },
    {
      name: 'no endpoints: the virtual server stays, with nothing behind it',
      input: { services: [web()] },
      expected: { 'TCP/10.96.0.20:80': '' },
    },
    {
      name: 'none ready: serving terminating endpoints, not the unready ones',
      input: { services: [web()], endpointSlices: [slice('web-1', 'web', http, [notReady('10.244.1.3'), servingTerminating('10.244.1.4'), servingTerminating('10.244.1.5')])] },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.4:8080,10.244.1.5:8080' },
    },
    {
      name: 'one ready: terminating ones are left out',
      input: { services: [web()], endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.3'), servingTerminating('10.244.1.4')])] },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.3:8080' },
    },
    {
      name: 'NodePort: the cluster IP and the node port on every node-port address',
      input: {
        services: [web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2')])],
        nodePortAddresses: ['172.31.0.2', '127.0.0.1'],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080', 'TCP/127.0.0.1:30080': '10.244.1.2:8080', 'TCP/172.31.0.2:30080': '10.244.1.2:8080' },
    },
    {
      name: 'LoadBalancer with no cloud: served as a NodePort on 0.0.0.0 by default',
      input: { services: [web({ type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30081 }] })], endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2')])] },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080', 'TCP/0.0.0.0:30081': '10.244.1.2:8080' },
    },
    {
      name: 'externalTrafficPolicy Local: node ports get only this node\'s endpoints, the cluster IP all',
      input: {
        services: [web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2', NODE), ready('10.244.2.2', 'node-b')])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080,10.244.2.2:8080', 'TCP/0.0.0.0:30080': '10.244.1.2:8080' },
    },
    {
      name: 'externalTrafficPolicy Local with no local endpoint: the node port has none',
      input: {
        services: [web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.2.2', 'node-b')])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.2.2:8080', 'TCP/0.0.0.0:30080': '' },
    },
    {
      name: 'internalTrafficPolicy Local: the cluster IP gets only this node\'s endpoints, the node port all',
      input: {
        services: [web({ type: 'NodePort', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2', NODE), ready('10.244.2.2', 'node-b')])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080', 'TCP/0.0.0.0:30080': '10.244.1.2:8080,10.244.2.2:8080' },
    },
    {
      name: 'Local policy, local endpoint only terminating: it is used (ready remote ones are not)',
      input: {
        services: [web({ internalTrafficPolicy: 'Local' })],
        endpointSlices: [slice('web-1', 'web', http, [servingTerminating('10.244.1.2', NODE), ready('10.244.2.2', 'node-b')])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080' },
    },
    {
      name: 'several slices merge; an endpoint in two slices counts once',
      input: {
        services: [web()],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2'), ready('10.244.1.3')]), slice('web-2', 'web', http, [ready('10.244.1.3'), ready('10.244.3.9')])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080,10.244.1.3:8080,10.244.3.9:8080' },
    },
    {
      name: 'an endpoint in two slices, local in one: local wins (Local policy sees it)',
      input: {
        services: [web({ internalTrafficPolicy: 'Local' })],
        endpointSlices: [slice('web-1', 'web', http, [ready('10.244.1.2')]), slice('web-2', 'web', http, [ready('10.244.1.2', NODE)])],
      },
      expected: { 'TCP/10.96.0.20:80': '10.244.1.2:8080' },
    },
    {
      name: 'ports matched by name and protocol; target ports come from the slice',
      input: {
        services: [
          service('dns', {
            clusterIP: '10.96.0.30',
            ports: [
              { name: 'dns', port: 53, protocol: 'UDP' },
              { name: 'dns-tcp', port: 53, protocol: 'TCP' },
              { name: 'metrics', port: 9153 },
            ],
          }),
        ],
        endpointSlices: [
          slice(
            'dns-1',
            'dns',
            [
              { name: 'dns', port: 5353, protocol: 'UDP' },
              { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
              { name: 'dns', port: 9999, protocol: 'TCP' },
            ],
            [ready('10.244.1.7')],
          ),
        ],
      },
      expected: { 'TCP/10.96.0.30:53': '10.244.1.7:5354', 'TCP/10.96.0.30:9153': '', 'UDP/10.96.0.30:53': '10.244.1.7:5353' },
    },
    {
      name: 'an unnamed single port matches the slice\'s unnamed port; slices of other Services and address types are ignored',
      input: {
        services: [service('one', { clusterIP: '10.96.0.40', ports: [{ port: 80 }] })],
        endpointSlices: [
          slice('one-1', 'one', [{ port: 8000 }], [ready('10.244.1.2')]),
          slice('one-6', 'one', [{ port: 8000 }], [ready('fd00::2')], 'IPv6'),
          slice('two-1', 'two', [{ port: 8000 }], [ready('10.244.9.9')]),
        ],
      },
      expected: { 'TCP/10.96.0.40:80': '10.244.1.2:8000' },
    },
    {
      name: 'headless, ExternalName, unallocated, another proxy\'s and SCTP: nothing',
      input: {
        services: [
          service('headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
          service('external', { type: 'ExternalName', externalName: 'example.com' }),
          service('pending', { ports: [{ port: 80 }] }),
          service('other', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] }, { 'service.kubernetes.io/service-proxy-name': 'elsewhere' }),
          service('sctp', { clusterIP: '10.96.0.51', ports: [{ port: 80, protocol: 'SCTP' }] }),
        ],
        endpointSlices: [slice('headless-1', 'headless', http, [ready('10.244.1.2')])],
      },
      expected: {},
    },
    {
      name: 'sessionAffinity ClientIP: default 10800 s, or the configured timeout',
      input: {
        services: [
          web({ sessionAffinity: 'ClientIP' }),
          service('api', { clusterIP: '10.96.0.21', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 443 }] }),
        ],
      },
      expected: { 'TCP/10.96.0.20:80': ' affinity=10800', 'TCP/10.96.0.21:443': ' affinity=60' },
    },
    {
      name: 'skipClusterIPs: no virtual server there, node ports still served',
      input: {
        services: [service('kube-dns', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] })],
        skipClusterIPs: new Set(['10.96.0.10']),
      },
      expected: { 'UDP/0.0.0.0:30053': '' },
    },
    {
      name: 'dual-stack clusterIPs: the IPv4 one is served',
      input: { services: [web({ clusterIP: 'fd00::20', clusterIPs: ['fd00::20', '10.96.0.22'] })] },
      expected: { 'TCP/10.96.0.22:80': '' },
    },
  ];

  test.each(cases)('$name', ({ input, expected }) => {
    expect(summary(input)).toEqual(expected);
  });

  test('cluster IPs to hold include skipped ones; services counted; a clashing key goes to the first Service', () => {
    const map = buildServiceMap({
      nodeName: NODE,
      services: [
        service('b-web', { type: 'NodePort', clusterIP: '10.96.0.2', ports: [{ port: 80, nodePort: 30080 }] }),
        service('a-web', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ port: 80, nodePort: 30080 }] }),
        service('kube-dns', { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] }),
        service('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      ],
      endpointSlices: [],
      skipClusterIPs: new Set(['10.96.0.10']),
    });
    expect(map.clusterIPs).toEqual(['10.96.0.1', '10.96.0.10', '10.96.0.2']);
    expect(map.serviceCount).toBe(2);
    expect(map.virtualServers.map((server) => `${server.key} ${server.servicePort} ${server.kind}`)).toEqual([
      'TCP/0.0.0.0:30080 shop/a-web:/TCP NodePort',
      'TCP/10.96.0.1:80 shop/a-web:/TCP ClusterIP',
      'TCP/10.96.0.2:80 shop/b-web:/TCP ClusterIP',
    ]);
    expect(map.conflicts).toEqual([{ key: 'TCP/0.0.0.0:30080', servicePort: 'shop/b-web:/TCP', heldBy: 'shop/a-web:/TCP' }]);
  });
});
