import type { EndpointAddress, EndpointSubset, Pod, Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { desiredSubsets, repackSubsets, subsetsEqual, truncateSubsets } from './subsets.js';

function pod(name: string, ip: string, options: { ready?: boolean; deleting?: boolean; httpPort?: number; hostname?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(options.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: 'node-a',
      ...(options.hostname === undefined ? {} : { hostname: options.hostname, subdomain: 'web' }),
      containers: [{ name: 'main', ports: [{ name: 'http', containerPort: options.httpPort ?? 8080 }] }],
    },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function service(spec: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  };
}

const ips = (addresses: EndpointAddress[] | undefined): string[] => (addresses ?? []).map((address) => address.ip);

describe('desiredSubsets', () => {
  test('ready pods are addresses, the others notReadyAddresses, terminating pods left out', () => {
    const subsets = desiredSubsets(service(), [pod('a', '10.0.0.2'), pod('b', '10.0.0.1', { ready: false }), pod('c', '10.0.0.3', { deleting: true })]);
    expect(subsets).toHaveLength(1);
    expect(ips(subsets[0]?.addresses)).toEqual(['10.0.0.2']);
    expect(ips(subsets[0]?.notReadyAddresses)).toEqual(['10.0.0.1']);
    expect(subsets[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subsets[0]?.addresses?.[0]).toEqual({ ip: '10.0.0.2', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } });
  });

  test('publishNotReadyAddresses lists every pod, terminating ones too, as ready', () => {
    const subsets = desiredSubsets(service({ publishNotReadyAddresses: true }), [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2', { deleting: true })]);
    expect(ips(subsets[0]?.addresses)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(subsets[0]?.notReadyAddresses).toBeUndefined();
  });

  test('a named targetPort is resolved per pod: pods with different container ports get different subsets', () => {
    const subsets = desiredSubsets(service(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { httpPort: 9090 }), pod('c', '10.0.0.3')]);
    expect(subsets.map((subset) => [ips(subset.addresses), subset.ports?.map((port) => port.port)])).toEqual([
      [['10.0.0.1', '10.0.0.3'], [8080]],
      [['10.0.0.2'], [9090]],
    ]);
  });

  test('a pod lacking a named port is left out for that port only', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'admin', port: 81, targetPort: 'admin', protocol: 'TCP' }] });
    const subsets = desiredSubsets(svc, [pod('a', '10.0.0.1')]);
    expect(subsets).toEqual([expect.objectContaining({ ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] })]);
  });

  test('a headless Service without ports publishes its pods with no ports, and their hostnames', () => {
    const subsets = desiredSubsets(service({ clusterIP: 'None', ports: [] }), [pod('a', '10.0.0.1', { hostname: 'a' })]);
    expect(subsets).toEqual([{ addresses: [{ ip: '10.0.0.1', hostname: 'a', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }] }]);
  });

  test("the address is the pod IP of the Service's family", () => {
    const base = pod('a', '10.0.0.1');
    const dual = { ...base, status: { ...base.status, podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } };
    expect(ips(desiredSubsets(service({ ipFamilies: ['IPv6'] }), [dual])[0]?.addresses)).toEqual(['fd00::1']);
    expect(ips(desiredSubsets(service(), [dual])[0]?.addresses)).toEqual(['10.0.0.1']);
  });
});

describe('repackSubsets', () => {
  const address = (ip: string): EndpointAddress => ({ ip, targetRef: { kind: 'Pod', uid: ip } });
  const http = { name: 'http', port: 80, protocol: 'TCP' as const };
  const https = { name: 'https', port: 443, protocol: 'TCP' as const };

  test('ports offered by exactly the same addresses share one subset', () => {
    const repacked = repackSubsets([
      { addresses: [address('10.0.0.1')], ports: [http] },
      { addresses: [address('10.0.0.1')], ports: [https] },
      { addresses: [address('10.0.0.2')], ports: [http] },
      { addresses: [address('10.0.0.2')], ports: [https] },
      { addresses: [address('10.0.0.3')], ports: [http] },
    ]);
    expect(repacked.map((subset) => [ips(subset.addresses), subset.ports?.map((port) => port.name)])).toEqual([
      [['10.0.0.1', '10.0.0.2', '10.0.0.3'], ['http']],
      [['10.0.0.1', '10.0.0.2'], ['https']],
    ]);
    const sameAddresses = repackSubsets([
      { addresses: [address('10.0.0.1')], ports: [https] },
      { addresses: [address('10.0.0.1')], ports: [http] },
    ]);
    expect(sameAddresses).toEqual([{ addresses: [address('10.0.0.1')], ports: [http, https] }]);
  });

  test('an address ready for a port stays ready for it; one address listed twice appears once', () => {
    const repacked = repackSubsets([
      { notReadyAddresses: [address('10.0.0.1')], ports: [http] },
      { addresses: [address('10.0.0.1')], ports: [http] },
      { addresses: [address('10.0.0.1')], ports: [http] },
    ]);
    expect(repacked).toEqual([{ addresses: [address('10.0.0.1')], ports: [http] }]);
  });

  test('the same IP from two pods is two addresses', () => {
    const repacked = repackSubsets([
      { addresses: [{ ip: '10.0.0.1', targetRef: { uid: 'x' } }], ports: [http] },
      { addresses: [{ ip: '10.0.0.1', targetRef: { uid: 'y' } }], ports: [http] },
    ]);
    expect(repacked[0]?.addresses).toHaveLength(2);
  });
});

describe('truncateSubsets', () => {
  const many = (prefix: string, count: number): EndpointAddress[] => Array.from({ length: count }, (_, i) => ({ ip: `${prefix}.${Math.floor(i / 250)}.${i % 250}` }));

  test('at most the maximum is kept: not-ready addresses are cut first, in proportion per subset', () => {
    const subsets: EndpointSubset[] = [
      { addresses: many('10.1', 4), notReadyAddresses: many('10.2', 6) },
      { addresses: many('10.3', 2), notReadyAddresses: many('10.4', 2) },
    ];
    const { subsets: cut, truncated } = truncateSubsets(subsets, 10);
    expect(truncated).toBe(true);
    // 6 ready stay; 4 not-ready places go 6/8 → ceil(3) and then the remaining 1.
    expect(cut.map((subset) => [subset.addresses?.length ?? 0, subset.notReadyAddresses?.length ?? 0])).toEqual([
      [4, 3],
      [2, 1],
    ]);
  });

  test('with more ready addresses than the maximum, ready ones are cut and not-ready ones dropped', () => {
    const subsets: EndpointSubset[] = [{ addresses: many('10.1', 9), notReadyAddresses: many('10.2', 3) }, { addresses: many('10.3', 3) }];
    const { subsets: cut } = truncateSubsets(subsets, 8);
    expect(cut.map((subset) => [subset.addresses?.length ?? 0, subset.notReadyAddresses?.length ?? 0])).toEqual([
      [6, 0],
      [2, 0],
    ]);
  });

  test('under the maximum nothing changes', () => {
    expect(truncateSubsets([{ addresses: many('10.1', 3) }], 3).truncated).toBe(false);
  });
});

describe('subsetsEqual', () => {
  test('order and pods’ resourceVersions do not matter; readiness, ports and addresses do', () => {
    const a: EndpointSubset[] = [{ addresses: [{ ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'a', uid: 'a', resourceVersion: '5' } }, { ip: '10.0.0.2' }], ports: [{ port: 80, protocol: 'TCP' }] }];
    const reordered: EndpointSubset[] = [{ ports: [{ port: 80 }], addresses: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'a', uid: 'a' } }] }];
    expect(subsetsEqual(a, reordered)).toBe(true);
    expect(subsetsEqual(a, [{ notReadyAddresses: a[0]?.addresses ?? [], ports: [{ port: 80 }] }])).toBe(false);
    expect(subsetsEqual(a, [{ addresses: a[0]?.addresses ?? [], ports: [{ port: 81 }] }])).toBe(false);
    expect(subsetsEqual([], undefined)).toBe(true);
  });
});
