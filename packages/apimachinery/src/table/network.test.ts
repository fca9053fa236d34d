import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './network.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const METADATA = { name: 'web', namespace: 'default', creationTimestamp: '2025-01-01T11:59:15Z' };

function service(spec: NonNullable<Service['spec']>, status: NonNullable<Service['status']> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: METADATA, spec, status };
}

describe('service table', () => {
  it('prints a ClusterIP service with its selector', () => {
    const web = service({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } });
    expect(servicePrinter.cells(web, NOW)).toEqual(['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '45s', 'app=web']);
  });

  it('prints node ports and protocols', () => {
    const nodePort = service({
      type: 'NodePort',
      clusterIPs: ['10.96.3.4'],
      ports: [
        { port: 80, nodePort: 30080, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    });
    expect(servicePrinter.cells(nodePort, NOW).slice(1, 5)).toEqual(['NodePort', '10.96.3.4', '<none>', '80:30080/TCP,53/UDP']);
  });

  it('prints <pending> for a LoadBalancer without ingress, then its addresses', () => {
    const spec: NonNullable<Service['spec']> = { type: 'LoadBalancer', clusterIPs: ['10.96.5.6'], ports: [{ port: 443, nodePort: 31443 }] };
    expect(servicePrinter.cells(service(spec), NOW)[3]).toBe('<pending>');
    const ingress = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }] } };
    const external = service({ ...spec, externalIPs: ['198.51.100.1'] }, ingress);
    expect(servicePrinter.cells(external, NOW)[3]).toBe('203.0.113.9,lb.example.com,198.51.100.1');
  });

  it('prints headless, ExternalName and portless services', () => {
    expect(servicePrinter.cells(service({ clusterIP: 'None', clusterIPs: ['None'], externalIPs: ['1.2.3.4'] }), NOW).slice(1, 7)).toEqual([
      'ClusterIP', 'None', '1.2.3.4', '<none>', '45s', '<none>',
    ]);
    expect(servicePrinter.cells(service({ type: 'ExternalName', externalName: 'db.example.com' }), NOW).slice(1, 4)).toEqual([
      'ExternalName', '<none>', 'db.example.com',
    ]);
  });
});

describe('endpoints table', () => {
  const endpoints = (subsets: Endpoints['subsets']): Endpoints => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: METADATA, ...(subsets ? { subsets } : {}) });
  const ips = (...list: string[]): { ip: string }[] => list.map((ip) => ({ ip }));

  it('prints ip:port pairs', () => {
    const cells = endpointsPrinter.cells(endpoints([{ addresses: ips('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }] }]), NOW);
    expect(cells).toEqual(['web', '10.0.0.1:80,10.0.0.2:80', '45s']);
  });

  it('lists three and counts the rest', () => {
    const subsets = [
      { addresses: ips('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }, { port: 443 }] },
      { addresses: ips('fd00::1'), ports: [{ port: 80 }] },
    ];
    expect(endpointsPrinter.cells(endpoints(subsets), NOW)[1]).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...');
  });

  it('prints bare IPs without ports, brackets IPv6, and <none> without subsets', () => {
    expect(endpointsPrinter.cells(endpoints([{ addresses: ips('10.0.0.7') }]), NOW)[1]).toBe('10.0.0.7');
    expect(endpointsPrinter.cells(endpoints([{ addresses: ips('fd00::1'), ports: [{ port: 8080 }] }]), NOW)[1]).toBe('[fd00::1]:8080');
    expect(endpointsPrinter.cells(endpoints(undefined), NOW)[1]).toBe('<none>');
  });
});

describe('endpointslice table', () => {
  const slice = (ports: EndpointSlice['ports'], addresses: string[][]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...METADATA, name: 'web-abc12' },
    addressType: 'IPv4',
    ...(ports ? { ports } : {}),
    endpoints: addresses.map((list) => ({ addresses: list })),
  });

  it('prints address type, ports and endpoints', () => {
    const cells = endpointSlicePrinter.cells(slice([{ name: 'http', port: 80, protocol: 'TCP' }], [['10.0.0.1'], ['10.0.0.2']]), NOW);
    expect(cells).toEqual(['web-abc12', 'IPv4', '80', '10.0.0.1,10.0.0.2', '45s']);
  });

  it('prints <unset> when empty and counts beyond three', () => {
    const many = slice([{ port: 1 }, { port: 2 }, { name: 'metrics' }, {}], [['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(endpointSlicePrinter.cells(many, NOW).slice(2, 4)).toEqual(['1,2,metrics + 1 more...', 'a,b,c + 2 more...']);
    expect(endpointSlicePrinter.cells(slice(undefined, []), NOW).slice(2, 4)).toEqual(['<unset>', '<unset>']);
    expect(endpointSlicePrinter.cells(slice([{}], []), NOW)[2]).toBe('*');
  });
});
